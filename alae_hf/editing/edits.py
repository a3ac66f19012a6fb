"""Latent editing on a StyleALAE: truncation, style mixing, real images (encode, reconstruct, edit).

Shapes: z and w are [N, Z]; w+ is [N, 2L, Z] (style k drives resolution 4·2^(k//2)). Every
function returns new tensors and leaves its inputs untouched; nothing draws hidden noise.

Order of operations (as genforce/sefa `interface/utils.py` and StyleGAN fig. 3):
  z -> F -> w -> truncate (ψ, first `cutoff` styles) -> style mix -> add edits -> G.
Truncating *before* editing makes a slider's strength independent of ψ. Encoded real images
(`edit_image`, `encode_images`) are never truncated. Style mixing follows StyleGAN fig. 3 and
ALAE `style_mixing/stylemix.py`; interpolation, sliders and `render` are in `alae_hf.latent.ops`,
directions come from `alae_hf.latent.spectral` (SeFa, GANSpace) and `alae_hf.editing.learned`.

Noise: as `render`'s (`alae_hf.latent.ops`, whose docstring states it): batch-constant maps from
an int seed or a `torch.Generator`, one set shared by every image of the call; a list of seeds
gives image i the maps of seed i; None renders without noise; explicit maps are used as given.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from PIL import Image

from ..imaging import make_grid, tensor_to_pil, to_model_tensor
from ..latent.directions import Directions
from ..latent.ops import Alphas, apply_directions, render
from ..latent.styles import LayerSpec, layer_range
from ..models.base import ALAEModel
from ..models.style import NoiseSpec

ImageLike = str | os.PathLike | bytes | Image.Image


# ---- truncation and mixing -------------------------------------------------------------------
def seed_to_w_plus(
    model: ALAEModel,
    n: int,
    seed: int | Sequence[int],
    psi: float | None = None,
    cutoff: int | None = None,
) -> torch.Tensor:
    """Truncated w+ [n, 2L, Z] of `n` samples from a seed: z (`model.seed_latents`, the
    NVlabs/official `RandomState` convention) -> F -> `model.truncate` (apply truncation before
    edits, never to encoded real images; see the module docstring).

    Args:
        model: the model.
        n: number of samples (z rows are drawn in order: n = 1 gets the first z of any n > 1).
        seed: the `numpy.random.RandomState` seed, or n seeds (one sample each, as the app does).
        psi, cutoff: truncation (see `model.truncate`); None takes the config's defaults.
    """
    return model.truncate(model.map(model.seed_latents(n, seed)), psi, cutoff)


def style_mix(
    model: ALAEModel, w_dst: torch.Tensor, w_src: torch.Tensor, layers: LayerSpec
) -> torch.Tensor:
    """w+ of `w_dst` with the styles of `w_src` on `layers` (exact copies); [N, 2L, Z].

    Args:
        model: the model (for the number of styles).
        w_dst: destinations, w [N, Z] or w+ [N, 2L, Z].
        w_src: sources, same batch size or 1 (broadcast).
        layers: a layer spec (see `layer_range`), e.g. "coarse" or "0-3".
    """
    dst, src = model.to_w_plus(w_dst), model.to_w_plus(w_src)
    mask = torch.zeros(model.num_styles, 1, dtype=torch.bool, device=dst.device)
    mask[layer_range(model, layers)] = True
    return torch.where(mask, src, dst)


def mixing_grid(
    model: ALAEModel,
    sources_w: torch.Tensor,
    destinations_w: torch.Tensor,
    row_layers: LayerSpec | Sequence[LayerSpec],
    noise: NoiseSpec = None,
    batch_size: int = 8,
) -> Image.Image:
    """The style-mixing figure of StyleGAN fig. 3: sources across the top, destinations down
    the left, and cell (i, j) = destination i with source j's styles on row i's layers.

    Args:
        sources_w: [S, Z] or [S, 2L, Z] (already truncated if wanted).
        destinations_w: [D, Z] or [D, 2L, Z].
        row_layers: one layer spec used for every row, or a list with exactly one spec per
            destination row (D specs; a list of ints is a single spec, e.g. [0, 1, 2, 3]; the
            official figure uses ["coarse"] * 3 + ["middle"] * 2 + ["fine"] for 6 rows).
        noise: see the module docstring; the same maps are used for every cell.

    Raises:
        ValueError: a list of specs whose length is not the number of destination rows.
    """
    src, dst = model.to_w_plus(sources_w), model.to_w_plus(destinations_w)
    per_row = isinstance(row_layers, (list, tuple)) and not all(
        isinstance(r, int) for r in row_layers
    )
    specs = list(row_layers) if per_row else [row_layers] * dst.shape[0]
    if len(specs) != dst.shape[0]:
        raise ValueError(
            f"row_layers needs one layer spec per destination row (or one spec for all rows): got "
            f"{len(specs)} specs for {dst.shape[0]} destination rows"
        )
    cells = [
        style_mix(model, dst[i : i + 1].expand(src.shape[0], -1, -1), src, spec)
        for i, spec in enumerate(specs)
    ]
    images = render(model, torch.cat([src, dst, *cells]), noise, batch_size)
    n_src, blank = src.shape[0], Image.new(images[0].mode, images[0].size, "white")
    rows = [[blank, *images[:n_src]]]
    for i in range(dst.shape[0]):
        start = n_src + dst.shape[0] + i * n_src
        rows.append([images[n_src + i], *images[start : start + n_src]])
    return make_grid([image for row in rows for image in row], columns=n_src + 1)


# ---- real images ----------------------------------------------------------------------------
@torch.no_grad()
def encode_images(
    model: ALAEModel, images: ImageLike | Sequence[ImageLike] | torch.Tensor, batch_size: int = 16
) -> torch.Tensor:
    """Encode images (paths, bytes, PIL images of any mode/size, or a tensor [N, C, r, r] in
    [-1, 1]) to w [N, Z]. Images are centre-cropped and resized to the model's resolution."""
    if isinstance(images, torch.Tensor):
        x = images
    else:
        items = (
            [images] if isinstance(images, (str, os.PathLike, bytes, Image.Image)) else list(images)
        )
        if not items:
            raise ValueError("encode_images needs at least one image")
        x = torch.cat(
            [to_model_tensor(i, model.arch.resolution, model.arch.channels) for i in items]
        )
    x = x.to(model.device, model.dtype)
    return torch.cat(
        [model.encode(x[i : i + batch_size]) for i in range(0, x.shape[0], batch_size)]
    )


