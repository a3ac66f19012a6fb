"""Assemble the folder to upload as the Hugging Face Space (the Space cannot pip-install alae_hf
from this repository, so the package is vendored into the upload).

    python spaces/prepare_upload.py                       # -> build/space/
    python spaces/prepare_upload.py --no-checkpoint       # model on the Hub: set ALAE_MODEL in the Space
    python spaces/prepare_upload.py --push owner/space    # and upload it (network + token)

Layout of build/space/:
    app.py            <- the repository's app.py (entry point, app_file in README.md; it starts
                         `alae_hf.app.server.main`, which reads the Space's SPACE_ID, ALAE_MODEL, ALAE_DEVICE)
    alae_hf/          <- the package (no caches)
    checkpoints/alae-synthetic-faces-64/   <- the bundled default (config, safetensors, card, directions)
    README.md, requirements.txt            <- spaces/README.md (front matter), spaces/requirements.txt
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPACES = ROOT / "spaces"
CHECKPOINT = Path("checkpoints") / "alae-synthetic-faces-64"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".DS_Store")


def prepare(out: Path, checkpoint: bool = True) -> Path:
    """Write the upload folder (replacing `out`); returns it."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    shutil.copy2(ROOT / "app.py", out / "app.py")
    shutil.copy2(SPACES / "README.md", out / "README.md")
    shutil.copy2(SPACES / "requirements.txt", out / "requirements.txt")
    shutil.copytree(ROOT / "alae_hf", out / "alae_hf", ignore=IGNORE)
    if checkpoint:
        source = ROOT / CHECKPOINT
        if not (source / "config.json").is_file():
            raise SystemExit(f"{source} is missing (train it first, or pass --no-checkpoint and set ALAE_MODEL "
                             "to a Hub repo id in the Space)")
        shutil.copytree(source, out / CHECKPOINT, ignore=IGNORE)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "space")
    parser.add_argument("--no-checkpoint", action="store_true", help="do not bundle the default checkpoint")
    parser.add_argument("--push", metavar="OWNER/SPACE", help="upload the folder to this Space (creates it)")
    args = parser.parse_args()
    out = prepare(args.out, checkpoint=not args.no_checkpoint)
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    print(f"{out}: {len(files)} files")
    if args.push:
        from huggingface_hub import HfApi

        api = HfApi()
        api.create_repo(args.push, repo_type="space", space_sdk="gradio", exist_ok=True)
        api.upload_folder(repo_id=args.push, repo_type="space", folder_path=str(out),
                          commit_message="Update the alae_hf demo")
        print(f"uploaded to https://huggingface.co/spaces/{args.push}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
