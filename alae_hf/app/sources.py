"""Where the app's models come from: the bundled ones (`checkpoints/*` of a checkout or a Space),
local folders, Hub repo ids (downloaded through the Hub cache, only the files a model needs), and
how the UI names them (never by a server path).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..models.hub import bundled_checkpoints, offline

BUNDLED = bundled_checkpoints()  # models shipped with a checkout / the Space
HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*")


def bundled_models(root: Path = BUNDLED) -> dict[str, Path]:
    """name -> folder of the models shipped in `root` (each a folder with a config.json)."""
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir()) if (p / "config.json").is_file()}


def model_kind(folder: Path) -> str:
    """The model class a folder's config.json names (`_class_name`; StyleALAE when it names none),
    read without loading the model; "" when it has no readable config."""
    try:
        config = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    return str(config.get("_class_name") or "StyleALAE") if isinstance(config, dict) else ""


def display_name(key: str) -> str:
    """A model key as the UI shows it: bundled names and Hub ids as they are, a local folder by its name."""
    if os.path.isabs(key) or key.startswith((".", "~")) or key.count("/") > 1 or os.path.isdir(key):
        return f"{Path(key).name} (local folder)"
    return key


def resolve_folder(source: str) -> Path:
    """A local folder as is; a Hub repo id through the Hub cache (only the files a model needs)."""
    if not source:
        raise ValueError("enter a Hub repo id (owner/name) or a local folder")
    if os.path.isdir(source):
        return Path(source)
    if os.path.exists(source) or source.startswith((".", "/", "~")) or source.count("/") > 1:
        raise OSError(
            f"{source!r} is not a folder and does not look like a Hub repo id (owner/name)"
        )
    return download(source)


def download(source: str) -> Path:
    """A Hub repo id through the Hub cache (only the files a model needs)."""
    from huggingface_hub import snapshot_download

    try:
        return Path(
            snapshot_download(
                source, allow_patterns=["config.json", "*.safetensors", "README.md", "directions/*"]
            )
        )
    except Exception as err:  # noqa: BLE001 - hub errors come in many classes; the message is what matters
        hint = " (offline: HF_HUB_OFFLINE is set and the repo is not cached)" if offline() else ""
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise OSError(
            f"{source!r} is not a local folder, and could not download it from the Hub{hint}: "
            f"{first}"
        ) from err
