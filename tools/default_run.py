"""Start (or continue) this session's segment of the bundled default's training.

    python tools/default_run.py --minutes 110 [--out runs/default64] [--threads 2] [--dry-run] [-- EXTRA FLAGS]

The default accumulates its images across sessions in the repository: a session resumes its run
folder if this machine still has one with a checkpoint, and otherwise starts a new segment from the
shipped model with `--init_from` (a new machine keeps nothing outside the repository). Either way
it trains with the recipe of docs/recipe.md for `--minutes` of wall time and ends with a checkpoint;
then evaluate `OUT/checkpoint-N/ema`, judge it with `tools/ship_rule.py` and, if it passes, ship it
with `tools/make_default.py --segment ...` (docs/recipe.md, "Every session").
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

from alae_hf.training import checkpoints as ckpt

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "checkpoints" / "alae-synthetic-faces-64"
# docs/recipe.md: the warm-start recipe measured on the shipped default (fp32: bf16 only where the CPU has it natively)
# (--compile: same maths, ~+17% images on the CPUs measured; it trains eagerly where no C++ compiler exists)
RECIPE = ["--train_data_dir", "synthetic:faces", "--learning_rate", "0.0025", "--train_batch_size", "32",
          "--ema_rampup", "0.05", "--r1_interval", "4", "--real_recon_weight", "10",
          "--mixed_precision", "no", "--compile", "--checkpointing_steps", "250", "--sample_every_kimg", "16"]


def command(out: Path, minutes: float, extra: list[str]) -> list[str]:
    """The trainer's command line: resume `out` if it holds a checkpoint, else start from the shipped model."""
    script = [sys.executable, str(ROOT / "train_accelerate.py"), "--output_dir", str(out),
              "--max_train_minutes", f"{minutes:g}"]
    found = ckpt.complete_checkpoints(out)
    if found:  # the run's own seed: the data order goes on where it stopped
        seed = json.loads((found[-1][1] / "training_state.json").read_text())["train_config"]["seed"]
        return script + RECIPE + ["--resume_from_checkpoint", "latest", "--seed", str(seed)] + extra
    state = json.loads((SHIPPED / "training_state.json").read_text())
    seed = state.get("images_in_all", state.get("images_seen", 0))  # a new data order for every segment
    return script + RECIPE + ["--init_from", str(SHIPPED), "--seed", str(seed)] + extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, required=True,
                        help="wall time; end at least 40 minutes before the session does")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "default64")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--dry-run", action="store_true", help="print the command only")
    parser.add_argument("extra", nargs="*", help="more trainer flags, after --")
    args = parser.parse_args()
    cmd = command(args.out, args.minutes, args.extra)
    print(shlex.join(cmd), flush=True)
    if not args.dry_run:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
        os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()
