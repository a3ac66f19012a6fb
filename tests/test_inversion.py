"""Encoder-initialised inversion (`alae_hf.editing.invert`) on a tiny random model, CPU, fixed seeds."""

import pytest
import torch
from torch import nn

from alae_hf.editing import InversionResult, invert


class TinyFeatures(nn.Module):
    """A stand-in for the attribute net: any module with `features(images) -> [N, D]`."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(images)).flatten(1)


@pytest.fixture
def images(tiny_model):
    # Targets the model can nearly reach (a sample plus a little noise), so optimisation has
    # somewhere to go from the untrained encoder's guess.
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        x = tiny_model.synthesize(tiny_model.map(torch.randn(3, 8, generator=g)))
    return (x + 0.05 * torch.randn(x.shape, generator=g)).clamp(-1, 1)


def test_refinement_lowers_the_loss_and_raises_psnr(tiny_model, images):
    r = invert(tiny_model, images, steps=30, lr=0.05, feature_weight=0)
    assert isinstance(r, InversionResult) and len(r.losses) == 31 and r.steps == 30
    assert r.losses[-1] < 0.8 * r.losses[0]
    assert all(after > before for before, after in zip(r.psnr_before, r.psnr_after))
    # The returned reconstruction is G(w) of the returned code.
    with torch.no_grad():
        assert torch.allclose(r.reconstruction, tiny_model.synthesize(r.w).clamp(-1, 1), atol=1e-6)


def test_zero_steps_returns_the_encoders_code_exactly(tiny_model, images):
    with torch.no_grad():
        w = tiny_model.encode(images)
        rec = tiny_model.synthesize(w).clamp(-1, 1)
    r = invert(tiny_model, images, steps=0, space="w")
    assert torch.equal(r.w, w) and torch.equal(r.w_encoder, w) and torch.equal(r.reconstruction, rec)
    assert r.psnr_before == r.psnr_after and len(r.losses) == 1
    r_plus = invert(tiny_model, images, steps=0, space="w+")
    assert torch.equal(r_plus.w, tiny_model.to_w_plus(w))


def test_model_weights_are_untouched_and_requires_grad_restored(tiny_model, images):
    before = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    tiny_model.encoder.requires_grad_(False)  # a mixed state must come back as it was
    flags = {k: p.requires_grad for k, p in tiny_model.named_parameters()}
    net = TinyFeatures()
    net_before = {k: v.clone() for k, v in net.state_dict().items()}
    invert(tiny_model, images, steps=5, feature_weight=0.5, feature_net=net)
    after = tiny_model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert {k: p.requires_grad for k, p in tiny_model.named_parameters()} == flags
    assert all(p.grad is None for p in tiny_model.parameters())
    assert all(torch.equal(net_before[k], v) for k, v in net.state_dict().items())
    assert all(p.requires_grad and p.grad is None for p in net.parameters())


@pytest.mark.parametrize("space", ["w", "w+"])
def test_code_shapes_per_space(tiny_model, images, space):
    r = invert(tiny_model, images, steps=2, space=space, feature_weight=0)
    n, z, styles = images.shape[0], tiny_model.arch.latent_size, tiny_model.num_styles
    expected = (n, z) if space == "w" else (n, styles, z)
    assert tuple(r.w.shape) == expected == tuple(r.w_encoder.shape) and r.space == space
    assert not r.w.requires_grad and r.reconstruction.shape == images.shape


def test_images_are_inverted_independently_of_their_batch(tiny_model, images):
    together = invert(tiny_model, images, steps=10, feature_weight=0)
    alone = invert(tiny_model, images[1:2], steps=10, feature_weight=0)
    assert torch.allclose(together.w[1:2], alone.w, atol=1e-4)


def test_feature_loss_is_used_and_deterministic_without_noise(tiny_model, images):
    net = TinyFeatures()
    a = invert(tiny_model, images, steps=5, feature_weight=1.0, feature_net=net)
    b = invert(tiny_model, images, steps=5, feature_weight=1.0, feature_net=net)
    pixel_only = invert(tiny_model, images, steps=5, feature_weight=0)
    assert torch.equal(a.w, b.w) and a.losses == b.losses
    assert a.loss_terms == {"pixel": 1.0, "feature": 1.0} and pixel_only.loss_terms == {"pixel": 1.0}
    assert not torch.allclose(a.w, pixel_only.w)


def test_noise_generator_is_drawn_once_and_reproducible(tiny_model, images):
    runs = [invert(tiny_model, images, steps=3, feature_weight=0, noise=torch.Generator().manual_seed(7))
            for _ in range(2)]
    assert torch.equal(runs[0].w, runs[1].w)
    assert not torch.equal(runs[0].reconstruction, invert(tiny_model, images, steps=3, feature_weight=0).reconstruction)


def test_domain_regulariser_and_progress_callback(tiny_model, images):
    calls = []
    r = invert(tiny_model, images, steps=4, feature_weight=0, domain_weight=0.1,
               progress=lambda s, t: calls.append((s, t)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)] and r.loss_terms == {"pixel": 1.0, "domain": 0.1}


def test_runs_inside_a_callers_no_grad_and_inference_mode(tiny_model, images):
    reference = invert(tiny_model, images, steps=3, feature_weight=0).w
    with torch.no_grad():
        assert torch.equal(invert(tiny_model, images, steps=3, feature_weight=0).w, reference)
    with torch.inference_mode():
        x = images.clone()
    assert torch.equal(invert(tiny_model, x, steps=3, feature_weight=0).w, reference)


@pytest.mark.parametrize("kwargs, match", [
    (dict(images=torch.zeros(1, 3, 8, 8)), r"images \[N, 3, 16, 16\]"),
    (dict(images=torch.zeros(1, 1, 16, 16)), r"images \[N, 3, 16, 16\]"),
    (dict(images=torch.zeros(3, 16, 16)), r"images \[N, 3, 16, 16\]"),
    (dict(images=torch.zeros(0, 3, 16, 16)), r"images \[N, 3, 16, 16\]"),
    (dict(images=torch.full((1, 3, 16, 16), 2.0)), r"in \[-1, 1\], got values in \[2, 2\]"),
    (dict(images=torch.full((1, 3, 16, 16), float("nan"))), "finite"),
    (dict(images=torch.zeros(1, 3, 16, 16, dtype=torch.uint8)), "float images"),
    (dict(steps=-1), r"steps must be an integer in \[0, 1000\]"),
    (dict(steps=1001), r"steps must be an integer in \[0, 1000\]"),
    (dict(steps=2.5), r"steps must be an integer in \[0, 1000\]"),
    (dict(space="z"), "space must be 'w' or 'w\\+'"),
    (dict(lr=0.0), "lr must be a positive number"),
    (dict(feature_weight=-1.0), "feature_weight must be a non-negative number"),
])
def test_bad_inputs_raise_one_line_value_errors(tiny_model, kwargs, match):
    args = dict(images=torch.zeros(1, 3, 16, 16), steps=1, feature_weight=0) | kwargs
    with pytest.raises(ValueError, match=match) as err:
        invert(tiny_model, **args)
    assert "\n" not in str(err.value)


def test_runs_in_the_models_dtype(tiny_model, images):
    model = tiny_model.double()
    r = invert(model, images, steps=3, feature_weight=0)  # float32 images are cast to the model's dtype
    assert r.w.dtype == r.reconstruction.dtype == torch.float64
    assert all(p.dtype == torch.float64 for p in model.parameters())


def test_default_feature_loss_uses_the_shipped_attribute_net(tiny_model, images):
    r = invert(tiny_model, images, steps=2)  # feature_net=None: the shipped net, resized inputs
    assert r.loss_terms == {"pixel": 1.0, "feature": 0.01} and len(r.losses) == 3
