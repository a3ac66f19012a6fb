"""The three ALAE training phases as pure functions returning (loss, stats).

Matches the official `model.Model.forward` (its `d_train`/`ae` branches), `Model.generate`
and `losses.py` (podgorskiy/ALAE):

1. `encoder_discriminator_loss`: softplus(D(E(fake))) + softplus(-D(E(real))) + R1 (gamma 10)
   on the (fade-in blended) reals. Trains E and D; fakes come in detached. Two opt-in departures
   from the paper, both off by default: lazy R1 (the caller passes gamma * k on every k-th step
   and 0 otherwise, see `step.StepContext.r1_weight`) and a real-image reconstruction term
   (`recon_weight`, see `real_reconstruction_error`).
2. `generator_loss`: softplus(-D(E(G(F(z))))) with style mixing. Trains F and G; E and D act as
   a fixed critic (their parameters are detached here, so no gradient can reach them).
3. `latent_reciprocity_loss`: mean (E(G(F(z))) - F(z).detach())^2. Trains E, G and F; D is
   not involved.

Nothing here updates state: the w statistics the caller needs for `StyleALAE.update_w_avg`
come back in `stats["w_mean"]`, and all randomness (latents, mixing, noise) is an argument.
Logits and reductions are taken in float32 so the functions can run under autocast.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.func import functional_call

from ..models.base import ALAEModel
from ..models.style import NoiseSpec
from .defaults import R1_GAMMA

Stats = dict[str, torch.Tensor]


@dataclass(frozen=True)
class LatentDraw:
    """The latents of one generated batch.

    Args:
        z: main latents [N, Z].
        z_mix: second latents [N, Z] for style mixing, or None.
        cutoff: styles with index < cutoff come from `z`, the rest from `z_mix` (None: no mixing).
    """

    z: torch.Tensor
    z_mix: torch.Tensor | None = None
    cutoff: int | None = None


def draw_mixing_cutoff(prob: float, lod: int, generator: torch.Generator) -> int | None:
    """With probability `prob`, a style-mixing cutoff uniform in [1, 2(lod+1)], else None.

    As official `Model.generate`: one draw per batch; a cutoff of 2(lod+1) mixes nothing
    visible at that lod (kept for the same distribution). `generator` is a CPU generator.
    """
    if not 0.0 <= prob <= 1.0:
        raise ValueError(f"prob must be in [0, 1], got {prob}")
    if torch.rand((), generator=generator).item() >= prob:
        return None
    return int(torch.randint(1, 2 * (lod + 1) + 1, (), generator=generator))


def draw_latents(
    model: ALAEModel,
    batch: int,
    lod: int,
    mixing_prob: float,
    generator: torch.Generator,
    host_generator: torch.Generator,
) -> LatentDraw:
    """z ~ N(0, I) on the model's device (from `generator`), plus a mixing draw (from `host_generator`)."""
    device, dtype = model.device, model.dtype
    shape = (batch, model.arch.latent_size)
    z = torch.randn(shape, generator=generator, device=device, dtype=dtype)
    cutoff = draw_mixing_cutoff(mixing_prob, lod, host_generator)
    if cutoff is None:
        return LatentDraw(z)
    z_mix = torch.randn(shape, generator=generator, device=device, dtype=dtype)
    return LatentDraw(z, z_mix, cutoff)


def mix_styles(w: torch.Tensor, w_mix: torch.Tensor, cutoff: int, num_styles: int) -> torch.Tensor:
    """w+ [N, num_styles, Z] taking styles < cutoff from `w` [N, Z] and the rest from `w_mix` [N, Z]."""
    layer = torch.arange(num_styles, device=w.device)[None, :, None]
    return torch.where(layer < cutoff, w[:, None, :], w_mix[:, None, :])


def generate(
    model: ALAEModel, latents: LatentDraw, lod: int, blend: float, noise: NoiseSpec
) -> tuple[torch.Tensor, torch.Tensor]:
    """G(F(z)) with optional style mixing (official `Model.generate`, no truncation).

    Returns the images and w = F(z) [N, Z] before mixing (what the official code averages
    into `dlatent_avg` and regresses in phase 3).
    """
    w = model.map(latents.z)
    styles = w
    if latents.cutoff is not None:
        if latents.z_mix is None:
            raise ValueError("a mixing cutoff needs z_mix")
        styles = mix_styles(w, model.map(latents.z_mix), latents.cutoff, model.num_styles)
    return model.synthesize(styles, noise=noise, lod=lod, blend=blend), w


def r1_penalty(d_real: torch.Tensor, reals: torch.Tensor, grad_scale: float = 1.0) -> torch.Tensor:
    """Per-sample ||d(sum d_real)/d reals||^2 [N] in float32, differentiable (create_graph).

    `grad_scale` (the fp16 loss scale, 1 otherwise) scales the inner gradient so that it does
    not underflow in half precision, and is divided out again (PyTorch AMP's gradient-penalty
    recipe).
    """
    (grad,) = torch.autograd.grad(d_real.float().sum() * grad_scale, reals, create_graph=True)
    return (grad.float() / grad_scale).pow(2).sum(dim=[1, 2, 3])


