"""Latent editing on a StyleALAE: truncation, style mixing, interpolation, sliders, real images.

Shapes: z and w are [N, Z]; w+ is [N, 2L, Z] (style k drives resolution 4·2^(k//2)). Every
function returns new tensors and leaves its inputs untouched; nothing draws hidden noise.

Order of operations (as genforce/sefa `interface/utils.py` and StyleGAN fig. 3):
  z -> F -> w -> truncate (ψ, first `cutoff` styles) -> style mix -> add edits -> G.
Truncating *before* editing makes a slider's strength independent of ψ. Encoded real images
(`edit_image`, `encode_images`) are never truncated. Style mixing follows StyleGAN fig. 3 and
ALAE `style_mixing/stylemix.py`; directions come from `alae_hf.editing.directions` (SeFa, GANSpace)
and `alae_hf.editing.learned`.

Noise: the model's one convention (`alae_hf.model.NoiseSpec`, resolved by `model.noise_maps`).
`render` and what calls it draw *batch-constant* noise from an int seed or a `torch.Generator`:
one set of maps shared by every image of the call, so a slider move or a grid cell never changes
the noise; a list of seeds gives image i the maps of seed i; None renders without noise; explicit
maps are used as given. For one image this is exactly `model.sample`'s noise:
`render(model, seed_to_w_plus(model, 1, s), noise=s)` equals `model.sample(1, seed=s)`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from PIL import Image

from ..base import ALAEModel
from ..imaging import make_grid, tensor_to_pil, to_model_tensor
from ..model import NoiseSpec
from .directions import Directions
from .styles import LayerSpec, layer_range

ImageLike = str | os.PathLike | bytes | Image.Image
Alphas = Mapping[int, float] | Sequence[float]


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


# ---- interpolation ---------------------------------------------------------------------------
def lerp_w(w0: torch.Tensor, w1: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """Linear interpolation in W or W+ (StyleGAN PPL uses lerp in W): w0 + t·(w1 − w0)."""
    t = torch.as_tensor(t, dtype=w0.dtype, device=w0.device)
    return torch.lerp(w0, w1, t)


def slerp_z(z0: torch.Tensor, z1: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """Spherical interpolation of z along the last axis (falls back to lerp for parallel vectors)."""
    t = torch.as_tensor(t, dtype=z0.dtype, device=z0.device)
    cos = (
        torch.nn.functional.normalize(z0, dim=-1) * torch.nn.functional.normalize(z1, dim=-1)
    ).sum(-1, True)
    omega = torch.acos(cos.clamp(-1.0, 1.0))
    sin = torch.sin(omega)
    parallel = sin.abs() < 1e-6
    safe = torch.where(parallel, torch.ones_like(sin), sin)
    out = (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / safe
    return torch.where(parallel, torch.lerp(z0, z1, t), out)


def traversal(
    model: ALAEModel, start: torch.Tensor, end: torch.Tensor, n_frames: int, space: str = "w"
) -> torch.Tensor:
    """w+ for `n_frames` evenly spaced frames from `start` to `end`: [n_frames, N, 2L, Z].

    Args:
        start, end: z [N, Z] (space "z": slerp, then F) or w [N, Z] / w+ (space "w": lerp).
        n_frames: >= 2; the first and last frames are the endpoints.
        space: "w" or "z". Truncate and edit each frame afterwards if wanted.
    """
    if n_frames < 2:
        raise ValueError(f"n_frames must be >= 2, got {n_frames}")
    if space not in ("w", "z"):
        raise ValueError(f"space must be 'w' or 'z', got {space!r}")
    frames = []
    for t in torch.linspace(0, 1, n_frames).tolist():
        if space == "z":
            frames.append(model.to_w_plus(model.map(slerp_z(start, end, t))))
        else:
            frames.append(lerp_w(model.to_w_plus(start), model.to_w_plus(end), t))
    return torch.stack(frames)


# ---- applying directions ---------------------------------------------------------------------
def direction_offset(
    directions: Directions, alphas: Alphas, units: str = "sigma"
) -> torch.Tensor | None:
    """Σ_k α_k·(σ_k)·v_k as float64 [Z] on the directions' device, or None if every α is 0."""
    if units not in ("sigma", "raw"):
        raise ValueError(f"units must be 'sigma' or 'raw', got {units!r}")
    items = alphas.items() if isinstance(alphas, Mapping) else enumerate(alphas)
    pairs = [(int(k), float(a)) for k, a in items if a != 0]
    for k, a in pairs:
        if not 0 <= k < directions.num_directions or not math.isfinite(a):
            raise ValueError(
                f"direction index must be in [0, {directions.num_directions - 1}] and alpha finite, "
                f"got {k} and {a}"
            )
    if not pairs:
        return None
    index = torch.tensor([k for k, _ in pairs], device=directions.vectors.device)
    coef = torch.tensor([a for _, a in pairs], dtype=torch.float64, device=index.device)
    if units == "sigma":
        coef = coef * directions.sigma[index].double()
    return coef @ directions.vectors[index].double()


