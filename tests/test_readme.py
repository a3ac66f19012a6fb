"""README.md's Python code runs as written: every ```python block, in order, in one interpreter (a
reader's session), from a folder that looks like the repository's root (its `checkpoints/`, the
bundled models), without writing into those models.

The only lines left out are the ones README.md marks `# network` (calls that need the Hugging Face
Hub, which tests never reach); anything else a block needs must be in the block or an earlier one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
NETWORK = "# network"
HUB_CALLS = ("push_to_hub", "snapshot_download", "hf_hub_download", "upload_folder")
BUNDLED = [ROOT / "checkpoints" / name for name in ("alae-synthetic-faces-64", "alae-digits-mlp")]

RUNNER = """
import json, sys, traceback
blocks = json.load(open(sys.argv[1]))
namespace = {"__name__": "__main__"}
for number, code in enumerate(blocks, 1):
    try:
        exec(compile(code, f"README.md python block {number}", "exec"), namespace)
    except BaseException:
        traceback.print_exc()
        print(f"README.md python block {number} failed:\\n{code}", file=sys.stderr)
        sys.exit(1)
    print(f"block {number} ran", flush=True)
"""


def python_blocks(text: str) -> list[str]:
    """The ```python blocks of a markdown text, in order."""
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def _as_run(block: str) -> str:
    return "\n".join(line for line in block.splitlines() if not line.rstrip().endswith(NETWORK))


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_only_network_lines_are_marked():
    """The marker is for Hub calls only: it cannot hide a line that fails for another reason."""
    marked = [line for block in python_blocks(README.read_text(encoding="utf-8")) for line in block.splitlines()
              if line.rstrip().endswith(NETWORK)]
    assert marked and all(any(call in line for call in HUB_CALLS) for line in marked), marked


def test_every_python_block_runs_as_written(tmp_path):
    missing = [str(p) for p in BUNDLED if not (p / "config.json").is_file()]
    if missing:
        pytest.skip(f"the bundled models the README uses are missing: {missing}")
    blocks = [_as_run(b) for b in python_blocks(README.read_text(encoding="utf-8"))]
    assert len(blocks) >= 4, "README.md lost its python blocks"
    (tmp_path / "checkpoints").symlink_to(ROOT / "checkpoints", target_is_directory=True)
    (tmp_path / "blocks.json").write_text(json.dumps(blocks))
    (tmp_path / "runner.py").write_text(RUNNER)
    before = _tree(ROOT / "checkpoints")
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "runner.py", "blocks.json"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=1200)
    assert done.returncode == 0, f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    assert done.stdout.count("ran") == len(blocks)
    assert _tree(ROOT / "checkpoints") == before, "a README block wrote into the bundled models"
    assert (tmp_path / "my-directions" / "directions" / "my_sefa.safetensors").is_file()
    assert (tmp_path / "out" / "config.json").is_file() and (tmp_path / "mixing.png").is_file()