@dataclass
class EditResult:
    """What `edit_image` returns: the model's view of the input, its reconstruction, the edit,
    the encoded w [1, Z] and the edited w+ [1, 2L, Z]."""

    original: Image.Image
    reconstruction: Image.Image
    edited: Image.Image
    w: torch.Tensor
    w_plus: torch.Tensor


@torch.no_grad()
def edit_image(
    model: ALAEModel,
    image: ImageLike,
    directions: Directions | None = None,
    alphas: Alphas | None = None,
    layers: LayerSpec | None = None,
    noise: NoiseSpec = None,
    units: str = "sigma",
) -> EditResult:
    """Encode a real image, reconstruct it, and apply slider edits (no truncation).

    Args:
        image: a path, bytes or PIL image in any mode (RGBA, L, 16-bit, ...) and size.
        directions, alphas, layers, units: as in `apply_directions`; without them the edit
            is the reconstruction.
        noise: see the module docstring; the reconstruction and the edit share it.
    """
    if alphas and directions is None:
        raise ValueError("alphas were given without directions")
    x = to_model_tensor(image, model.arch.resolution, model.arch.channels)
    w = encode_images(model, x)
    base = model.to_w_plus(w)
    edited = (
        base.clone()
        if directions is None or not alphas
        else apply_directions(base, directions, alphas, layers, units)
    )
    recon, out = render(model, torch.cat([base, edited]), noise)
    return EditResult(tensor_to_pil(x)[0], recon, out, w, edited)
