"""Encoder-initialised inversion: refine E(x) by optimising w (or w+) so that G(w) matches x.

The practice follows two papers:

- Image2StyleGAN (Abdal, Qin, Wonka, ICCV 2019): optimise a latent code with Adam on a pixel
  MSE plus a perceptual (feature) loss; the extended space w+ (one style per layer) reconstructs
  far better than a single w.
- In-Domain GAN Inversion (Zhu, Shen, Zhao, Zhou, ECCV 2020): start the optimisation from the
  encoder's code instead of the mean latent, so a few dozen steps suffice and the result stays
  near the region the encoder (and the generator) knows; optionally keep it there with the
  domain regulariser ‖w − E(G(w))‖² (`domain_weight`).

StyleALAE has an encoder trained jointly with G, so E(x) is a natural starting point
(rosinality's `projector.py` instead starts at the mean latent and needs ~1000 steps). The feature loss uses the shipped attribute network
(`alae_hf.evaluation.attributes`), which plays LPIPS's role for the synthetic faces; real LPIPS-VGG
is added only if the `lpips` package and its VGG weights are already on disk (never downloaded).
"""

from __future__ import annotations

import functools
import importlib.util
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from ..evaluation.attributes import load_attribute_net
from ..imaging import psnr

if TYPE_CHECKING:
    from ..models.base import ALAEModel
from ..models.style import NoiseSpec

__all__ = ["InversionResult", "MAX_STEPS", "invert"]

MAX_STEPS = 1000
# Inputs may overshoot [-1, 1] by float round-off (e.g. uint8 -> float conversions, resampling).
RANGE_TOLERANCE = 1e-3


@dataclass
class InversionResult:
    """What `invert` returns (all tensors detached, on the model's device).

    Attributes:
        w: refined codes, [N, Z] for space "w" or [N, 2L, Z] for "w+" (feed them to
            `model.synthesize` or the editing functions).
        w_encoder: the starting point E(x) in the same shape (w broadcast to w+ for "w+").
        losses: mean total loss over the batch per evaluation: `losses[0]` at E(x),
            `losses[k]` after k Adam steps (length steps + 1).
        reconstruction: G(w) [N, C, R, R] clamped to [-1, 1].
        psnr_before, psnr_after: per-image PSNR (dB, on the [0, 1] scale) of G(E(x)) and G(w).
        loss_terms: the terms of the objective that were used and their weights.
        space: "w" or "w+"; steps: Adam steps taken.
    """

    w: torch.Tensor
    w_encoder: torch.Tensor
    losses: list[float]
    reconstruction: torch.Tensor
    psnr_before: list[float]
    psnr_after: list[float]
    loss_terms: dict[str, float] = field(default_factory=dict)
    space: str = "w+"
    steps: int = 0


