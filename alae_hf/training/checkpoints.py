"""Training checkpoints on disk: atomic writes, validation, discovery, rotation, resume resolution.

A checkpoint is the folder `checkpoint-<step>` holding `model/` and `ema/` (diffusers folders),
`optimizers.pt`, one `rng_state_<rank>.pt` per process, `training_state.json` and the `COMPLETE`
marker (README "Checkpoints and resuming"). The guarantees, which hold for a kill at any moment:

* A checkpoint is written as `checkpoint-<step>.tmp-<id>`, every file and folder is fsynced, the
  marker is written (and fsynced) last, and only then is the folder renamed into place.
* A folder loses its marker before anything else in it is removed, so a folder with a marker is
  always whole. A *complete* temporary folder is a finished checkpoint: start-up promotes it
  (it replaces a same-step folder, which is older), and only unmarked temporaries are deleted.
* Replacing `checkpoint-<step>` happens only once its replacement is complete.
* `latest` picks the newest checkpoint that validates and names each newer one it skips and why.
* Rotation never removes the newest checkpoint, nor the newest valid finite one.

Official counterpart: podgorskiy/ALAE `checkpointer.py` (which writes in place, without these).
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import torch

from ..models.hub import model_folder_problems

CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
TEMPORARY = re.compile(r"^checkpoint-(\d+)\.tmp-[0-9a-f]+$")
COMPLETE = "COMPLETE"
REQUIRED_STATE_KEYS = (
    "step",
    "images_seen",
    "lod",
    "ema_updates",
    "num_processes",
    "arch",
    "schedule",
)
Log = Callable[[str], None]


class CheckpointWriteError(OSError):
    """A checkpoint could not be written (disk full, permissions); the message says which one is
    the last good checkpoint."""


# ---- durable file operations -------------------------------------------------------------------
def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    """Flush every file under `folder`, then every folder bottom-up, to disk."""
    for root, _, files in os.walk(folder, topdown=False):
        for name in files:
            with open(os.path.join(root, name), "rb") as handle:
                os.fsync(handle.fileno())
        _fsync_dir(Path(root))


def _remove(folder: Path) -> None:
    """Delete a checkpoint folder, its marker first (so a kill midway leaves an unmarked folder)."""
    marker = folder / COMPLETE
    if marker.exists():
        marker.unlink()
        _fsync_dir(folder)
    shutil.rmtree(folder)


def _mark_complete(folder: Path, step: int) -> None:
    with open(folder / COMPLETE, "w", encoding="utf-8") as handle:
        handle.write(f"step {step}\n")
        handle.flush()
        os.fsync(handle.fileno())
    _fsync_dir(folder)


def _promote(tmp: Path, final: Path) -> None:
    """Move a complete temporary folder into place, replacing an older `final` only now."""
    if final.exists():
        _remove(final)
    os.replace(tmp, final)
    _fsync_dir(final.parent)


# ---- discovery ---------------------------------------------------------------------------------
def complete_checkpoints(output_dir: str | os.PathLike) -> list[tuple[int, Path]]:
    """(step, folder) of finished checkpoints, oldest first; temp and unmarked folders are ignored."""
    root = Path(output_dir)
    found = (
        [(int(m.group(1)), d) for d in root.iterdir() if (m := CHECKPOINT.match(d.name))]
        if root.is_dir()
        else []
    )
    return sorted((s, d) for s, d in found if (d / COMPLETE).is_file())


def remove_stale_temporaries(output_dir: str | os.PathLike, log: Log = print) -> int:
    """Finish what a run killed while saving left behind; returns how many folders were deleted.

    A temporary folder with its marker is a finished checkpoint and is promoted to
    `checkpoint-<step>` (the kill came between marking it and renaming it); one without is deleted.
    """
    root = Path(output_dir)
    temporaries = (
        sorted(d for d in root.iterdir() if TEMPORARY.match(d.name)) if root.is_dir() else []
    )
    removed = 0
    for tmp in temporaries:
        found = TEMPORARY.match(tmp.name)
        if found and (tmp / COMPLETE).is_file():
            final = root / f"checkpoint-{found.group(1)}"
            log(f"completing the interrupted save of {final.name} (from {tmp.name})")
            _promote(tmp, final)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            removed += 1
    return removed


# ---- writing -----------------------------------------------------------------------------------
@contextmanager
def atomic_checkpoint(output_dir: str | os.PathLike, step: int) -> Iterator[Path]:
    """Yield a temporary folder to write `checkpoint-<step>` into; on success make it durable,
    mark it complete and move it into place (replacing an older folder of that name only then).

    On error the temporary folder is removed and nothing else is touched; a full disk or another
    OS error is raised as `CheckpointWriteError` naming the last good checkpoint.
    """
    out = Path(output_dir)
    tmp, final = out / f"checkpoint-{step}.tmp-{uuid.uuid4().hex[:8]}", out / f"checkpoint-{step}"
    tmp.mkdir(parents=True)
    try:
        yield tmp
        _fsync_tree(tmp)
        _mark_complete(tmp, step)
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        if is_write_error(err):
            raise CheckpointWriteError(write_failure(f"checkpoint-{step}", out, err)) from err
        raise
    _promote(tmp, final)


# torch.save reports a full disk as RuntimeError("[enforce fail at inline_container.cc] ... unexpected
# pos" / "file write failed") and safetensors as SafetensorError("Error while serializing: I/O error:
# No space left on device (os error 28)"), neither of them an OSError(ENOSPC).
_TORCH_WRITE_FAILURES = ("inline_container", "file write failed", "unexpected pos")
_OS_ERROR = re.compile(r"\(os error (\d+)\)")


def is_write_error(err: BaseException) -> bool:
    """Whether `err` is a failed file write (full disk, permissions) from the OS, torch or safetensors."""
    text = str(err)
    if isinstance(err, OSError):
        return True
    if isinstance(err, RuntimeError) and any(s in text for s in _TORCH_WRITE_FAILURES):
        return True
    return type(err).__name__ == "SafetensorError" and (
        "I/O error" in text or _OS_ERROR.search(text) is not None
    )


def write_failure(what: str, out: Path, err: BaseException) -> str:
    """One line for a failed write of `what` in `out`: the reason (the disk is full, ...) and the
    last good checkpoint to resume from."""
    text = str(err)
    code = _OS_ERROR.search(text)
    full = (
        getattr(err, "errno", None) == errno.ENOSPC
        or (code is not None and int(code.group(1)) == errno.ENOSPC)
        or "write failed" in text
        or "unexpected pos" in text
    )
    try:
        full = full or shutil.disk_usage(out).free < 1 << 20
    except OSError:
        pass
    done = complete_checkpoints(out)
    last = (
        f"the last good checkpoint is {done[-1][1]}" if done else "there is no earlier checkpoint"
    )
    reason = (
        "the disk is full"
        if full
        else (getattr(err, "strerror", None) or (text.splitlines() or [""])[0])
    )
    return f"could not write {what} in {out}: {reason}; {last}"


# ---- validation --------------------------------------------------------------------------------
def _load_problem(path: Path, what: type) -> str | None:
    if not path.is_file():
        return f"{path.name} is missing"
    try:
        value = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as err:  # noqa: BLE001 - torch raises many types for a damaged zip/pickle
        return f"{path.name} is unreadable or truncated ({type(err).__name__}: {str(err).splitlines()[0][:160]})"
    return (
        None
        if isinstance(value, what)
        else f"{path.name} holds a {type(value).__name__}, not a {what.__name__}"
    )


def _state_problems(folder: Path) -> tuple[list[str], dict]:
    path = folder / "training_state.json"
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [f"{path.name} is missing"], {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return [f"{path.name} is not readable JSON ({type(err).__name__})"], {}
    if not isinstance(state, dict):
        return [f"{path.name} is not a JSON object"], {}
    missing = [k for k in REQUIRED_STATE_KEYS if k not in state]
    bad = [
        k
        for k in ("step", "images_seen", "lod", "ema_updates", "num_processes")
        if k in state
        and (isinstance(state[k], bool) or not isinstance(state[k], int) or state[k] < 0)
    ]
    problems = [f"{path.name} lacks {', '.join(missing)}"] if missing else []
    problems += [f"{path.name}: {k} must be a non-negative integer, got {state[k]!r}" for k in bad]
    if state.get("num_processes") == 0:
        problems.append(f"{path.name}: num_processes is 0")
    return problems, state


def validate_checkpoint(path: str | os.PathLike, require_rng: bool = True) -> list[str]:
    """Problems that keep `path` from being resumed ([] = valid), without loading the weights.

    Checks the marker; `model/` and `ema/` (config.json parses to an object; every safetensors
    file, sharded or not, has a parsable header and the size it describes); `optimizers.pt` and
    each `rng_state_<rank>.pt` load with `torch.load(weights_only=True)`; `training_state.json`
    has the required keys. `require_rng=False` accepts missing RNG files (a resume that re-seeds).
    """
    folder = Path(path)
    if not folder.is_dir():
        return [f"{folder} is not a folder"]
    problems = (
        [] if (folder / COMPLETE).is_file() else [f"no {COMPLETE} marker (an unfinished save)"]
    )
    for sub in ("model", "ema"):
        problems += [f"{sub}/: {p}" for p in model_folder_problems(folder / sub)]
    problems += [p for p in [_load_problem(folder / "optimizers.pt", dict)] if p]
    state_problems, state = _state_problems(folder)
    problems += state_problems
    ranks = state["num_processes"] if isinstance(state.get("num_processes"), int) else 0
    expected = {folder / f"rng_state_{r}.pt" for r in range(ranks)}
    for rng in sorted(expected | set(folder.glob("rng_state_*.pt"))):
        if rng.is_file() or require_rng:
            problems += [p for p in [_load_problem(rng, dict)] if p]
    return problems


# ---- resuming ----------------------------------------------------------------------------------
def resolve_resume(
    spec: str | None, output_dir: str | os.PathLike, log: Log = print, require_rng: bool = True
) -> Path | None:
    """The checkpoint to resume from: None for no spec; for `latest` the newest checkpoint that
    validates (None if there are no checkpoints), logging `skipping checkpoint-N: <reason>` for each
    newer one; otherwise the named folder (or `output_dir/<name>`), if it validates.

    Raises:
        ValueError: the named folder does not exist, is a saved model or is not a valid
            checkpoint; or `latest` finds checkpoints but none that validates.
    """
    if spec in (None, ""):
        return None
    if spec == "latest":
        found = complete_checkpoints(output_dir)
        for _, folder in reversed(found):
            problems = validate_checkpoint(folder, require_rng)
            if not problems:
                return folder
            log(f"skipping {folder.name}: {'; '.join(problems)}")
        if found:  # starting over would set every one of them aside: the user decides that
            raise ValueError(
                f"no checkpoint in {output_dir} can be resumed (see above); repair or move them, "
                f"or start a new run in another --output_dir"
            )
        return None
    path = Path(spec)
    if not path.exists() and (Path(output_dir) / spec).exists():
        path = Path(output_dir) / spec
    if not path.exists():
        raise ValueError(f"checkpoint folder {path} does not exist")
    if (path / "config.json").is_file() and not (path / "model").is_dir():
        raise ValueError(
            f"{path} is a saved model, not a training checkpoint (it has no optimizer state to "
            f"continue); start a new run from its weights with --init_from {path}"
        )
    problems = validate_checkpoint(path, require_rng)
    if problems:
        raise ValueError(f"{path} is not a usable checkpoint: {'; '.join(problems)}")
    return path


def abandon_newer(output_dir: str | os.PathLike, step: int, log: Log = print) -> Path | None:
    """Move the checkpoints newer than `step` aside, into `output_dir/abandoned-<UTC time>/`.

    Resuming from an older checkpoint starts a new branch; left in place, the abandoned branch's
    newer checkpoints would be what the next `latest` resumes from. Returns the folder (None if
    nothing was newer).
    """
    root = Path(output_dir)
    newer = (
        sorted(
            (int(m.group(1)), d)
            for d in root.iterdir()
            if (m := CHECKPOINT.match(d.name)) and int(m.group(1)) > step
        )
        if root.is_dir()
        else []
    )
    if not newer:
        return None
    target = root / f"abandoned-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S.%fZ')}"
    target.mkdir()
    for _, folder in newer:
        os.replace(folder, target / folder.name)
    _fsync_dir(root)
    names = ", ".join(d.name for _, d in newer)
    log(f"resuming at step {step}: moved the newer {names} of the abandoned run into {target}")
    return target


def _finite(folder: Path) -> bool:
    """Whether a checkpoint was written outside a non-finite streak (by its training_state.json)."""
    try:
        return not json.loads((folder / "training_state.json").read_text(encoding="utf-8")).get(
            "nonfinite_run"
        )
    except (OSError, ValueError, AttributeError):
        return False


def rotate(output_dir: str | os.PathLike, limit: int | None) -> None:
    """Keep the newest `limit` finished checkpoints (all if limit is None or 0), and always the
    newest one and the newest one that validates and was finite, wherever it is in the list."""
    if not limit:
        return
    done = complete_checkpoints(output_dir)
    keep = {folder for _, folder in done[-max(limit, 1) :]}
    for _, folder in reversed(done):  # newest first: usually the first one checked is the keeper
        if _finite(folder) and not validate_checkpoint(folder):
            keep.add(folder)
            break
    for _, folder in done:
        if folder not in keep:
            _remove(folder)
