"""LREQAdam restated for runtime-scaled weights equals the official optimizer (custom_adam.py)."""

import copy
import io
import math

import pytest
import torch

from alae_hf.training.optim import LREQAdam, equalized_lr_scales, lreq_param_groups, make_optimizers

LR, BETA2, EPS = 0.0015, 0.99, 1e-8


def _official_step(weights, grads, sqs, coefs, t):
    """The official LREQAdam update in official units (effective weights W = c * w), float64."""
    for W, G, v, c in zip(weights, grads, sqs, coefs):
        v.mul_(BETA2).addcmul_(G, G, value=1 - BETA2)
        W.addcdiv_(G, v.sqrt() + EPS, value=-LR * math.sqrt(1 - BETA2 ** t) * c)


def _loss(model, scale):
    """A loss whose gradient reaches every parameter: every lod's to/from-RGB, noise weights, F, G, E, D."""
    w = model.map(torch.linspace(-1, 1, 2 * 8, dtype=torch.float64).view(2, 8))
    total = model.discriminate(w).mean()
    for lod in range(model.arch.layer_count):
        image = model.synthesize(w, noise=torch.Generator().manual_seed(lod), lod=lod)
        total = total + image.square().mean() + model.encode(image).square().mean()
    return scale * total


def _grads(model, scale):
    model.zero_grad(set_to_none=True)
    _loss(model, scale).backward()
    return [p.grad.clone() for p in model.parameters()]


def test_scales_are_the_official_lr_equalization_coefs(tiny_model):
    scales = equalized_lr_scales(tiny_model)
    by_name = {n: scales[p] for n, p in tiny_model.named_parameters()}
    latent = 8
    # F and D linears: gain sqrt(2), lrmul 0.1 -> weight coef sqrt(2)/sqrt(Z)*0.1, bias coef 0.1.
    assert by_name["mapping.map_blocks.0.fc.weight"] == pytest.approx(math.sqrt(2) / math.sqrt(latent) * 0.1)
    assert by_name["mapping.map_blocks.0.fc.bias"] == pytest.approx(0.1)
    assert by_name["discriminator.map_blocks.0.bias"] == pytest.approx(0.1)
    # to_rgb: gain 0.03 over a 1x1 kernel; plain parameters (const, block biases) have coef 1.
    to_rgb = [n for n in by_name if "to_rgb" in n and n.endswith("weight")][0]
    assert by_name[to_rgb] < 0.03
    assert by_name["generator.const"] == 1.0
    assert all(by_name[n] == 1.0 for n in by_name if "bias_1" in n or "noise_weight" in n)


def test_one_step_matches_the_closed_form(tiny_model):
    model = tiny_model.double()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    grads = _grads(model, 1e-9)  # gradients as small as c * eps, where eps's placement matters
    scales = equalized_lr_scales(model)
    opt = LREQAdam(lreq_param_groups([model]), lr=LR)
    opt.step()
    for (name, p), g in zip(model.named_parameters(), grads):
        c = scales[p]
        expected = before[name] - LR * math.sqrt(1 - BETA2) * g / (math.sqrt(1 - BETA2) * g.abs() + c * EPS)
        torch.testing.assert_close(p.detach(), expected, rtol=1e-12, atol=0, msg=name)


@pytest.mark.parametrize("grad_scale", [1e-9, 1.0])
def test_several_steps_match_the_official_optimizer_in_official_units(tiny_model, grad_scale):
    """At each step, the official update of W = c * w from G = g / c (its gradient) equals ours.

    Both sides see the same gradient, so rounding cannot compound through the loss's chaos."""
    model = tiny_model.double()
    enc, dec = make_optimizers(model, LR)  # the default is the official optimizer
    params = list(model.parameters())
    coefs = [equalized_lr_scales(model)[p] for p in params]
    sqs = [torch.zeros_like(p) for p in params]
    for t in range(1, 5):
        grads = _grads(model, grad_scale)
        with torch.no_grad():
            weights = [p * c for p, c in zip(params, coefs)]  # what official checkpoints store
            _official_step(weights, [g / c for g, c in zip(grads, coefs)], sqs, coefs, t)
        enc.step()
        dec.step()
        for (name, p), W, c in zip(model.named_parameters(), weights, coefs):
            torch.testing.assert_close(p.detach() * c, W, rtol=1e-12, atol=1e-15 * c,
                                       msg=lambda m: f"step {t}, {name}: {m}")


def test_stock_adam_places_eps_differently(tiny_model):
    """The reason LREQAdam exists: with gradients near c * eps, stock Adam takes other steps."""
    model = tiny_model.double()
    runs = {}
    for kind in ("lreq", "adam"):
        m = copy.deepcopy(model)
        _grads(m, 1e-9)
        for opt in make_optimizers(m, LR, kind):
            opt.step()
        runs[kind] = m.mapping.map_blocks[0].fc.weight.detach() - model.mapping.map_blocks[0].fc.weight.detach()
    assert not torch.allclose(runs["lreq"], runs["adam"], rtol=0.1)
    assert all(isinstance(o, torch.optim.Adam) for o in make_optimizers(model, LR, "adam"))


def test_official_grouping_and_every_parameter_once(tiny_model):
    enc, dec = make_optimizers(tiny_model, LR)
    ids = lambda opt: {id(p) for g in opt.param_groups for p in g["params"]}  # noqa: E731
    expected_enc = {id(p) for m in (tiny_model.encoder, tiny_model.discriminator) for p in m.parameters()}
    expected_dec = {id(p) for m in (tiny_model.generator, tiny_model.mapping) for p in m.parameters()}
    assert ids(enc) == expected_enc and ids(dec) == expected_dec
    assert sum(len(g["params"]) for o in (enc, dec) for g in o.param_groups) == len(list(tiny_model.parameters()))
    assert all(g["betas"] == (0.0, 0.99) and g["eps"] == 1e-8 for o in (enc, dec) for g in o.param_groups)
    with pytest.raises(ValueError, match="one of lreq, adam"):
        make_optimizers(tiny_model, LR, "sgd")
    with pytest.raises(ValueError, match="betas"):
        LREQAdam(tiny_model.parameters(), betas=(0.9, 0.99))


def test_parameters_without_gradient_are_untouched(tiny_model):
    """Phase 3 does not involve D: its weights and state must not change (see module docstring)."""
    enc, _ = make_optimizers(tiny_model, LR)
    d_before = copy.deepcopy(tiny_model.discriminator.state_dict())
    tiny_model.zero_grad(set_to_none=True)
    tiny_model.encode(torch.randn(2, 3, 16, 16)).square().mean().backward()
    enc.step()
    assert all(torch.equal(v, tiny_model.discriminator.state_dict()[k]) for k, v in d_before.items())
    assert not any(p in enc.state for p in tiny_model.discriminator.parameters())


def test_state_round_trip_resumes_identically(tiny_model):
    a, b = tiny_model.double(), copy.deepcopy(tiny_model.double())
    opt_a = make_optimizers(a, LR)
    for _ in range(2):
        _grads(a, 1.0)
        [o.step() for o in opt_a]
    buffer = io.BytesIO()
    torch.save([o.state_dict() for o in opt_a], buffer)
    b.load_state_dict(a.state_dict())
    opt_b = make_optimizers(b, LR)
    for o, s in zip(opt_b, torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)):
        o.load_state_dict(s)
    for model, opts in ((a, opt_a), (b, opt_b)):
        _grads(model, 1.0)
        [o.step() for o in opts]
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
