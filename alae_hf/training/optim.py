"""Optimizers of StyleALAE training: the official `LREQAdam`, restated for runtime-scaled weights.

Official counterpart: podgorskiy/ALAE `custom_adam.py` (`LREQAdam`), `lreq.py` (the
`lr_equalization_coef` attributes) and the optimizer construction in `train_alae.py`.

The official layers store *effective* weights W and leave the equalized-lr constant c
(`gain / sqrt(fan_in) * lrmul` for weights, `lrmul` for biases, 1 for plain parameters) to the
optimizer. With G = dL/dW, v an EMA of G² (β1 = 0: no first moment) and t the step count:

    W <- W - lr * c * sqrt(1 - β2^t) * G / (sqrt(v) + ε)

Our layers (`alae_hf.models.layers`) store w = W / c and multiply by c at run time, so the gradient
we see is g = c * G. Substituting gives, in our units (v now an EMA of g²):

    w <- w - lr * sqrt(1 - β2^t) * g / (sqrt(v) + c * ε)

so the only per-parameter quantity left is ε's scale c. Stock `torch.optim.Adam(betas=(0, β2))`
computes `w - lr * g / (sqrt(v / (1 - β2^t)) + ε)`, i.e. ε * sqrt(1 - β2^t) in place of c * ε
(~160x too large for F and D weights, ~750x for `to_rgb`); it stays available as `kind="adam"`.

Not reproduced: on the PyTorch 1.x the official code was released with, `zero_grad()` zeroed
gradients in place instead of setting them to None, so in phase 3 (the latent reconstruction
loss, which does not involve D) the E+D optimizer still gave D a zero-gradient step: D's v decayed
by β2 and its step count advanced. Here D's gradient is None in phase 3 and D is left untouched.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn
from torch.optim import Optimizer

from ..models.base import ALAEModel
from .defaults import KINDS

BETAS = (0.0, 0.99)  # official train_alae.py: LREQAdam(..., betas=(0.0, 0.99))
EPS = 1e-8


def equalized_lr_scales(module: nn.Module) -> dict[nn.Parameter, float]:
    """Runtime scale c of every parameter of `module` (1.0 for plain parameters).

    The equalized-lr layers of `alae_hf.models.layers` expose `weight_scale` (and `bias_scale` where the
    bias is scaled too); these are exactly the official `lr_equalization_coef` values.
    """
    scales = {p: 1.0 for p in module.parameters()}
    for m in module.modules():
        weight_scale = getattr(m, "weight_scale", None)
        if weight_scale is not None:
            scales[m.get_parameter("weight")] = float(weight_scale)
            bias = getattr(m, "bias", None)
            if isinstance(bias, nn.Parameter):
                scales[bias] = float(getattr(m, "bias_scale", 1.0))
    return scales


def lreq_param_groups(modules: Iterable[nn.Module]) -> list[dict]:
    """Parameter groups of `modules`, one per distinct scale, each with its `eps_scale`."""
    by_scale: dict[float, list[nn.Parameter]] = {}
    for module in modules:
        for p, c in equalized_lr_scales(module).items():
            by_scale.setdefault(c, []).append(p)
    return [{"params": params, "eps_scale": c} for c, params in by_scale.items()]


class LREQAdam(Optimizer):
    """The official `LREQAdam` for weights stored divided by their equalized-lr scale.

    Args:
        params: parameters or groups; a group's `eps_scale` (default 1.0) is its parameters'
            runtime scale c (use `lreq_param_groups`).
        lr: learning rate.
        betas: (β1, β2); β1 must be 0 (the official optimizer keeps no first moment).
        eps: ε in the official (effective-weight) units.
    """

    def __init__(
        self, params, lr: float = 1e-3, betas: tuple[float, float] = BETAS, eps: float = EPS
    ) -> None:
        if not (math.isfinite(lr) and lr >= 0):
            raise ValueError(f"learning rate must be finite and >= 0, got {lr}")
        if betas[0] != 0.0:
            raise ValueError(f"LREQAdam has no first moment: betas[0] must be 0, got {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"betas[1] must be in [0, 1), got {betas[1]}")
        if not eps >= 0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, eps_scale=1.0))

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient (official `LREQAdam.step`)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group: dict) -> None:
        beta2 = group["betas"][1]
        buckets: dict[
            int, tuple[list, list, list]
        ] = {}  # by step count: parameters share a bias correction
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.grad.is_sparse:
                raise RuntimeError("LREQAdam does not support sparse gradients")
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["step"] += 1
            bucket = buckets.setdefault(state["step"], ([], [], []))
            bucket[0].append(p)
            bucket[1].append(p.grad)
            bucket[2].append(state["exp_avg_sq"])
        for t, (params, grads, sqs) in buckets.items():
            torch._foreach_mul_(sqs, beta2)
            torch._foreach_addcmul_(sqs, grads, grads, value=1.0 - beta2)
            denom = torch._foreach_sqrt(sqs)
            torch._foreach_add_(denom, group["eps"] * group["eps_scale"])
            step_size = group["lr"] * math.sqrt(1.0 - beta2**t)
            torch._foreach_addcdiv_(params, grads, denom, value=-step_size)


def make_optimizers(model: ALAEModel, lr: float, kind: str = "lreq") -> tuple[Optimizer, Optimizer]:
    """The two official optimizers: E + D in one, G + F in the other (official `train_alae.py`).

    Args:
        model: a `StyleALAE` (uses `.encoder`, `.discriminator`, `.generator`, `.mapping`).
        lr: learning rate.
        kind: "lreq" (official `LREQAdam`, the default) or "adam" (stock `torch.optim.Adam`
            with the same betas and ε, the behaviour before the official optimizer was restated).

    Returns:
        (encoder_optimizer, decoder_optimizer).
    """
    if kind not in KINDS:
        raise ValueError(f"optimizer kind must be one of {', '.join(KINDS)}, got {kind!r}")
    pairs = ((model.encoder, model.discriminator), (model.generator, model.mapping))
    if kind == "adam":
        ed, fg = (
            torch.optim.Adam(
                [{"params": m.parameters()} for m in pair], lr=lr, betas=BETAS, eps=EPS
            )
            for pair in pairs
        )
        return ed, fg
    return LREQAdam(lreq_param_groups(pairs[0]), lr=lr), LREQAdam(
        lreq_param_groups(pairs[1]), lr=lr
    )
