"""The CPU fast paths of alae_hf.models.layers compute their reference's function, values and gradients
(bench/NOTES.md, v9-v11), in float64 so that only a real difference in meaning could fail."""

import torch
import torch.nn.functional as F

from alae_hf.models.layers import (
    FusedDownConv2d,
    UpConv2d,
    blur,
    blur_reference,
    upscale2d,
)


def _randn(*shape, seed=0):
    return torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def _grads(out: torch.Tensor, inputs: list[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    return torch.autograd.grad((out * _randn(*out.shape, seed=9)).sum(), inputs)


def test_upscale2d_equals_nearest_interpolation():
    x = _randn(2, 3, 5, 7)
    assert torch.equal(upscale2d(x), F.interpolate(x, scale_factor=2.0, mode="nearest"))


def test_up_conv_equals_upsampling_then_its_3x3_conv():
    """UpConv2d (G below 128 px) is the official nearest 2x + 3x3 conv, as one transposed conv:
    the same outputs and the same gradients for the input and the stored weight."""
    torch.manual_seed(0)
    layer = UpConv2d(4, 6).double()
    x = _randn(2, 4, 5, 5).requires_grad_(True)
    fast = layer(x)
    reference = F.conv2d(upscale2d(x), layer.weight * layer.weight_scale, padding=1)
    assert torch.allclose(fast, reference, atol=1e-12)
    for a, b in zip(_grads(fast, [x, layer.weight]), _grads(reference, [x, layer.weight])):
        assert torch.allclose(a, b, atol=1e-12)


def test_down_conv_has_the_gradients_of_its_3x3_conv_then_pooling():
    """E uses FusedDownConv2d at every resolution: below 128 px the official code convolves then
    average-pools with the same weight layout (forward checked in test_fast_paths.py)."""
    torch.manual_seed(0)
    layer = FusedDownConv2d(4, 6).double()
    x = _randn(2, 4, 8, 8).requires_grad_(True)
    fast = layer(x)
    reference = F.avg_pool2d(F.conv2d(x, layer.weight * layer.weight_scale, padding=1), 2)
    assert torch.allclose(fast, reference, atol=1e-12)
    for a, b in zip(_grads(fast, [x, layer.weight]), _grads(reference, [x, layer.weight])):
        assert torch.allclose(a, b, atol=1e-12)


def test_blur_operator_has_the_shifted_sums_gradients_to_second_order():
    """The blur's backward is the blur itself (self-adjoint): first and second derivatives (R1's
    double backward) equal those of the shifted-sums reference."""
    x = _randn(2, 3, 7, 6)
    assert torch.autograd.gradcheck(blur, (x.clone().requires_grad_(True),))
    assert torch.autograd.gradgradcheck(blur, (x.clone().requires_grad_(True),))

    def r1_like(fn):
        inputs = x.clone().requires_grad_(True)
        out = fn(inputs)
        (grad,) = torch.autograd.grad((out * out.flip(3)).sum(), inputs, create_graph=True)
        (second,) = torch.autograd.grad(grad.pow(2).sum(), inputs)
        return out, grad, second

    for a, b in zip(r1_like(blur), r1_like(blur_reference)):
        assert torch.allclose(a, b, atol=1e-12)


def test_blur_keeps_the_input_dtype_under_autocast():
    x = torch.randn(2, 3, 8, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert blur(x).dtype == torch.float32 and blur(x.bfloat16()).dtype == torch.bfloat16
