"""Speed paths compute what their pure-PyTorch references compute.

Each fast formulation is checked against the reference it replaces (float64, so that only the
maths can differ), and the networks stay traceable as one graph by `torch.compile(fullgraph=True)`
in every training phase, R1's double backward included: the precondition for compiling the step.
"""

import torch
import torch.nn.functional as F

from alae_hf import StyleALAE
from alae_hf.models.layers import channel_stats, channel_stats_and_norm, instance_norm
from alae_hf.training.ema import EMA


def test_channel_stats_and_norm_equals_the_two_reference_functions():
    x = torch.randn(3, 5, 8, 8, dtype=torch.float64) * 3 + 1
    stats, normalized = channel_stats_and_norm(x, 1e-5)
    assert torch.allclose(stats, channel_stats(x), atol=1e-12)
    assert torch.allclose(normalized, instance_norm(x, 1e-5), atol=1e-12)


def test_channel_stats_and_norm_has_the_reference_gradients_of_r1():
    """R1 differentiates E twice: first and second derivatives must match the reference."""
    torch.manual_seed(0)
    x = torch.randn(2, 4, 6, 6, dtype=torch.float64)
    weight = torch.randn(4, 4, 3, 3, dtype=torch.float64, requires_grad=True)

    def penalty(fn):
        inputs = x.clone().requires_grad_(True)
        stats, y = fn(F.conv2d(inputs, weight, padding=1))
        out = (stats.sum(1) + y.pow(2).sum((1, 2, 3))).sum()
        (grad,) = torch.autograd.grad(out, inputs, create_graph=True)
        (second,) = torch.autograd.grad(grad.pow(2).sum(), weight)
        return grad, second

    fast = penalty(lambda t: channel_stats_and_norm(t, 1e-5))
    reference = penalty(lambda t: (channel_stats(t), instance_norm(t, 1e-5)))
    for a, b in zip(fast, reference):
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-10)


def test_from_rgb_single_leaky_relu_equals_the_official_two():
    """E's FromRGB is followed by two LReLU(0.2) in the official code; one of slope 0.04 is the same."""
    from alae_hf.models.layers import leaky_relu

    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    model = StyleALAE(resolution=8, start_channels=4, max_channels=8, latent_size=4, mapping_layers=1).double()
    expected = leaky_relu(leaky_relu(model.encoder.from_rgb[0](x)))
    assert torch.allclose(model.encoder._from_rgb(0, x), expected, rtol=1e-12, atol=1e-14)


def test_ema_foreach_lerp_equals_the_per_parameter_reference():
    torch.manual_seed(0)
    model = StyleALAE(resolution=8, start_channels=4, max_channels=8, latent_size=4, mapping_layers=1).double()
    ema = EMA(model)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))
    before = {k: v.clone() for k, v in ema.model.named_parameters()}
    beta = ema.decay(32)
    ema.update(model, 32)
    current = dict(model.named_parameters())
    for name, p in ema.model.named_parameters():
        expected = current[name].detach() + beta * (before[name] - current[name].detach())  # official Model.lerp
        assert torch.allclose(p, expected, rtol=1e-12, atol=1e-12), name


def _tiny():
    torch.manual_seed(0)
    return StyleALAE(resolution=16, start_channels=8, max_channels=16, latent_size=8, mapping_layers=2).train()


def test_encoder_and_discriminator_with_r1_trace_as_one_graph():
    """The D step (E and D on reals and fakes, R1's autograd.grad with create_graph, backward)
    compiles without a graph break once Dynamo traces autograd ops, with eager's gradients."""
    from torch._dynamo import config as dynamo_config
    from torch._dynamo import reset

    from alae_hf.training.losses import r1_penalty

    model = _tiny()
    reals = (torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(1)) * 2 - 1).requires_grad_(True)
    fakes = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(2)) * 2 - 1

    def loss(reals, fakes):
        d_real = model.discriminate(model.encode(reals))
        d_fake = model.discriminate(model.encode(fakes))
        return (F.softplus(d_fake) + F.softplus(-d_real) + 5.0 * r1_penalty(d_real, reals)).mean()

    def grads(fn):
        model.zero_grad(set_to_none=True)
        fn(reals, fakes).backward()
        return [p.grad for p in model.encoder.parameters() if p.grad is not None]

    reference = grads(loss)
    reset()
    with dynamo_config.patch(trace_autograd_ops=True):
        compiled = grads(torch.compile(loss, fullgraph=True, backend="aot_eager"))
    reset()
    assert len(compiled) == len(reference) > 0
    for a, b in zip(compiled, reference):
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-7)


