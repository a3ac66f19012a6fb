"""Editing StyleALAE latents: truncation, style mixing and real-image edits (`edits`), learned
Voynov–Babenko directions (`learned`, `python -m alae_hf.editing.learned`), inversion
(`inversion`). Interpolation, sliders, `render`, SeFa, GANSpace and the `Directions` type live one
layer down, in `alae_hf.latent`, and are offered here too.

The public editing API is importable from here: `from alae_hf.editing import sefa, render`.
"""

from ..latent.directions import Directions, list_directions
from ..latent.ops import (
    apply_direction,
    apply_directions,
    direction_offset,
    lerp_w,
    render,
    shared_noise,
    slerp_z,
    sweep,
    traversal,
)
from ..latent.spectral import ganspace, sefa
from ..latent.styles import layer_range
from .edits import EditResult, edit_image, encode_images, mixing_grid, seed_to_w_plus, style_mix
from .inversion import InversionResult, invert

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
