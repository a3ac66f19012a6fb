"""Layers of StyleALAE: equalized-learning-rate linear/conv, fused resampling, blur, AdaIN pieces.

Matches the official `lreq.py` and the helpers at the top of `net.py` (podgorskiy/ALAE), with
one deliberate difference: the official code stores *effective* weights and puts the
equalized-lr coefficient into a custom Adam ("implicit lreq"); here the coefficient is applied
at run time (StyleGAN's "explicit" form), so a stock `torch.optim.Adam` trains the model and the
gradients are the same up to that per-tensor constant. `alae_hf.convert` divides official
weights by the same constants, so the forward passes agree.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

LEAKY_SLOPE = 0.2


def _full_precision(x: torch.Tensor):
    """Switch autocast off for one layer (a no-op context when autocast is not active)."""
    return torch.autocast(x.device.type, enabled=False)


class _ScaledKernel(nn.Module):
    """Base of the equalized-lr layers: the kernel the forward pass uses, cached for inference.

    Rescaling (and, for fused resampling, re-summing) every weight at every call costs ~20% of
    a batch-1 CPU generation. When autograd is off the result is cached, keyed on the
    parameter's version counter, storage, dtype and device, so optimizer steps, EMA updates,
    `load_state_dict` and `.to()` all invalidate it. With autograd on it is recomputed, unless a
    `scaled_kernels` scope computed it (for a training phase, all weights in one kernel).
    """

    weight: nn.Parameter
    weight_scale: float
    _kernel_cache: tuple | None = None
    _scoped: list | None = (
        None  # [weight, its version, scaled weight, kernel or None] in `scaled_kernels`
    )

    def effective_weight(self) -> torch.Tensor:
        """The weight the forward pass uses: the stored one times its runtime scale (what
        official checkpoints store)."""
        return self.weight * self.weight_scale

    def _kernel_from(self, scaled: torch.Tensor) -> torch.Tensor:
        """The kernel from the scaled weight (fused resampling layers re-sum it)."""
        return scaled

    def _compute_kernel(self) -> torch.Tensor:
        return self._kernel_from(self.effective_weight())

    def kernel(self) -> torch.Tensor:
        if torch.compiler.is_compiling():  # traced: Inductor fuses the scaling into its kernels
            return self._compute_kernel()
        scoped = self._scoped
        if scoped is not None and scoped[0] is self.weight and scoped[1] == self.weight._version:
            if scoped[3] is None:
                scoped[3] = self._kernel_from(scoped[2])
            return scoped[3]
        if torch.is_grad_enabled():
            return self._compute_kernel()
        w = self.weight
        key = (w._version, w.data_ptr(), w.dtype, w.device, torch.is_inference_mode_enabled())
        if self._kernel_cache is None or self._kernel_cache[0] != key:
            self._kernel_cache = (key, self._compute_kernel())
        return self._kernel_cache[1]


@contextlib.contextmanager
def scaled_kernels(
    module: nn.Module, params: Iterable[torch.Tensor] | None = None
) -> Iterator[None]:
    """Within the block, the equalized-lr layers of `module` (those whose weight is in `params`,
    if given) use weights scaled once, at entry, by one `torch._foreach_mul` for all of them.

    A training phase otherwise launches one multiply per layer and call, and one more per layer in
    the backward: ~8% of a 64 px training iteration's kernels (bench/NOTES.md, v8). Autograd goes
    through the batched multiply, so the gradients are the same. A layer whose weight is not the
    one scaled at entry (e.g. the detached copies `torch.func.functional_call` swaps in) or was
    modified since computes its kernel as before. Enter it around a forward pass; the backward
    may run after the block.

    Args:
        module: the model or network whose layers to scale.
        params: only layers whose weight is one of these (e.g. the parameters a phase trains).
    """
    wanted = None if params is None else {id(p) for p in params}
    layers = [
        m
        for m in module.modules()
        if isinstance(m, _ScaledKernel) and (wanted is None or id(m.weight) in wanted)
    ]
    if layers:
        scaled = torch._foreach_mul([m.weight for m in layers], [m.weight_scale for m in layers])
        for m, weight in zip(layers, scaled):
            m._scoped = [m.weight, m.weight._version, weight, None]
    try:
        yield
    finally:
        for m in layers:
            m._scoped = None


class EqualLinear(_ScaledKernel):
    """Linear layer with equalized learning rate (Karras et al. 2018, §4.1).

    Stores `weight ~ N(0, 1/lrmul^2)`; the forward pass multiplies it by
    `gain / sqrt(in_features) * lrmul` and the bias by `lrmul` (official `lreq.Linear`).

    Args:
        in_features: input width.
        out_features: output width.
        bias: whether the layer has a bias (initialised to zero).
        gain: He-style gain (√2 for LeakyReLU layers, 1 for G's style affines).
        lrmul: learning-rate multiplier (0.1 in F and D).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        gain: float = math.sqrt(2.0),
        lrmul: float = 1.0,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lrmul)
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        self.weight_scale = gain / math.sqrt(in_features) * lrmul
        self.bias_scale = lrmul

    def effective_bias(self) -> torch.Tensor | None:
        if self.bias is None or self.bias_scale == 1.0:
            return (
                self.bias
            )  # lrmul 1 (G's and E's style affines): skip a no-op kernel, forward and backward
        return self.bias * self.bias_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Under autocast, linears (F, D, style affines: <2% of the FLOPs) stay in the weights'
        # precision: their outputs set every style, and bf16 there costs accuracy for no speed.
        with _full_precision(x):
            return F.linear(x.to(self.weight.dtype), self.kernel(), self.effective_bias())