def invert(
    model: ALAEModel,
    images: torch.Tensor,
    steps: int = 50,
    space: str = "w+",
    lr: float = 0.5,
    pixel_weight: float = 1.0,
    feature_weight: float = 0.01,
    lpips_weight: float = 0.0,
    domain_weight: float = 0.0,
    noise: NoiseSpec = None,
    feature_net: torch.nn.Module | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> InversionResult:
    """Invert images into the model's latent space, starting from the encoder's code.

    Starts at w₀ = E(x) (In-Domain GAN Inversion) and runs `steps` Adam steps on
    `pixel_weight · MSE(G(w), x) + feature_weight · MSE(φ(G(w)), φ(x))`, φ = the shipped
    attribute net's 128-d features (Image2StyleGAN's pixel + perceptual objective). The model's
    weights are frozen for the call and their `requires_grad` flags restored afterwards; nothing
    else about the model changes. Per image, the code with the lowest loss seen is returned, so
    the result is never worse than E(x) on the objective.

    Args:
        model: a `StyleALAE`; runs on its device and dtype.
        images: [N, C, R, R] in [-1, 1] at the model's resolution and channel count.
        steps: Adam steps in [0, 1000]; 0 returns the encoder's code unchanged.
        space: "w+" (one style per layer: the most faithful, Image2StyleGAN §3) or "w" (one
            style for all layers: closer to the encoder's space, so edits behave as on samples).
        lr: Adam learning rate in w units. Adam's steps are ~lr per coordinate, so scale it with
            the spread of w: 0.5 (~0.15 of the default model's per-coordinate std of 3.5) gave
            the best PSNR after 25-100 steps in `bench/inversion.py`; a constant rate beat a
            cosine ramp-down there.
        pixel_weight: weight of the pixel MSE (the PSNR objective).
        feature_weight: weight of the attribute-net feature MSE (keeps the face's factors; 0
            skips loading the net). At 0.01 the term is ~1/3 of the loss at E(x); it lifts the
            factor agreement of x and G(w) to ~1 for a ~0.5 dB PSNR cost (`bench/inversion.py`).
            For 1-channel models the image is repeated to RGB.
        lpips_weight: weight of LPIPS-VGG, used only if `lpips` and its VGG weights are already
            installed (`loss_terms` says whether it was).
        domain_weight: weight of In-Domain GAN Inversion's regulariser ‖w − E(G(w))‖² (per
            coordinate mean), which keeps the code where E is consistent: costs one encoder pass
            per step; 0 by default.
        noise: noise for G during the optimisation and the returned reconstruction: None (no
            noise, deterministic; the default), a `torch.Generator` (one draw, kept fixed), or
            explicit maps (see `StyleALAE.make_noise`).
        feature_net: a module with `features(images) -> [N, D]` for the feature loss (default:
            the shipped attribute net, `alae_hf.evaluation.attributes.load_attribute_net`).
        progress: called as `progress(step, steps)` after every Adam step (e.g. for gr.Progress).

    Returns:
        An `InversionResult`.
    """
    x, steps, space = _check(
        model, images, steps, space, lr, pixel_weight, feature_weight, lpips_weight, domain_weight
    )
    noise_maps = _fixed_noise(model, noise, x.shape[0])
    objective, terms = _objective(
        model,
        x,
        space,
        noise_maps,
        pixel_weight,
        feature_weight,
        lpips_weight,
        domain_weight,
        feature_net,
    )
    frozen = [p for m in (model, feature_net) if m is not None for p in m.parameters()]
    flags = [p.requires_grad for p in frozen]
    try:
        for p in frozen:
            p.requires_grad_(False)
        with torch.enable_grad():
            w0 = model.encode(x).detach()
            w0 = model.to_w_plus(w0).contiguous() if space == "w+" else w0
            best_w, losses, before = _optimise(objective, w0, steps, lr, progress)
        with torch.no_grad():
            after = before if steps == 0 else model.synthesize(best_w, noise=noise_maps)
    finally:
        for p, flag in zip(frozen, flags):
            p.requires_grad_(flag)
    return InversionResult(
        w=w0 if steps == 0 else best_w,
        w_encoder=w0,
        losses=losses,
        reconstruction=after.clamp(-1, 1),
        psnr_before=_psnr(before, x),
        psnr_after=_psnr(after, x),
        loss_terms=terms,
        space=space,
        steps=steps,
    )


Objective = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def _objective(
    model: ALAEModel,
    x: torch.Tensor,
    space: str,
    noise: list[torch.Tensor] | None,
    pixel_weight: float,
    feature_weight: float,
    lpips_weight: float,
    domain_weight: float,
    feature_net: torch.nn.Module | None,
) -> tuple[Objective, dict[str, float]]:
    """w -> (per-image loss [N], G(w)), and the terms in use with their weights."""
    feature_fn = _feature_fn(model, feature_weight, feature_net)
    lpips_fn = _lpips_fn(model, lpips_weight)
    with torch.no_grad():
        target_feat = feature_fn(x) if feature_fn else None
    terms = {"pixel": pixel_weight}
    terms.update({"feature": feature_weight} if feature_fn else {})
    terms.update({"lpips": lpips_weight} if lpips_fn else {})
    terms.update({"domain": domain_weight} if domain_weight > 0 else {})

    def objective(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = model.synthesize(w, noise=noise)
        loss = pixel_weight * (out - x).pow(2).flatten(1).mean(1)
        if feature_fn:
            loss = loss + feature_weight * (feature_fn(out) - target_feat).pow(2).mean(1)
        if lpips_fn:
            loss = loss + lpips_weight * lpips_fn(out, x)
        if domain_weight > 0:  # In-Domain GAN Inversion's ‖w − E(G(w))‖², E's w broadcast over w+
            w_rec = model.encode(out)
            w_rec = model.to_w_plus(w_rec) if space == "w+" else w_rec
            loss = loss + domain_weight * (w_rec - w).pow(2).flatten(1).mean(1)
        return loss, out

    return objective, terms


def _optimise(
    objective: Objective,
    w0: torch.Tensor,
    steps: int,
    lr: float,
    progress: Callable[[int, int], None] | None,
) -> tuple[torch.Tensor, list[float], torch.Tensor]:
    """Adam from w0 for `steps` steps: (best code per image, mean loss per evaluation, G(w0))."""
    w = w0.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([w], lr=lr)
    best_w, best_loss, losses = w0.clone(), None, []
    for step in range(steps + 1):
        loss, out = objective(w)
        losses.append(float(loss.detach().mean()))
        best_loss, best_w = _keep_best(loss.detach(), w.detach(), best_loss, best_w)
        if step == 0:
            before = out.detach()
        if step == steps:
            break
        optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()  # a sum of per-image losses: each image's gradient is its own
        optimizer.step()
        if progress is not None:
            progress(step + 1, steps)
    return best_w, losses, before


def _keep_best(
    loss: torch.Tensor, w: torch.Tensor, best_loss: torch.Tensor | None, best_w: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    if best_loss is None:
        return loss, w.clone()
    better = loss < best_loss
    mask = better.view(-1, *([1] * (w.ndim - 1)))
    return torch.where(better, loss, best_loss), torch.where(mask, w, best_w)


def _psnr(a: torch.Tensor, b: torch.Tensor) -> list[float]:
    """PSNR in dB (`alae_hf.imaging.psnr`) of images in [-1, 1], on the [0, 1] scale, per image."""
    mse = ((a.clamp(-1, 1) - b.clamp(-1, 1)) / 2).float().pow(2).flatten(1).mean(1)
    return psnr(mse.double().cpu().numpy()).tolist()


# ---- validation ---------------------------------------------------------------------------------
def _check(
    model: ALAEModel, images: torch.Tensor, steps: int, space: str, lr: float, *weights: float
) -> tuple[torch.Tensor, int, str]:
    c, r = model.arch.channels, model.arch.resolution
    if (
        not isinstance(images, torch.Tensor)
        or images.ndim != 4
        or images.shape[0] < 1
        or tuple(images.shape[1:]) != (c, r, r)
    ):
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(
            f"invert expects images [N, {c}, {r}, {r}] in [-1, 1] (the model's resolution), got {got}"
        )
    if not images.is_floating_point():
        raise ValueError(f"invert expects float images in [-1, 1], got dtype {images.dtype}")
    if not torch.isfinite(images).all():
        raise ValueError("invert expects finite images in [-1, 1], got NaN or inf values")
    lo, hi = float(images.min()), float(images.max())
    if lo < -1 - RANGE_TOLERANCE or hi > 1 + RANGE_TOLERANCE:
        raise ValueError(f"invert expects images in [-1, 1], got values in [{lo:.3g}, {hi:.3g}]")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be an integer in [0, {MAX_STEPS}], got {steps!r}")
    if space not in ("w", "w+"):
        raise ValueError(f"space must be 'w' or 'w+', got {space!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    for name, value in zip(
        ("pixel_weight", "feature_weight", "lpips_weight", "domain_weight"), weights
    ):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    # clone(): a tensor made under torch.inference_mode cannot take part in autograd.
    x = images.detach().to(device=model.device, dtype=model.dtype).clone()
    return x, steps, space


def _fixed_noise(model: ALAEModel, noise: NoiseSpec, batch: int) -> list[torch.Tensor] | None:
    """One draw from a generator, kept for every step (a moving target would make the loss noisy)."""
    if isinstance(noise, torch.Generator):
        return model.make_noise(batch, noise)
    return None if noise is None else list(noise)


# ---- feature losses ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _attribute_net(device: str, dtype: torch.dtype):
    return load_attribute_net(device=device, dtype=dtype)


def _feature_fn(
    model: ALAEModel, weight: float, net: torch.nn.Module | None
) -> Callable[[torch.Tensor], torch.Tensor] | None:
    if weight == 0:
        return None
    net = _attribute_net(str(model.device), model.dtype) if net is None else net

    def features(images: torch.Tensor) -> torch.Tensor:
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        return net.features(images)

    return features


def _lpips_fn(
    model: ALAEModel, weight: float
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None:
    """LPIPS-VGG if `lpips` is installed and its VGG weights are cached; never downloads."""
    if weight == 0 or importlib.util.find_spec("lpips") is None:
        return None
    vgg = Path(torch.hub.get_dir()) / "checkpoints" / "vgg16-397923af.pth"
    if not vgg.is_file():
        return None
    import lpips

    net = lpips.LPIPS(net="vgg", verbose=False).to(model.device).eval().requires_grad_(False)

    def distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if a.shape[1] == 1:
            a, b = a.expand(-1, 3, -1, -1), b.expand(-1, 3, -1, -1)
        return net(a.float(), b.float()).reshape(-1).to(a.dtype)

    return distance
