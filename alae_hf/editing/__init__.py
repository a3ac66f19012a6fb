"""Editing StyleALAE latents: truncation, style mixing, interpolation and edits along directions
(`edits`), SeFa and GANSpace directions and their folder format (`directions`), learned
Voynov–Babenko directions (`learned`, `python -m alae_hf.editing.learned`).

The public editing API is importable from here: `from alae_hf.editing import sefa, render`.
"""

from .directions import Directions, ganspace, list_directions, sefa
from .edits import (
    EditResult,
    apply_direction,
    apply_directions,
    direction_offset,
    edit_image,
    encode_images,
    lerp_w,
    mixing_grid,
    render,
    seed_to_w_plus,
    shared_noise,
    slerp_z,
    style_mix,
    sweep,
    traversal,
)
from .inversion import InversionResult, invert
from .styles import layer_range

__all__ = [
    "Directions",
    "EditResult",
    "apply_direction",
    "apply_directions",
    "direction_offset",
    "edit_image",
    "encode_images",
    "ganspace",
    "layer_range",
    "lerp_w",
    "list_directions",
    "mixing_grid",
    "render",
    "sefa",
    "seed_to_w_plus",
    "shared_noise",
    "slerp_z",
    "style_mix",
    "sweep",
    "traversal",
    "InversionResult",
    "invert",
]
