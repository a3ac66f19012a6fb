"""Hub folder conventions shared by loading, training checkpoints and uploads.

A model folder is diffusers' layout (`config.json` + `diffusion_pytorch_model[.variant].safetensors`,
or a `.safetensors.index.json` with its shards). The checks here read only a safetensors file's
header and size, so a truncated or corrupt file is named in one line without loading its tensors
(the format: https://huggingface.co/docs/safetensors, "Format"). `push_folder` is the one upload
path (`StyleALAE.push_to_hub`, the trainer's `--push_to_hub`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

from diffusers.utils import SAFE_WEIGHTS_INDEX_NAME, SAFETENSORS_WEIGHTS_NAME
from huggingface_hub import constants

# Bytes per element of the safetensors dtypes (safetensors `Dtype`); unknown ones skip the size check.
_DTYPE_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2, "I16": 2, "F16": 2, "BF16": 2,
                "U32": 4, "I32": 4, "F32": 4, "U64": 8, "I64": 8, "F64": 8}
_HEADER_LIMIT = 100_000_000  # safetensors refuses larger headers too


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
            expected = math.prod(int(d) for d in info["shape"]) * _DTYPE_BYTES.get(info["dtype"], stop - begin)
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
            shards = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError):
            return [f"{index} is not a readable safetensors index (JSON with a weight_map)"]
        missing = [s for s in shards if not (folder / s).is_file()]
        if missing:
            return [f"{index} lists missing shards: {', '.join(missing)}"]
        return [p for s in shards if (p := safetensors_problem(folder / s))]
    if single.is_file():
        problem = safetensors_problem(single)
        return [problem] if problem else []
    if any(folder.glob("*.bin")) or any(folder.glob("*.pt")) or any(folder.glob("*.ckpt")):
        return [f"{folder} holds only pickle weights (.bin/.pt); alae_hf loads safetensors only "
                f"({single.name}); convert them with safetensors first"]
    return [f"{folder} has no {single.name} (nor {index.name})"]


def model_folder_problems(folder: str | os.PathLike, variant: str | None = None) -> list[str]:
    """Problems of a saved model folder (config.json and safetensors weights); [] if none."""
    folder = Path(folder)
    if not folder.is_dir():
        return [f"{folder} is missing or not a folder"]
    problem = config_problem(folder)
    return ([problem] if problem else []) + weights_problems(folder, variant)


def push_folder(folder: str | os.PathLike, repo_id: str, token: str | None = None, commit_message: str = "Upload",
                ignore_patterns: Sequence[str] | None = None, private: bool | None = None) -> str:
    """Create `repo_id` (if needed) and upload `folder` to it; returns the repo id.

    Raises:
        OSError: offline (`HF_HUB_OFFLINE`), or the Hub refused or could not be reached (one line).
    """
    from huggingface_hub import HfApi

    if offline():
        raise OSError(f"cannot push to {repo_id}: HF_HUB_OFFLINE is set (unset it to upload {folder})")
    api = HfApi(token=token)
    try:
        repo_id = api.create_repo(repo_id, private=private, exist_ok=True).repo_id
        api.upload_folder(repo_id=repo_id, folder_path=os.fspath(folder), commit_message=commit_message,
                          ignore_patterns=list(ignore_patterns) if ignore_patterns else None)
    except Exception as err:  # noqa: BLE001 - the HTTP backend's errors are not all OSError; all become one line
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise OSError(f"could not push {folder} to {repo_id}: {first}") from err
    return repo_id
