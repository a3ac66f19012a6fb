"""Training checkpoints on disk: atomic writes, discovery, rotation, resume resolution.

A checkpoint is the folder `checkpoint-<step>`; it is written as `checkpoint-<step>.tmp-<id>`,
marked with a `COMPLETE` file, and only then renamed, so a run killed while saving never leaves
a folder that `latest` would pick up half-written (the file layout is in README "Checkpoints").
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
TEMPORARY = re.compile(r"^checkpoint-\d+\.tmp-[0-9a-f]+$")
COMPLETE = "COMPLETE"


def complete_checkpoints(output_dir: str | os.PathLike) -> list[tuple[int, Path]]:
    """(step, folder) of finished checkpoints, oldest first; temp and unmarked folders are ignored."""
    root = Path(output_dir)
    found = [(int(m.group(1)), d) for d in root.iterdir() if (m := CHECKPOINT.match(d.name))] if root.is_dir() else []
    return sorted((s, d) for s, d in found if (d / COMPLETE).is_file())


@contextmanager
def atomic_checkpoint(output_dir: str | os.PathLike, step: int) -> Iterator[Path]:
    """Yield a temporary folder to write into; on success mark it complete and rename it to
    `checkpoint-<step>` (replacing a stale folder of that name). On error the temp folder is removed."""
    out = Path(output_dir)
    tmp, final = out / f"checkpoint-{step}.tmp-{uuid.uuid4().hex[:8]}", out / f"checkpoint-{step}"
    tmp.mkdir(parents=True)
    try:
        yield tmp
        (tmp / COMPLETE).write_text(f"step {step}\n")
        if final.exists():  # re-training past an older resume point
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def remove_stale_temporaries(output_dir: str | os.PathLike) -> int:
    """Delete temp folders left by a run killed while saving; returns how many."""
    root = Path(output_dir)
    stale = [d for d in root.iterdir() if TEMPORARY.match(d.name)] if root.is_dir() else []
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    return len(stale)


def rotate(output_dir: str | os.PathLike, limit: int | None) -> None:
    """Keep only the newest `limit` finished checkpoints (all if limit is None or 0)."""
    if limit:
        for _, folder in complete_checkpoints(output_dir)[:-limit]:
            shutil.rmtree(folder, ignore_errors=True)


def resolve_resume(spec: str | None, output_dir: str | os.PathLike) -> Path | None:
    """`latest` -> newest finished checkpoint (None if there is none); a folder -> itself, if finished.

    Raises:
        ValueError: the folder is not a finished checkpoint.
    """
    if spec in (None, ""):
        return None
    if spec == "latest":
        done = complete_checkpoints(output_dir)
        return done[-1][1] if done else None
    path = Path(spec)
    if not (path / COMPLETE).is_file():
        raise ValueError(f"{path} is not a finished checkpoint folder (no {COMPLETE} marker)")
    return path