class EqualConv2d(_ScaledKernel):
    """Stride-1 "same" convolution with equalized learning rate (official `lreq.Conv2d`).

    The 3x3 convs of E and G have no bias here (their per-channel biases live in the blocks,
    as in the official checkpoints); the 1x1 from/to-RGB convs have one.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        bias: bool = False,
        gain: float = math.sqrt(2.0),
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_scale = gain / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding = kernel_size // 2
        # 1x1 from/to-RGB convs are cheap and sit at the image boundary: keep them out of bf16.
        self.full_precision = kernel_size == 1

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        """Args: bias: added by the conv when the layer has none of its own (a block's bias)."""
        bias = self.bias if bias is None else bias
        if self.full_precision:
            with _full_precision(x):
                return F.conv2d(x.to(self.weight.dtype), self.kernel(), bias, padding=self.padding)
        return F.conv2d(x, self.kernel(), bias, padding=self.padding)


def _sum_shifted_windows(w: torch.Tensor) -> torch.Tensor:
    """Turn a 3x3 kernel into the 4x4 kernel of a fused stride-2 resampling conv.

    Zero-pads by one and adds the four 1-pixel-shifted 4x4 windows (official `lreq.Conv2d`
    with `transform_kernel=True`): a 3x3 conv at the fine resolution composed with 2x
    nearest upsampling or 2x2 box downsampling, folded into one strided conv.
    """
    w = F.pad(w, (1, 1, 1, 1))
    return w[:, :, 1:, 1:] + w[:, :, :-1, 1:] + w[:, :, 1:, :-1] + w[:, :, :-1, :-1]


class FusedDownConv2d(EqualConv2d):
    """3x3 conv followed by 2x2 average pooling, as one 4x4 stride-2 conv.

    Weight layout `[out, in, 3, 3]`, the same as the unfused conv the official E uses below
    128 px (`lreq.Conv2d` then `downscale2d`), so E uses this layer at every resolution: the same
    function (exactly, up to float rounding) with 2.25x fewer multiply-adds and no pooling pass.
    The summed kernel is scaled by 0.25 (the pooling).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(in_channels, out_channels, 3, bias=False)

    def _kernel_from(self, scaled: torch.Tensor) -> torch.Tensor:
        return _sum_shifted_windows(scaled) * 0.25

    # No `bias` argument: the block that uses a resampling conv adds its bias after it.
    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return F.conv2d(x, self.kernel(), stride=2, padding=1)


class UpConv2d(EqualConv2d):
    """2x nearest upsampling followed by a 3x3 conv (G below 128 px, official `upscale2d` then
    `lreq.Conv2d`), computed as one 4x4 stride-2 transposed conv.

    The same function as upsampling then convolving (exactly, up to float rounding: the
    transposed conv's kernel is the 3x3 kernel flipped, transposed and summed over the four
    shifted windows), with 2.25x fewer multiply-adds and no upsampled copy of the input. Weight
    layout `[out, in, 3, 3]` and fan-in `9 * in`, as the official conv, so checkpoints are
    unchanged; `FusedUpConv2d` is the official fused layer with its own layout.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(in_channels, out_channels, 3, bias=False)

    def _kernel_from(self, scaled: torch.Tensor) -> torch.Tensor:
        return _sum_shifted_windows(scaled.transpose(0, 1).flip(2, 3))

    # No `bias` argument: the block that uses a resampling conv adds its bias after it.
    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return F.conv_transpose2d(x, self.kernel(), stride=2, padding=1)


class FusedUpConv2d(_ScaledKernel):
    """2x nearest upsampling followed by a 3x3 conv, as one 4x4 stride-2 transposed conv.

    Used by G at >= 128 px. Weight layout is PyTorch's transposed one, `[in, out, 3, 3]`, and
    fan-in is `9 * in` (official `lreq.ConvTranspose2d`); the summed kernel is *not* scaled by
    0.25 (official quirk: the upsampling repeats pixels, so it must not average).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_channels, out_channels, 3, 3))
        self.weight_scale = math.sqrt(2.0) / math.sqrt(in_channels * 9)

    def _kernel_from(self, scaled: torch.Tensor) -> torch.Tensor:
        return _sum_shifted_windows(scaled)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv_transpose2d(x, self.kernel(), stride=2, padding=1)


def blur_reference(x: torch.Tensor) -> torch.Tensor:
    """[1, 2, 1] ⊗ [1, 2, 1] / 16 low-pass filter with zero padding, as sums of shifted views.

    The same numbers as the official depthwise convolution (`net.Blur`); `blur`'s reference in
    the tests (and its implementation before bench/NOTES.md, v10).
    """
    x = F.pad(x, (1, 1, 1, 1))
    x = x[:, :, :, :-2] + 2.0 * x[:, :, :, 1:-1] + x[:, :, :, 2:]
    x = x[:, :, :-2, :] + 2.0 * x[:, :, 1:-1, :] + x[:, :, 2:, :]
    return x * (1.0 / 16.0)


def _depthwise_blur(x: torch.Tensor) -> torch.Tensor:
    taps = torch.tensor([0.25, 0.5, 0.25], dtype=x.dtype, device=x.device)
    kernel = (taps[:, None] * taps[None, :]).expand(x.shape[1], 1, 3, 3).contiguous()
    with _full_precision(x):  # in the input's dtype, as the shifted sums
        return F.conv2d(x, kernel, padding=1, groups=x.shape[1])


# The blur as an operator of its own (`torch.ops.alae_hf.blur`): it is self-adjoint (a symmetric
# kernel with zero padding), so its backward is itself applied to the gradient, differentiable to
# any order (R1's double backward) at the cost of one forward each time, with no kernel gradient.
# An operator, not an autograd.Function: Dynamo treats it as one opaque node whose registered
# backward AOTAutograd differentiates again, so compiled R1 gradients are eager's to the bit.
@torch.library.custom_op("alae_hf::blur", mutates_args=())
def _blur_op(x: torch.Tensor) -> torch.Tensor:
    return _depthwise_blur(x)


@_blur_op.register_fake
def _(x: torch.Tensor) -> torch.Tensor:
    return torch.empty_like(x)


_blur_op.register_autograd(lambda ctx, grad: _blur_op(grad))


def blur(x: torch.Tensor) -> torch.Tensor:
    """[1, 2, 1] ⊗ [1, 2, 1] / 16 low-pass filter with zero padding (official `net.Blur`).

    Forward: the official depthwise convolution. Backward: the same filter applied to the
    gradient (`_blur_op`), not the convolution's backward: R1's double backward through a grouped
    conv is ~77x slower on cuDNN (bench/NOTES.md, v1), and autograd of shifted sums
    (`blur_reference`) allocates and fills a padded zero map for every slice on the CPU: ~10% of
    a 64 px training iteration (v10).
    """
    return _blur_op(x)


def upscale2d(x: torch.Tensor) -> torch.Tensor:
    """Nearest-neighbour 2x upsampling (official `net.upscale2d`).

    A broadcast view copied once: 3-4x faster on the CPU than `F.interpolate(mode="nearest")`
    at batch 32 (bench/NOTES.md, v9), the same numbers.
    """
    n, c, h, w = x.shape
    return x[:, :, :, None, :, None].expand(n, c, h, 2, w, 2).reshape(n, c, 2 * h, 2 * w)


def downscale2d(x: torch.Tensor) -> torch.Tensor:
    """2x2 box downsampling (official `net.downscale2d`)."""
    return F.avg_pool2d(x, 2, 2)


def pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Normalise each vector to unit RMS over dim 1 (F's input, official `net.pixel_norm`)."""
    return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + eps)