def apply_directions(
    w_plus: torch.Tensor,
    directions: Directions,
    alphas: Alphas,
    layers: LayerSpec | None = None,
    units: str = "sigma",
) -> torch.Tensor:
    """Several sliders at once: w+ plus Σ_k α_k·σ_k·v_k on the chosen styles only.

    Args:
        w_plus: [N, 2L, Z] (e.g. from `model.truncate` or `model.to_w_plus`).
        directions: the direction set.
        alphas: {index: α} or a sequence of α (one per leading direction); zeros are skipped.
        layers: styles to edit (default `directions.layers`).
        units: "sigma" (α in σ_k units) or "raw" (α in W units along the unit vector).

    Returns a new tensor; styles outside `layers` are bit-identical copies, and with every
    α = 0 the whole tensor is.
    """
    if w_plus.ndim != 3 or w_plus.shape[-1] != directions.latent_size:
        raise ValueError(
            f"expected w+ [N, 2L, {directions.latent_size}] (see model.to_w_plus), "
            f"got {tuple(w_plus.shape)}"
        )
    if layers is None:
        directions.check_compatible(directions.latent_size, w_plus.shape[1], "this w+")
    indices = directions.layers if layers is None else layer_range(w_plus.shape[1], layers)
    out = torch.clone(w_plus, memory_format=torch.contiguous_format)
    offset = direction_offset(directions, alphas, units)
    if offset is not None:
        out[:, indices] += offset.to(out.device, out.dtype)
    return out


def apply_direction(
    w_plus: torch.Tensor,
    directions: Directions,
    index: int,
    alpha: float,
    layers: LayerSpec | None = None,
    units: str = "sigma",
) -> torch.Tensor:
    """One slider: w+ plus α·σ_k·v_k (or α·v_k for `units="raw"`) on `layers` (default
    `directions.layers`); α = 0 returns an identical copy. See `apply_directions`."""
    return apply_directions(w_plus, directions, {index: alpha}, layers, units)


def sweep(
    w_plus: torch.Tensor,
    directions: Directions,
    index: int,
    alphas: Sequence[float],
    layers: LayerSpec | None = None,
    units: str = "sigma",
) -> torch.Tensor:
    """One direction at several strengths (a traversal strip): [len(alphas), N, 2L, Z].

    `render(model, sweep(...), noise)` renders it directly (frame-major: all N images at the
    first strength, then the next)."""
    return torch.stack(
        [apply_direction(w_plus, directions, index, a, layers, units) for a in alphas]
    )


# ---- rendering and real images ---------------------------------------------------------------
def shared_noise(model: ALAEModel, noise: NoiseSpec, batch: int = 1) -> list[torch.Tensor] | None:
    """The maps `render` uses for `batch` images: batch-constant from a seed or a generator
    (see the module docstring), per image from a list of seeds, explicit maps as given."""
    return model.noise_maps(noise, batch, batch_constant=True)


@torch.no_grad()
def render(
    model: ALAEModel, w_plus: torch.Tensor, noise: NoiseSpec = None, batch_size: int = 8
) -> list[Image.Image]:
    """Synthesize w [N, Z], w+ [N, 2L, Z] or a stack of w+ [A, N, 2L, Z] (`sweep`'s output,
    frame-major) into PIL images, `batch_size` at a time. Noise: see the module docstring."""
    if w_plus.ndim == 4:
        w_plus = w_plus.flatten(0, 1)
    styles = model.to_w_plus(w_plus)
    maps = shared_noise(model, noise, styles.shape[0])
    images = []
    for i in range(0, styles.shape[0], batch_size):
        chunk = (
            None
            if maps is None
            else [m if m.shape[0] == 1 else m[i : i + batch_size] for m in maps]
        )
        images += tensor_to_pil(model.synthesize(styles[i : i + batch_size], noise=chunk))
    return images


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