def test_generator_and_encoder_trace_as_one_graph_with_noise_tensors():
    """The G and latent-reconstruction phases compile whole when noise comes as tensors (a
    torch.Generator inside the graph is a break: draw noise before the compiled region)."""
    from torch._dynamo import reset

    model = _tiny()
    z = torch.randn(2, 8, generator=torch.Generator().manual_seed(1))
    noise = model.make_noise(2, torch.Generator().manual_seed(2))

    def loss(z, noise):
        w = model.map(z)
        images = model.synthesize(w, noise=noise)
        return (model.encode(images) - w.detach()).pow(2).mean() + F.softplus(-model.discriminate(w)).mean()

    reference = loss(z, noise)
    reset()
    compiled = torch.compile(loss, fullgraph=True, backend="aot_eager")(z, noise)
    reset()
    assert torch.allclose(compiled, reference, rtol=1e-6)


def test_encoder_blocks_stay_in_bf16_under_autocast():
    """E's biases follow the conv output's dtype, so no element-wise pass of an encoder block is
    promoted back to fp32 under bf16 autocast (only from_rgb, kept fp32 on purpose, is)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Float32Maps(TorchDispatchMode):
        ops: list[str] = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            maps = isinstance(out, torch.Tensor) and out.dim() == 4 and out.shape[0] == 3  # not weights
            if maps and out.dtype == torch.float32 and not func.is_view:
                self.ops.append(func._overloadpacket.__name__)
            return out

    model = _tiny().eval()
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16), Float32Maps() as seen:
        x = model.encoder._from_rgb(0, x)
        for block in model.encoder.encode_block:
            x = block(x)[0]
    assert x.dtype == torch.bfloat16
    assert seen.ops == ["convolution", "leaky_relu"]  # from_rgb and its LReLU only


def test_scaled_kernels_scope_gives_the_reference_gradients_in_every_phase():
    """One batched multiply for a phase's weights (alae_hf.models.layers.scaled_kernels) gives the same
    losses and gradients as scaling each weight at each use: R1's double backward included, and
    the G phase's frozen critic (functional_call's detached weights) left untouched."""
    from alae_hf.models.layers import scaled_kernels
    from alae_hf.training.losses import (
        LatentDraw,
        encoder_discriminator_loss,
        generator_loss,
        latent_reciprocity_loss,
    )

    model = _tiny().double()
    lod = model.arch.max_lod
    reals = torch.rand(3, 3, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 2 - 1
    fakes = torch.rand(3, 3, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(2)) * 2 - 1
    z = torch.randn(3, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    noise = [n.double() for n in model.make_noise(3, torch.Generator().manual_seed(4))]
    ed = list(model.encoder.parameters()) + list(model.discriminator.parameters())
    fg = list(model.generator.parameters()) + list(model.mapping.parameters())
    phases = [(lambda: encoder_discriminator_loss(model, reals, fakes, 1.0)[0], ed),
              (lambda: generator_loss(model, LatentDraw(z, z.flip(0), 3), lod, 1.0, noise)[0], fg),
              (lambda: latent_reciprocity_loss(model, z, lod, 1.0, noise)[0], ed + fg)]

    def run(loss_fn, params, scoped):
        model.zero_grad(set_to_none=True)
        with scaled_kernels(model, params) if scoped else torch.enable_grad():
            loss = loss_fn()
        loss.backward()
        return loss.detach(), {n: p.grad for n, p in model.named_parameters() if p.grad is not None}

    for loss_fn, params in phases:
        loss, grads = run(loss_fn, params, scoped=True)
        reference_loss, reference = run(loss_fn, params, scoped=False)
        assert torch.allclose(loss, reference_loss, rtol=1e-12)
        assert grads.keys() == reference.keys()
        for name in grads:
            assert torch.allclose(grads[name], reference[name], rtol=1e-10, atol=1e-12), name
    assert all(m._scoped is None for m in model.modules() if hasattr(m, "_scoped"))  # the scope cleans up
