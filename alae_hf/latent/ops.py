"""Operations on StyleALAE latents that editing and evaluation share: interpolation, moves along
directions (sliders and sweeps), and rendering w+ to images.

Shapes: z and w are [N, Z]; w+ is [N, 2L, Z] (style k drives resolution 4·2^(k//2)). Every
function returns new tensors and leaves its inputs untouched; nothing draws hidden noise.
Edits are added after truncation (genforce/sefa `interface/utils.py` and StyleGAN fig. 3; see
`alae_hf.editing.edits`); directions come from `alae_hf.latent.spectral` (SeFa, GANSpace) and
`alae_hf.editing.learned`.

Noise: the model's one convention (`alae_hf.models.style.NoiseSpec`, resolved by `model.noise_maps`).
`render` and what calls it draw *batch-constant* noise from an int seed or a `torch.Generator`:
one set of maps shared by every image of the call, so a slider move or a grid cell never changes
the noise; a list of seeds gives image i the maps of seed i; None renders without noise; explicit
maps are used as given. For one image this is exactly `model.sample`'s noise:
`render(model, seed_to_w_plus(model, 1, s), noise=s)` equals `model.sample(1, seed=s)`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from PIL import Image

from ..imaging import tensor_to_pil
from ..models.base import ALAEModel
from ..models.style import NoiseSpec
from .directions import Directions
from .styles import LayerSpec, layer_range

Alphas = Mapping[int, float] | Sequence[float]


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


# ---- rendering ------------------------------------------------------------------------------
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
