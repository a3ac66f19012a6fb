"""Hub folder conventions shared by loading, training checkpoints and uploads.

A model folder is diffusers' layout (`config.json` + `diffusion_pytorch_model[.variant].safetensors`,
or a `.safetensors.index.json` with its shards). The checks here read only a safetensors file's
header and size, so a truncated or corrupt file is named in one line without loading its tensors
(the format: https://huggingface.co/docs/safetensors, "Format"). `check_local_folder` and
`read_config` turn a bad local path or a missing config into one line before diffusers is asked.
`push_folder` is the one upload path (`ALAEModel.push_to_hub`, the trainer's `--push_to_hub`).
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from diffusers.utils import SAFE_WEIGHTS_INDEX_NAME, SAFETENSORS_WEIGHTS_NAME
from huggingface_hub import constants
from huggingface_hub.utils import HFValidationError, validate_repo_id

# Bytes per element of the safetensors dtypes (safetensors `Dtype`); unknown ones skip the size check.
_DTYPE_BYTES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "U16": 2,
    "I16": 2,
    "F16": 2,
    "BF16": 2,
    "U32": 4,
    "I32": 4,
    "F32": 4,
    "U64": 8,
    "I64": 8,
    "F64": 8,
}
_HEADER_LIMIT = 100_000_000  # safetensors refuses larger headers too


def bundled_checkpoints() -> Path:
    """The folder of the bundled models: `$ALAE_CHECKPOINTS` when set, else `checkpoints/` beside
    the `alae_hf` package, i.e. in the checkout or the Space folder the package runs from (a
    wheel installed elsewhere ships no models: set `ALAE_CHECKPOINTS` or pass a model)."""
    folder = os.environ.get("ALAE_CHECKPOINTS")
    return Path(folder) if folder else Path(__file__).resolve().parents[2] / "checkpoints"


def offline() -> bool:
    """Whether huggingface_hub runs offline (`HF_HUB_OFFLINE`, read by huggingface_hub itself)."""
    return bool(constants.HF_HUB_OFFLINE)


def _with_variant(name: str, variant: str | None) -> str:
    """diffusers' variant naming: `a.safetensors` -> `a.fp16.safetensors`, `a.safetensors.index.json` ->
    `a.safetensors.index.fp16.json`."""
    if not variant:
        return name
    parts = name.split(".")
    return ".".join(parts[:-1] + [variant, parts[-1]])


def safetensors_problem(path: str | os.PathLike) -> str | None:
    """What is wrong with a safetensors file (None: its header parses and its size matches it)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(8)
            length = int.from_bytes(head, "little") if len(head) == 8 else -1
            if length < 0 or length > min(size - 8, _HEADER_LIMIT):
                return f"{path} is truncated or corrupt: {size} bytes cannot hold its header"
            header = json.loads(handle.read(length))
    except OSError as err:
        return f"{path} cannot be read: {err.strerror or err}"
    except (UnicodeDecodeError, json.JSONDecodeError):
        return f"{path} is corrupt: its header is not JSON"
    if not isinstance(header, dict):
        return f"{path} is corrupt: its header is not a JSON object"
    end = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            begin, stop = (int(x) for x in info["data_offsets"])
            expected = math.prod(int(d) for d in info["shape"]) * _DTYPE_BYTES.get(
                info["dtype"], stop - begin
            )
        except (KeyError, TypeError, ValueError):
            return f"{path} is corrupt: bad header entry for {name!r}"
        if not 0 <= begin <= stop or stop - begin != expected:
            return f"{path} is corrupt: tensor {name!r} has {stop - begin} bytes for {expected}"
        end = max(end, stop)
    data = size - 8 - length
    if data != end:
        what = "truncated" if data < end else "corrupt"
        return f"{path} is {what}: {data} data bytes where its header describes {end}"
    return None


def config_problem(folder: str | os.PathLike) -> str | None:
    """What is wrong with a folder's `config.json` (None: it parses to a JSON object)."""
    path = Path(folder) / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"{path} is missing"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return f"{path} is not readable JSON ({type(err).__name__}: {err})"
    if not isinstance(config, dict):
        return f"{path} holds a JSON {type(config).__name__}, not an object"
    return None


def weights_problems(folder: str | os.PathLike, variant: str | None = None) -> list[str]:
    """Problems of a folder's safetensors weights (single file or index + shards); [] if none.

    A folder with only pickle (`.bin`) weights is refused: alae_hf loads safetensors only.
    """
    folder = Path(folder)
    single = folder / _with_variant(SAFETENSORS_WEIGHTS_NAME, variant)
    index = folder / _with_variant(SAFE_WEIGHTS_INDEX_NAME, variant)
    if index.is_file():
        try:
            shards = sorted(
                set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
            )
        except (
            OSError,
            UnicodeDecodeError,
            json.JSONDecodeError,
            KeyError,
            TypeError,
            AttributeError,
        ):
            return [f"{index} is not a readable safetensors index (JSON with a weight_map)"]
        missing = [s for s in shards if not (folder / s).is_file()]
        if missing:
            return [f"{index} lists missing shards: {', '.join(missing)}"]
        return [p for s in shards if (p := safetensors_problem(folder / s))]
    if single.is_file():
        problem = safetensors_problem(single)
        return [problem] if problem else []
    if any(folder.glob("*.bin")) or any(folder.glob("*.pt")) or any(folder.glob("*.ckpt")):
        return [
            f"{folder} holds only pickle weights (.bin/.pt); alae_hf loads safetensors only "
            f"({single.name}); convert them with safetensors first"
        ]
    return [f"{folder} has no {single.name} (nor {index.name})"]


