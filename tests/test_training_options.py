"""Opt-in departures from the official algorithm and bf16 training.

Each option is off by default and then changes nothing; on, it does exactly what it says:
lazy R1 (`--r1_interval`), the real-image reconstruction term (`--real_recon_weight`), the
style-mixing override (`--style_mixing_prob`); bf16 autocast runs through a fade-in.
"""

import json

import pytest
import torch
from conftest import TINY

from alae_hf import StyleALAE
from alae_hf.training import losses, optim, step
from alae_hf.training.options import TrainConfig, arch_and_schedule, parse_config

TINY_ARGS = ["--resolution", "16", "--start_channels", "8", "--max_channels", "16", "--latent_size", "8",
             "--mapping_layers", "2", "--report_to", "none", "--train_data_dir", "synthetic:faces"]


def _context(seed=0, **options):
    torch.manual_seed(seed)
    model = StyleALAE(**TINY).train()
    return step.StepContext(model, optim.make_optimizers(model, 0.002), torch.Generator().manual_seed(1),
                            torch.Generator().manual_seed(2), torch.amp.GradScaler("cpu", enabled=False), **options)


def _reals(n=2):
    return torch.rand(n, 3, 16, 16, generator=torch.Generator().manual_seed(3)) * 2 - 1


def _state(ctx):
    return [t.clone() for t in ctx.model.state_dict().values()]


def _run(ctx, steps):
    logs = [step.iteration(ctx, _reals(), 2, 1.0, step=i)[0] for i in range(steps)]
    return logs, _state(ctx)


# ---- lazy R1 ---------------------------------------------------------------------------------
def test_r1_interval_one_is_the_official_step():
    (_, official), (_, explicit) = _run(_context(), 3), _run(_context(r1_interval=1), 3)
    assert all(torch.equal(a, b) for a, b in zip(official, explicit))


def test_lazy_r1_weights_every_kth_step_by_k():
    ctx = _context(r1_gamma=10.0, r1_interval=4)
    assert [ctx.r1_weight(i) for i in range(6)] == [40.0, 0.0, 0.0, 0.0, 40.0, 0.0]
    logs, _ = _run(ctx, 5)
    assert ["r1" in log for log in logs] == [True, False, False, False, True]
    # a step without the penalty is the plain logistic loss
    model, reals = ctx.model, _reals()
    fakes = torch.rand(2, 3, 16, 16) * 2 - 1
    lazy, _ = losses.encoder_discriminator_loss(model, reals, fakes, 1.0, ctx.r1_weight(1))
    d = losses.F.softplus(model.discriminate(model.encode(fakes))) + losses.F.softplus(
        -model.discriminate(model.encode(reals)))
    assert torch.allclose(lazy, d.mean())
    with pytest.raises(ValueError, match="r1_interval"):
        _context(r1_interval=0)


# ---- the real-image reconstruction term ------------------------------------------------------
def test_real_recon_weight_zero_is_the_official_step():
    (_, official), (_, zero) = _run(_context(), 3), _run(_context(real_recon_weight=0.0), 3)
    assert all(torch.equal(a, b) for a, b in zip(official, zero))


def test_real_recon_term_adds_lambda_times_pixel_mse_and_trains_only_the_encoder(tiny_model):
    model, reals, fakes = tiny_model.train(), _reals(), torch.rand(2, 3, 16, 16) * 2 - 1
    plain, _ = losses.encoder_discriminator_loss(model, reals, fakes, 1.0, 0.0)
    with_term, stats = losses.encoder_discriminator_loss(model, reals, fakes, 1.0, 0.0, recon_weight=2.5, noise=7)
    rec = model.synthesize(model.encode(reals), noise=7)
    mse = (rec - reals).pow(2).mean()
    assert torch.allclose(with_term - plain, 2.5 * mse, rtol=1e-5) and torch.allclose(stats["recon_mse"], mse)
    # the term alone: gradients reach E only (G frozen in it, D and F not involved)
    model.zero_grad(set_to_none=True)
    losses.real_reconstruction_error(model, model.encode(reals), reals, 2, 1.0, 7).mean().backward()
    reached = {name.split(".")[0] for name, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum()}
    assert reached == {"encoder"}
    assert all(p.requires_grad for p in model.parameters())  # G unfrozen again