def instance_norm(x: torch.Tensor, eps: float) -> torch.Tensor:
    """Instance normalisation without affine or running statistics (biased variance)."""
    return F.instance_norm(x, eps=eps)


def style_mod(x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """AdaIN modulation: `x * (scale + 1) + bias` with style = [scale (C), bias (C)].

    The "+1" makes the affine's zero-initialised bias a unit scale (official `net.style_mod`).
    """
    style = style.view(style.shape[0], 2, x.shape[1], 1, 1)
    return torch.addcmul(style[:, 1], x, style[:, 0] + 1)


def channel_stats(x: torch.Tensor) -> torch.Tensor:
    """Per-channel spatial means and population stds (no epsilon), concatenated [means, stds].

    The statistics StyleALAE's encoder turns into styles (official `EncodeBlock.forward`).
    """
    m = x.mean(dim=(2, 3), keepdim=True)
    std = (x - m).pow(2).mean(dim=(2, 3), keepdim=True).sqrt()
    return torch.cat((m, std), dim=1).flatten(1)


def channel_stats_and_norm(x: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """`(channel_stats(x), instance_norm(x, eps))` from one set of statistics.

    E takes both of a map (official `EncodeBlock.forward`); computing the mean and the centred
    map once saves passes over the activations, forward and in R1's double backward
    (`bench/NOTES.md`, v4). Two passes (mean, then mean of squares of the centred map), not
    `torch.var_mean`: its one-pass Welford reduction is 3-10x slower on the CPU (v11).
    `channel_stats` and `instance_norm` stay the reference (`tests/test_speed_paths.py`).
    """
    mean = x.mean(dim=(2, 3), keepdim=True)
    centred = x - mean
    var = centred.pow(2).mean(dim=(2, 3), keepdim=True)
    stats = torch.cat((mean, var.sqrt()), dim=1).flatten(1)
    return stats, centred * torch.rsqrt(var + eps)


def leaky_relu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, LEAKY_SLOPE)


def fade_in(previous: torch.Tensor, current: torch.Tensor, blend: float) -> torch.Tensor:
    """Progressive-growing blend: `previous + blend * (current - previous)`, in the wider dtype.

    Under bf16 autocast the two paths differ in dtype (the 1x1 RGB convs stay in float32, the
    3x3 blocks run in bf16) and `torch.lerp` refuses mixed dtypes; float32 in, float32 out.
    """
    dtype = torch.promote_types(previous.dtype, current.dtype)
    return torch.lerp(previous.to(dtype), current.to(dtype), blend)


def runtime_scales(model: nn.Module) -> dict[str, float]:
    """Per parameter name, the equalized-lr factor applied at run time (`weight_scale`,
    `EqualLinear.bias_scale`): the divisors that turn the official files' baked-in effective
    weights into our stored ones (official `lreq.py` keeps weights pre-scaled)."""
    scales = {}
    for name, module in model.named_modules():
        if hasattr(module, "weight_scale"):
            scales[f"{name}.weight"] = module.weight_scale
        if isinstance(module, EqualLinear) and module.bias is not None:
            scales[f"{name}.bias"] = module.bias_scale
    return scales