def model_folder_problems(folder: str | os.PathLike, variant: str | None = None) -> list[str]:
    """Problems of a saved model folder (config.json and safetensors weights); [] if none."""
    folder = Path(folder)
    if not folder.is_dir():
        return [f"{folder} is missing or not a folder"]
    problem = config_problem(folder)
    return ([problem] if problem else []) + weights_problems(folder, variant)


def push_folder(
    folder: str | os.PathLike,
    repo_id: str,
    token: str | None = None,
    commit_message: str = "Upload",
    ignore_patterns: Sequence[str] | None = None,
    private: bool | None = None,
) -> str:
    """Create `repo_id` (if needed) and upload `folder` to it; returns the repo id.

    Raises:
        OSError: offline (`HF_HUB_OFFLINE`), or the Hub refused or could not be reached (one line).
    """
    from huggingface_hub import HfApi

    if offline():
        raise OSError(
            f"cannot push to {repo_id}: HF_HUB_OFFLINE is set (unset it to upload {folder})"
        )
    api = HfApi(token=token)
    try:
        repo_id = api.create_repo(repo_id, private=private, exist_ok=True).repo_id
        api.upload_folder(
            repo_id=repo_id,
            folder_path=os.fspath(folder),
            commit_message=commit_message,
            ignore_patterns=list(ignore_patterns) if ignore_patterns else None,
        )
    except Exception as err:  # noqa: BLE001 - the HTTP backend's errors are not all OSError; all become one line
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise OSError(f"could not push {folder} to {repo_id}: {first}") from err
    return repo_id


# ---- local model folders ----------------------------------------------------------------------
# What a model folder carries besides config, weights and card: direction sets and the evaluation report.
FOLDER_EXTRAS = ("directions", "report")


def copy_folder_extras(source: str | os.PathLike | None, target: str | os.PathLike) -> list[str]:
    """Copy `directions/` and `report/` of the local folder a model was loaded from (its config's
    `_name_or_path`) into `target`, so that saving a loaded model keeps them; files already in
    `target` win. Returns the copied folder names (none for a model built in memory or loaded
    from the Hub, or when source and target are the same folder)."""
    if (
        not source
        or not os.path.isdir(source)
        or os.path.realpath(source) == os.path.realpath(target)
    ):
        return []
    copied = []
    for name in FOLDER_EXTRAS:
        if os.path.isdir(os.path.join(source, name)):
            shutil.copytree(
                os.path.join(source, name),
                os.path.join(target, name),
                dirs_exist_ok=True,
                copy_function=lambda src, dst: (
                    None if os.path.exists(dst) else shutil.copy2(src, dst)
                ),
            )
            copied.append(name)
    return copied


def read_config(
    cls: Any, path: str, kwargs: dict[str, Any], what: str | None = None
) -> dict[str, Any]:
    """`config.json` of a folder or Hub repo (read by `cls.load_config`, a diffusers `ConfigMixin`),
    or an OSError that says what is missing; `what` names the expected model (default: `cls`'s name)."""
    what = what or cls.__name__
    keys = (
        "cache_dir",
        "force_download",
        "local_files_only",
        "token",
        "revision",
        "subfolder",
        "proxies",
    )
    try:
        return cls.load_config(path, **{k: kwargs[k] for k in keys if k in kwargs})
    except (OSError, ValueError) as err:
        raise OSError(_missing_message(path, err, what)) from err


def _missing_message(path: str, err: Exception, what: str) -> str:
    reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if os.path.isdir(path):
        return f"{path} is not a {what} folder: no readable config.json ({reason})"
    hint = " HF_HUB_OFFLINE is set, so only cached repos can load." if offline() else ""
    return f"could not load {path!r}: not a local folder, and not a reachable or cached Hub repo.{hint} ({reason})"


def _looks_local(path: str) -> bool:
    """A string that can only be a local path (not a Hub repo id such as `user/name`)."""
    if path.startswith(("/", ".", "~")) or "\\" in path or os.path.isabs(path):
        return True
    try:
        validate_repo_id(path)
    except HFValidationError:
        return True
    return False


def check_local_folder(path: str, subfolder: str | None = None) -> str | None:
    """The local model folder `path` (+ `subfolder`) names, checked; None for a Hub repo id.

    Raises:
        OSError: a local path that does not exist, a file, a symlink loop or dangling link, or a
            `config.json` that is not a JSON object (one line each).
    """
    if not os.path.lexists(path):
        if _looks_local(path):
            raise OSError(f"{path} does not exist (no such local folder)")
        return None  # a Hub repo id
    try:
        real = os.path.realpath(path, strict=True)
    except OSError as err:
        why = "a symlink loop" if err.errno == errno.ELOOP else "a link to nothing"
        raise OSError(f"{path} cannot be opened: it is {why}") from None
    if not os.path.isdir(real):
        raise OSError(
            f"{path} is a file; pass the folder that holds config.json and the safetensors weights"
        )
    folder = os.path.join(real, subfolder) if subfolder else real
    if os.path.exists(
        os.path.join(folder, "config.json")
    ):  # else read_config names what is missing
        problem = config_problem(folder)
        if problem:
            raise OSError(problem)
    return folder