@contextlib.contextmanager
def frozen(module: torch.nn.Module) -> Iterator[None]:
    """Within the block, `module`'s parameters record no gradient (autograd decides when an op
    runs, so a backward after the block still skips them); restored on exit, also on error."""
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def real_reconstruction_error(
    model: ALAEModel,
    w_real: torch.Tensor,
    reals: torch.Tensor,
    lod: int,
    blend: float,
    noise: NoiseSpec,
) -> torch.Tensor:
    """Per-image mean squared error ||G(E(x)) - x||^2 / (C H W) [N] on the [-1, 1] scale, G frozen.

    Not part of ALAE: the paper trains E only through latent reciprocity on generated images, so
    a real image whose factors G does not yet produce is encoded near the mean. A pixel loss on
    real images for the encoder is In-Domain GAN Inversion's domain-guided encoder (Zhu et al.
    2020, §3.1), here with G's weights frozen in this term so that samples are not pulled
    toward blurry reconstructions. The noise is drawn like G's training noise, as the
    evaluation's reconstructions draw it.
    """
    with frozen(model.generator):  # any model class: both ALAEs name G `generator`
        reconstruction = model.synthesize(w_real, noise=noise, lod=lod, blend=blend)
    return (reconstruction.float() - reals.detach().float()).pow(2).mean(dim=[1, 2, 3])


def encoder_discriminator_loss(
    model: ALAEModel,
    reals: torch.Tensor,
    fakes: torch.Tensor,
    blend: float,
    r1_gamma: float = R1_GAMMA,
    grad_scale: float = 1.0,
    w: torch.Tensor | None = None,
    recon_weight: float = 0.0,
    noise: NoiseSpec = None,
) -> tuple[torch.Tensor, Stats]:
    """Phase 1 (official `d_train=True, ae=False`): non-saturating logistic loss of D(E(.)) + R1.

    Args:
        model: the model; gradients reach E and D only.
        reals: real images [N, C, r, r] at the current lod, already fade-in blended.
        fakes: generated images of the same shape (detached here).
        blend: fade-in factor of the current lod.
        r1_gamma: R1 weight gamma; the penalty is gamma / 2 * ||grad||^2 (official 10). 0 skips R1
            (and its double backward): lazy R1 passes 0 on the steps between penalties.
        grad_scale: loss scale for the inner R1 gradient under fp16 (see `r1_penalty`).
        w: the fakes' w = F(z) [N, Z] (from `generate`); when given, `stats["w_mean"]` is its batch
            mean, for `StyleALAE.update_w_avg` as in phases 2 and 3 (official: every `generate` call).
        recon_weight: lambda of the opt-in real-image term lambda * ||G(E(x)) - x||^2 (G frozen; see
            `real_reconstruction_error`); 0 (default) is the official loss. It reuses E(reals) of
            the D loss, so it costs one G forward and backward, no extra E pass.
        noise: G's noise for that term (ignored when `recon_weight` is 0).
    """
    reals = reals.detach().requires_grad_(r1_gamma > 0)
    w_real = model.encode(reals, blend)
    d_real = model.discriminate(w_real).float()
    d_fake = model.discriminate(model.encode(fakes.detach(), blend)).float()
    loss = F.softplus(d_fake) + F.softplus(-d_real)
    stats = {"d_real": d_real.detach().mean(), "d_fake": d_fake.detach().mean()}
    if r1_gamma:
        r1 = r1_penalty(d_real, reals, grad_scale)
        loss, stats["r1"] = loss + 0.5 * r1_gamma * r1, r1.detach().mean()
    if recon_weight:
        lod = int(math.log2(reals.shape[-1])) - 2
        error = real_reconstruction_error(model, w_real, reals, lod, blend, noise)
        loss, stats["recon_mse"] = loss + recon_weight * error, error.detach().mean()
    loss = loss.mean()
    stats["loss_d"] = loss.detach()
    if w is not None:
        stats["w_mean"] = w.detach().float().mean(0)
    return loss, stats


def _frozen_critic(model: ALAEModel, images: torch.Tensor, blend: float) -> torch.Tensor:
    """D(E(images)) with E's and D's parameters detached: gradients reach the images only."""
    lod = int(math.log2(images.shape[-1])) - 2
    encoder = {k: v.detach() for k, v in model.encoder.named_parameters()}
    discriminator = {k: v.detach() for k, v in model.discriminator.named_parameters()}
    w = functional_call(model.encoder, encoder, (images, lod, blend))
    return functional_call(model.discriminator, discriminator, (w,))


def generator_loss(
    model: ALAEModel, latents: LatentDraw, lod: int, blend: float, noise: NoiseSpec
) -> tuple[torch.Tensor, Stats]:
    """Phase 2 (official `d_train=False, ae=False`): softplus(-D(E(G(F(z))))), mean over the batch.

    Args:
        model: the model; gradients reach F and G only.
        latents: z and the style-mixing draw (see `draw_latents`).
        lod: level of detail; blend: its fade-in factor.
        noise: noise for G (a generator, explicit maps or None).
    """
    images, w = generate(model, latents, lod, blend, noise)
    loss = F.softplus(-_frozen_critic(model, images, blend).float()).mean()
    return loss, {"loss_g": loss.detach(), "w_mean": w.detach().float().mean(0)}


def latent_reciprocity_loss(
    model: ALAEModel, z: torch.Tensor, lod: int, blend: float, noise: NoiseSpec
) -> tuple[torch.Tensor, Stats]:
    """Phase 3 (official `d_train=True, ae=True`): mean (E(G(w)) - w.detach())^2 with w = F(z).

    No style mixing. Only the target is detached, so gradients reach E, G and F; D is unused.
    """
    images, w = generate(model, LatentDraw(z), lod, blend, noise)
    w_rec = model.encode(images, blend)
    loss = (w_rec.float() - w.detach().float()).pow(2).mean()
    return loss, {"loss_ae": loss.detach(), "w_mean": w.detach().float().mean(0)}
