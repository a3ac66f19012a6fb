"""The one ALAE training iteration: three phases, each forward, backward, averaged over processes, stepped.

Official counterpart: the loop body of podgorskiy/ALAE `train_alae.py`
(and `model.py`, `losses.py`): `encoder_optimizer` (E + D) steps on the discriminator loss
with R1, `decoder_optimizer` (G + F) on the generator loss, then both on the latent reciprocity
loss; `dlatent_avg` follows the mean w of every generated batch. Both `train_accelerate.py` and
`bench/train_throughput.py` run exactly these functions.

The four networks are not wrapped in DDP: after each phase's backward, its gradients and loss
statistics are flattened into one buffer and averaged over processes (`StepContext.reduce_mean`,
one all-reduce), so every process takes the identical optimizer step and decides identically
whether the step is finite. A non-finite phase ends the iteration and the `Rollback` puts back every
weight, buffer (`w_avg`) and optimizer state the earlier phases of it changed: a skipped iteration
changes nothing but the random streams.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
from torch.optim import Optimizer

from ..models.base import ALAEModel
from ..models.layers import scaled_kernels
from .compiled import images_as
from .losses import (
    R1_GAMMA,
    Stats,
    draw_latents,
    encoder_discriminator_loss,
    generate,
    generator_loss,
    latent_reciprocity_loss,
)

OPTIMIZER_GROUPS = ("encoder_discriminator", "mapping_generator")  # names in optimizers.pt


class Rollback:
    """Copies of the model's parameters and buffers and the optimizers' state, taken before an
    iteration and put back if one of its phases turns out non-finite.

    The copy buffers are allocated once and reused while the set of tensors stays the same (one
    `_foreach_copy_` per capture), so the guard costs one memory copy of weights and optimizer state.
    """

    def __init__(self) -> None:
        self._layout: tuple | None = None
        self._copies: list[torch.Tensor] = []
        self._tensors: list[torch.Tensor] = []
        self._states: list[dict[Any, dict[str, Any]]] = []

    @staticmethod
    def _gather(
        model: torch.nn.Module, optimizers: tuple[Optimizer, ...]
    ) -> Iterator[torch.Tensor]:
        yield from (p.data for p in model.parameters())
        yield from model.buffers()
        for optimizer in optimizers:
            for state in optimizer.state.values():
                yield from (v for v in state.values() if isinstance(v, torch.Tensor))

    def capture(self, model: torch.nn.Module, optimizers: tuple[Optimizer, ...]) -> None:
        self._tensors = list(self._gather(model, optimizers))
        layout = tuple((t.data_ptr(), t.shape, t.dtype, t.device) for t in self._tensors)
        if layout != self._layout:
            self._copies, self._layout = [torch.empty_like(t) for t in self._tensors], layout
        with torch.no_grad():
            torch._foreach_copy_(self._copies, self._tensors)
        # which parameters had state, and the non-tensor entries (LREQAdam counts steps in ints)
        self._states = [{p: dict(s) for p, s in opt.state.items()} for opt in optimizers]

    def restore(self, model: torch.nn.Module, optimizers: tuple[Optimizer, ...]) -> None:
        for optimizer, saved in zip(optimizers, self._states):
            for p in [p for p in optimizer.state if p not in saved]:
                del optimizer.state[p]  # state created by this iteration's first step
            for p, entries in saved.items():
                optimizer.state[p].update(
                    {k: v for k, v in entries.items() if not isinstance(v, torch.Tensor)}
                )
        with torch.no_grad():
            torch._foreach_copy_(self._tensors, self._copies)
        for p in model.parameters():
            p.grad = None


@dataclass
class StepContext:
    """What one iteration reads and updates besides the batch.

    Args:
        model: the trained model (updated in place, `w_avg` included).
        optimizers: (E + D, G + F), see `optim.make_optimizers`.
        rng: generator for latents and noise, on the model's device.
        host_rng: CPU generator for the style-mixing draws.
        scaler: gradient scaler (enabled under fp16 only).
        r1_gamma: R1 weight (official 10).
        autocast: context manager factory for the forward passes (e.g. `Accelerator.autocast`).
        reduce_mean: averages a flat tensor over processes (None: one process).
        rollback: undoes a non-finite iteration (None: no guard, e.g. to time without it).
        r1_interval: lazy R1 (StyleGAN2, Karras et al. 2020, appendix B): the penalty only on steps
            where `step % r1_interval == 0`, weighted `r1_interval` times so that its average pull
            is unchanged. 1 (default) is the official R1 on every step. Unlike StyleGAN2 the
            penalty joins that step's D loss instead of a separate optimizer step, so no Adam
            correction is needed; what it costs is a penalty that acts in bursts.
        real_recon_weight: lambda of the opt-in real-image reconstruction term added to E's loss
            in the E+D phase (`losses.real_reconstruction_error`); 0 (default) is the official loss.
        compiled: the model's networks are compiled (`compiled.compile_networks`): phases skip
            the `scaled_kernels` scope (the compiled graph fuses the scaling) and a phase with R1
            runs eagerly.
        memory_format: the reals' memory format (e.g. `torch.channels_last`, with the model's
            weights converted by `compiled.to_channels_last`); None keeps them as they come.
    """

    model: ALAEModel
    optimizers: tuple[Optimizer, Optimizer]
    rng: torch.Generator
    host_rng: torch.Generator
    scaler: torch.amp.GradScaler
    r1_gamma: float = R1_GAMMA
    autocast: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext
    reduce_mean: Callable[[torch.Tensor], torch.Tensor] | None = None
    rollback: Rollback | None = field(default_factory=Rollback)
    r1_interval: int = 1
    real_recon_weight: float = 0.0
    compiled: bool = False
    memory_format: torch.memory_format | None = None

    def __post_init__(self) -> None:
        if self.r1_interval < 1:
            raise ValueError(f"r1_interval must be >= 1, got {self.r1_interval}")
        if not self.real_recon_weight >= 0:
            raise ValueError(f"real_recon_weight must be >= 0, got {self.real_recon_weight}")

    def r1_weight(self, step: int) -> float:
        """The R1 gamma for iteration `step` (0-based): gamma * k on every k-th step, 0 between."""
        return self.r1_gamma * self.r1_interval if step % self.r1_interval == 0 else 0.0


class Phase(NamedTuple):
    """One of the three phases: its loss, the parameters it trains and the optimizers it steps;
    `double_backward` when its loss differentiates a gradient (R1), which runs eagerly."""

    name: str
    loss_fn: Callable[[], tuple[torch.Tensor, Stats]]
    params: list[torch.nn.Parameter]
    optimizers: list[Optimizer]
    double_backward: bool = False


def phases(
    ctx: StepContext, reals: torch.Tensor, lod: int, blend: float, step: int = 0
) -> list[Phase]:
    """The official three phases for this batch of (fade-in blended) reals; latents are drawn when a
    phase's loss is evaluated, in the official order. `step` (the run's iteration count) decides
    whether this D step carries lazy R1."""
    model, b, mix = ctx.model, reals.shape[0], ctx.model.arch.style_mixing_prob
    reals = images_as(reals, ctx.memory_format)
    opt_ed, opt_fg = ctx.optimizers
    ed = list(model.encoder.parameters()) + list(model.discriminator.parameters())
    fg = list(model.generator.parameters()) + list(model.mapping.parameters())

    def encoder_discriminator() -> tuple[torch.Tensor, Stats]:
        with torch.no_grad():
            fakes, w = generate(
                model, draw_latents(model, b, lod, mix, ctx.rng, ctx.host_rng), lod, blend, ctx.rng
            )
        return encoder_discriminator_loss(
            model,
            reals,
            fakes,
            blend,
            ctx.r1_weight(step),
            ctx.scaler.get_scale(),
            w=w,
            recon_weight=ctx.real_recon_weight,
            noise=ctx.rng,
        )

    def generator() -> tuple[torch.Tensor, Stats]:
        return generator_loss(
            model, draw_latents(model, b, lod, mix, ctx.rng, ctx.host_rng), lod, blend, ctx.rng
        )

    def reciprocity() -> tuple[torch.Tensor, Stats]:
        z = torch.randn(b, model.arch.latent_size, generator=ctx.rng, device=reals.device)
        return latent_reciprocity_loss(model, z, lod, blend, ctx.rng)

    return [
        Phase("d_step", encoder_discriminator, ed, [opt_ed], ctx.r1_weight(step) > 0),
        Phase("g_step", generator, fg, [opt_fg]),
        Phase("ae_step", reciprocity, ed + fg, [opt_ed, opt_fg]),
    ]


def average_(ctx: StepContext, grads: list[torch.Tensor], stats: Stats) -> tuple[Stats, bool]:
    """Average this phase's gradients (in place) and stats over processes in one buffer; return the
    averaged stats and whether everything checked is finite (one answer on every process). Under
    fp16 the scaler handles overflowing gradients itself, so only the stats are checked."""
    values = [v.detach().float() for v in stats.values()]
    flat = torch.cat([t.reshape(-1) for t in grads + values])
    if ctx.reduce_mean is not None:
        flat = ctx.reduce_mean(flat)
    pieces = torch.split(flat, [t.numel() for t in grads + values])
    if ctx.reduce_mean is not None:
        torch._foreach_copy_(grads, [piece.view_as(g) for g, piece in zip(grads, pieces)])
    reduced = {k: piece.view_as(v) for k, v, piece in zip(stats, values, pieces[len(grads) :])}
    checked = (
        flat[flat.numel() - sum(v.numel() for v in values) :] if ctx.scaler.is_enabled() else flat
    )
    return reduced, bool(torch.isfinite(checked).all())


def backward(ctx: StepContext, phase: Phase) -> tuple[Stats, bool]:
    """Zero, forward (autocast), backward (scaled), average over processes; no step yet."""
    for p in phase.params:
        p.grad = None
    eager = phase.double_backward or not ctx.compiled
    with (
        ctx.autocast(),
        # the phase's weights scaled in one kernel (compiled graphs fuse the scaling instead)
        scaled_kernels(ctx.model, phase.params) if eager else contextlib.nullcontext(),
        # compiled graphs have no double backward (R1): that phase runs eagerly
        torch.compiler.set_stance("force_eager")
        if phase.double_backward
        else contextlib.nullcontext(),
    ):
        loss, stats = phase.loss_fn()
    ctx.scaler.scale(loss).backward()
    return average_(ctx, [p.grad for p in phase.params if p.grad is not None], stats)


def apply_(ctx: StepContext, phase: Phase, stats: Stats) -> None:
    """Step the phase's optimizers (through the scaler) and move `w_avg` toward the batch's mean w."""
    for optimizer in phase.optimizers:
        ctx.scaler.step(optimizer)
    ctx.scaler.update()
    ctx.model.update_w_avg(stats["w_mean"][None])


def run_phase(ctx: StepContext, phase: Phase) -> tuple[Stats, bool]:
    """One phase: backward, then the step if finite. The primitive `iteration` runs three times
    (and the benchmarks time one at a time); a non-finite phase is left unstepped."""
    stats, finite = backward(ctx, phase)
    if finite:
        apply_(ctx, phase, stats)
    return stats, finite


def iteration(
    ctx: StepContext, reals: torch.Tensor, lod: int, blend: float, step: int = 0
) -> tuple[Stats, bool]:
    """One official ALAE iteration: E+D step (with R1), F+G step, latent reciprocity step, each a
    `run_phase`.

    `step` is the run's iteration count (0-based); with `ctx.r1_interval` 1 it changes nothing.

    Returns the averaged scalar statistics (losses, D outputs, R1) and whether the iteration was
    finite. A non-finite phase ends the iteration: the optimizer state, weights and `w_avg` are
    restored to what they were before it (when `ctx.rollback` is set) and the scaler backs off.
    """
    if ctx.rollback is not None:
        ctx.rollback.capture(ctx.model, ctx.optimizers)
    logs: Stats = {}
    for phase in phases(ctx, reals, lod, blend, step):
        stats, finite = run_phase(ctx, phase)
        logs.update({k: v for k, v in stats.items() if v.numel() == 1})
        if not finite:
            if ctx.rollback is not None:
                ctx.rollback.restore(ctx.model, ctx.optimizers)
            if ctx.scaler.is_enabled():
                ctx.scaler.update(ctx.scaler.get_scale() * ctx.scaler.get_backoff_factor())
            return logs, False
    return logs, True