def test_real_recon_term_moves_the_encoder_toward_the_reals(tiny_model):
    """E+D steps with the term lower G(E(x))'s error on the batch; the same steps without it do not."""
    reals = _reals(4)
    with torch.no_grad():  # a fresh G's RGB layers have gain 0.03 (a grey start): give E something to steer
        for rgb in tiny_model.generator.to_rgb:
            rgb.weight.mul_(30.0)

    def error_after(weight):
        model = StyleALAE(**TINY).train()
        model.load_state_dict(tiny_model.state_dict())
        ctx = step.StepContext(model, optim.make_optimizers(model, 0.01), torch.Generator().manual_seed(1),
                               torch.Generator().manual_seed(2), torch.amp.GradScaler("cpu", enabled=False),
                               r1_gamma=0.0, real_recon_weight=weight)
        for i in range(15):
            step.run_phase(ctx, step.phases(ctx, reals, 2, 1.0, step=i)[0])
        with torch.no_grad():
            return float(losses.real_reconstruction_error(model, model.encode(reals), reals, 2, 1.0, 7).mean())

    with torch.no_grad():
        before = float(losses.real_reconstruction_error(tiny_model, tiny_model.encode(reals), reals, 2, 1.0, 7).mean())
    with_term, without = error_after(100.0), error_after(0.0)
    assert with_term < 0.8 * before and with_term < 0.8 * without, (before, with_term, without)


# ---- options ---------------------------------------------------------------------------------
@pytest.mark.parametrize("flag, value, message", [
    ("--r1_interval", "0", "--r1_interval must be > 0"),
    ("--real_recon_weight", "-1", "--real_recon_weight must be >= 0"),
    ("--real_recon_weight", "nan", "--real_recon_weight must be a finite number"),
    ("--style_mixing_prob", "1.5", "--style_mixing_prob must be in [0, 1]"),
])
def test_bad_values_are_refused_in_one_line(flag, value, message):
    with pytest.raises(SystemExit, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_config(TINY_ARGS + [flag, value])


def test_style_mixing_prob_overrides_the_preset():
    arch, _ = arch_and_schedule(TrainConfig(style_mixing_prob=0.0))
    assert arch.style_mixing_prob == 0.0
    assert arch_and_schedule(TrainConfig())[0].style_mixing_prob == 0.9  # the official value


# ---- bf16 --------------------------------------------------------------------------------------
def test_bf16_losses_stay_within_tolerance_of_fp32(tiny_model):
    """Under bf16 autocast (F, D, style affines and RGB convs stay in fp32; the 3x3 convs round to
    8 mantissa bits) the logistic, generator and reciprocity losses agree with fp32 to 2%; R1,
    a squared input gradient taken through every bf16 conv twice, to 20%."""
    model, reals, fakes = tiny_model.train(), _reals(4), torch.rand(4, 3, 16, 16) * 2 - 1
    z = torch.randn(4, 8, generator=torch.Generator().manual_seed(5))

    def all_losses():
        _, d = losses.encoder_discriminator_loss(model, reals, fakes, 1.0, 10.0)
        g, _ = losses.generator_loss(model, losses.LatentDraw(z), 2, 1.0, 1)
        ae, _ = losses.latent_reciprocity_loss(model, z, 2, 1.0, 1)
        return torch.stack([d["d_real"], d["d_fake"], g.detach(), ae.detach()]), d["r1"]

    reference, r1 = all_losses()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        bf16, r1_bf16 = all_losses()
    assert torch.allclose(bf16, reference, rtol=0.02, atol=1e-3), (bf16, reference)
    assert torch.allclose(r1_bf16, r1, rtol=0.2), (r1_bf16, r1)


@pytest.mark.slow
def test_bf16_run_goes_through_a_fade_in(tmp_path, fresh_accelerate, capsys):
    """Progressive growing under bf16 autocast: fade-ins at 8 and 16 px (the float32 RGB path
    meets the bf16 blocks in `layers.fade_in`), every step finite."""
    from alae_hf.training.trainer import train

    out = tmp_path / "bf16"
    config = parse_config(TINY_ARGS + ["--mixed_precision", "bf16", "--lod_kimg", "0.016", "--train_batch_size", "4",
                                       "--max_train_kimg", "0.048", "--output_dir", str(out), "--r1_interval", "2",
                                       "--real_recon_weight", "1"])
    train(config)
    summary = json.loads((out / "training_summary.json").read_text())
    assert summary["images_seen"] == 48 and summary["nonfinite_steps"] == 0
    assert StyleALAE.from_pretrained(out).arch.resolution == 16
    # on a CPU without native bf16 the run says that bf16 is emulated there (and slower than fp32)
    from alae_hf.training.startup import cpu_has_native_bf16

    assert ("no native bfloat16" in capsys.readouterr().out) == (not cpu_has_native_bf16())
