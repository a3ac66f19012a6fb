"""Seconds for each console command's `--help`, as a user runs it: a fresh interpreter that imports
the entry point named in pyproject.toml's [project.scripts] and calls it with `--help` (the
console script's own wrapper adds nothing measurable). Target: under 1 s each.

    python bench/cli_help.py [--repeats 3] [--out bench/results/cli_help.json]

Best of `--repeats` runs (the first one pays for a cold file cache).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 1.0


def scripts() -> dict[str, str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


def help_seconds(entry: str) -> float:
    module, function = entry.split(":")
    code = f"from {module} import {function}; {function}(['--help'])"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0 or "usage" not in done.stdout.lower():
        raise SystemExit(f"{entry} --help failed: {done.stderr.strip()[-300:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=None, help="also write the results as JSON")
    args = parser.parse_args()
    results = {}
    for name, entry in sorted(scripts().items()):
        results[name] = min(help_seconds(entry) for _ in range(args.repeats))
        flag = "ok" if results[name] < TARGET_S else f"over {TARGET_S:.0f} s"
        print(f"{name:16s} {results[name]:6.2f} s  {flag}")
    if args.out:
        meta = {"python": platform.python_version(), "machine": platform.machine(),
                "cpu_count": os.cpu_count(), "target_s": TARGET_S}
        Path(args.out).write_text(json.dumps({"meta": meta, "seconds": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
