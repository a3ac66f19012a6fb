"""What a request may ask for and the checks that say so, without the UI: the server-side limits and
choices, and `InputError`, whose message names the field and is shown to the user as is.

The UI sliders use the same ranges; clients can send anything, so every action checks its raw
values here (`alae_hf.app.actions`, `alae_hf.app.encoding`, `alae_hf.app.mlp_ui`). Seeds and ψ
come from the model's config module (`alae_hf.models.config`), stated there once. Uploads are read here
too: a file that is not an image, or too large to decode, is an `InputError`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any, Literal, overload

import numpy as np
import torch
from PIL import Image

from ..imaging import ImageError, to_model_tensor
from ..latent.styles import layer_range, parse_ranges
from ..models.base import ALAEModel
from ..models.config import SEED_MAX, TRUNCATION_PSI_RANGE

PSI_RANGE = TRUNCATION_PSI_RANGE
MAX_IMAGES = 16  # images per sample / encode request
MAX_MIX = 8  # sources or destinations in the mixing grid
MAX_K = 10  # direction sliders
ALPHA_MAX = 5.0  # slider range in σ units
STEPS_RANGE = (3, 15)  # traversal frames
# Inversion steps per request (~50 ms per step and image on 2 CPU cores, 64 px).
MAX_REFINE_STEPS = 200
# What every tab that encodes uploads starts with (+8.7 dB over E(x) on the default).
REFINE_STEPS = 25
UPLOAD_PIXELS = 40_000_000  # refuse larger images from their header, before decoding
LAYER_CHOICES = ["all", "coarse", "middle", "fine", "custom"]
MIX_CHOICES = ["coarse", "middle", "fine", "all", "paper rows", "custom"]
PAPER_ROWS = ["coarse"] * 3 + ["middle"] * 2 + ["fine"]  # StyleGAN fig. 3 / ALAE stylemix.py
# "image seed": every image's noise comes from its own seed, as `model.sample(1, seed=s)`.
NOISE_CHOICES = ["image seed", "fixed seed", "random", "off"]


class InputError(ValueError):
    """A request the user can fix; the message names the field and is shown verbatim."""


@overload
def check_number(name: str, value: Any, low: float, high: float, integer: Literal[True]) -> int: ...
@overload
def check_number(
    name: str, value: Any, low: float, high: float, integer: Literal[False] = ...
) -> float: ...
def check_number(
    name: str, value: Any, low: float, high: float, integer: bool = False
) -> float | int:
    """A finite number in [low, high] (integers must be whole), else an InputError naming the range."""
    ok = (
        isinstance(value, (int, float, np.number))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )
    if ok and integer and float(value) != int(value):
        ok = False
    if not ok or not low <= value <= high:
        kind = "a whole number" if integer else "a number"
        raise InputError(f"{name} must be {kind} in [{_bound(low)}, {_bound(high)}], got {value!r}")
    return int(value) if integer else float(value)


def _bound(value: float) -> str:
    """A range bound as people write it: 4294967295, not 4.29497e+09; 0.5 stays 0.5."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """`value` if it is one of `choices`, else an InputError listing them."""
    if value not in choices:
        raise InputError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def parse_seeds(text: Any, name: str, limit: int = MAX_MIX) -> list[int]:
    """'1, 2, 5-8' -> [1, 2, 5, 6, 7, 8] (at most `limit` seeds)."""
    if text is None or str(text).strip() == "":
        return []
    try:
        ranges = parse_ranges(str(text))
    except ValueError as err:
        raise InputError(f"{name}: {err}; write seeds like '1, 2, 5-8'") from None
    seeds: list[int] = []
    for first, last in ranges:
        if last > SEED_MAX:
            raise InputError(f"{name}: bad range {first}-{last} (seeds are 0-{SEED_MAX})")
        seeds += range(first, min(last, first + limit) + 1)
        if len(seeds) > limit:
            raise InputError(f"{name}: at most {limit} seeds, got more")
    return seeds


def check_layers(model: ALAEModel, choice: Any, custom: Any) -> list[int]:
    """Style indices of a layer choice (LAYER_CHOICES; "custom" reads the `custom` text)."""
    choice = check_choice("Layers", choice, LAYER_CHOICES)
    spec = str(custom or "").strip() if choice == "custom" else choice
    if not spec:
        raise InputError("Enter the custom styles, e.g. '0-3' or '4,5,8-9'.")
    try:
        return layer_range(model, spec)
    except ValueError as err:
        raise InputError(str(err)) from err


def check_alphas(alphas: Sequence[Any]) -> list[float]:
    """Slider values in σ units, at most MAX_K of them, each in ±ALPHA_MAX."""
    if len(alphas) > MAX_K:
        raise InputError(f"at most {MAX_K} slider values, got {len(alphas)}")
    return [check_number(f"Slider {i + 1}", a, -ALPHA_MAX, ALPHA_MAX) for i, a in enumerate(alphas)]


def as_list(files: Any) -> list:
    """One upload payload or several, as a list."""
    return [files] if isinstance(files, (dict, str)) else list(files or [])


def upload_path(payload: Any, what: str = "image") -> tuple[str, str]:
    """(path, display name) of an uploaded file from a gradio FileData payload or a path."""
    if isinstance(payload, dict):
        path, name = payload.get("path"), payload.get("orig_name") or payload.get("path")
    else:
        path = name = getattr(payload, "path", payload)
    if not path or not isinstance(path, str) or not os.path.isfile(path):
        raise InputError(f"Upload an {what} first.")
    return path, os.path.basename(str(name))


def image_tensor(path: str, name: str, model: ALAEModel) -> torch.Tensor:
    """Model input [1, C, R, R] for an uploaded file, refusing huge images from their header."""
    try:
        with Image.open(path) as image:
            width, height = image.size
    except Exception as err:  # noqa: BLE001 - any Pillow failure means "not an image"
        raise InputError(
            f"{name} is not an image this app can read ({type(err).__name__})."
        ) from err
    if width * height > UPLOAD_PIXELS:
        raise InputError(
            f"{name} is {width}x{height}; images up to {UPLOAD_PIXELS // 1_000_000} megapixels "
            "are accepted. Please downscale it first."
        )
    try:
        return to_model_tensor(path, model.arch.resolution, model.arch.channels)
    except ImageError as err:
        raise InputError(f"{name}: {err}") from err
