"""The one training step (`alae_hf.training.step`) and the training options (`TrainConfig`).

The benchmark and the trainer run the same functions; a non-finite phase leaves every weight,
buffer and optimizer state as it was; options are validated in one line before anything is built.
"""

import copy
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
import torch
from conftest import TINY

from alae_hf import StyleALAE
from alae_hf.training import losses, optim, step
from alae_hf.training.options import TrainConfig, build_parser, parse_config
from alae_hf.training.schedule import ScheduleConfig

ROOT = Path(__file__).resolve().parents[1]


def _context(kind="lreq", seed=0):
    torch.manual_seed(seed)
    model = StyleALAE(**TINY).train()
    ctx = step.StepContext(model, optim.make_optimizers(model, 0.002, kind), torch.Generator().manual_seed(1),
                           torch.Generator().manual_seed(2), torch.amp.GradScaler("cpu", enabled=False))
    reals = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(3)) * 2 - 1
    return ctx, reals


def _snapshot(ctx):
    return (copy.deepcopy(ctx.model.state_dict()),
            [copy.deepcopy(opt.state_dict()) for opt in ctx.optimizers])


def _equal(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    return a == b


# ---- one step for the trainer and the benchmark ------------------------------------------
def test_benchmark_and_trainer_run_the_same_step(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import train_throughput as bench

    from alae_hf.training import trainer

    assert bench.iteration is step.iteration is trainer.iteration
    assert bench.run_phase is step.run_phase and bench.phases is step.phases
    assert bench.make_optimizers is optim.make_optimizers is trainer.make_optimizers
    # and the benchmark's closures really train: one iteration moves every network and w_avg
    torch.manual_seed(0)
    model = StyleALAE(**TINY).train()
    before = copy.deepcopy(model.state_dict())
    bench.alae_steps(model, 2, "fp32", torch.device("cpu"))["iteration"]()
    after = model.state_dict()
    for prefix in ("mapping.", "generator.", "encoder.", "discriminator.", "w_avg"):
        assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith(prefix)), prefix


def test_every_phase_reports_its_mean_w():
    ctx, reals = _context()
    for phase in step.phases(ctx, reals, lod=2, blend=1.0):
        stats, finite = step.backward(ctx, phase)
        assert finite and stats["w_mean"].shape == (TINY["latent_size"],), phase.name
    fakes, w = losses.generate(ctx.model, losses.LatentDraw(torch.randn(2, 8)), 2, 1.0, None)
    _, stats = losses.encoder_discriminator_loss(ctx.model, reals, fakes.detach(), 1.0, w=w)
    assert torch.allclose(stats["w_mean"], w.mean(0))


@pytest.mark.parametrize("kind", ["lreq", "adam"])
@pytest.mark.parametrize("loss", ["generator_loss", "latent_reciprocity_loss"])
def test_a_nonfinite_phase_changes_no_weight_buffer_or_optimizer_state(monkeypatch, kind, loss):
    ctx, reals = _context(kind)
    assert step.iteration(ctx, reals, 2, 1.0)[1]  # optimizer state exists now
    before = _snapshot(ctx)
    original = getattr(step, loss)

    def nan_loss(*args, **kwargs):
        value, stats = original(*args, **kwargs)
        return value * float("nan"), stats

    monkeypatch.setattr(step, loss, nan_loss)
    stats, finite = step.iteration(ctx, reals, 2, 1.0)
    assert not finite and torch.isfinite(stats["loss_d"])  # phase 1 ran (and stepped) before the NaN
    assert _equal(_snapshot(ctx), before)
    assert all(p.grad is None for p in ctx.model.parameters())
    # without the rollback the same iteration would have changed the weights: the guard matters
    ctx.rollback = None
    step.iteration(ctx, reals, 2, 1.0)
    assert not _equal(_snapshot(ctx)[0], before[0])


def test_a_nonfinite_first_step_after_an_optimizer_reset_leaves_no_state(monkeypatch):
    ctx, reals = _context()
    original = step.latent_reciprocity_loss
    monkeypatch.setattr(step, "latent_reciprocity_loss",
                        lambda *a, **k: (lambda v, s: (v * float("nan"), s))(*original(*a, **k)))
    before = _snapshot(ctx)
    assert not step.iteration(ctx, reals, 2, 1.0)[1]
    assert all(not opt.state for opt in ctx.optimizers) and _equal(_snapshot(ctx), before)


def test_gradients_and_stats_are_averaged_in_one_buffer_and_checked_after_it():
    ctx, reals = _context()
    seen = []

    def reduce_mean(flat):  # stands in for accelerator.reduce(flat, "mean") over two processes
        seen.append(flat.numel())
        return flat * 0.5

    ctx.reduce_mean = reduce_mean
    phase = step.phases(ctx, reals, 2, 1.0)[1]
    stats, finite = step.backward(ctx, phase)
    grads = [p.grad for p in phase.params if p.grad is not None]
    assert finite and len(seen) == 1 and seen[0] == sum(g.numel() for g in grads) + sum(
        v.numel() for v in stats.values())
    plain_ctx, _ = _context()  # same weights and random streams, one process
    plain, _ = step.backward(plain_ctx, step.phases(plain_ctx, reals, 2, 1.0)[1])
    assert torch.allclose(stats["loss_g"], 0.5 * plain["loss_g"])
    plain_grads = [p.grad for p in step.phases(plain_ctx, reals, 2, 1.0)[1].params if p.grad is not None]
    assert all(torch.allclose(g, 0.5 * h) for g, h in zip(grads, plain_grads))  # averaged in place
    ctx.reduce_mean = lambda flat: flat * float("nan")  # another rank was non-finite: every rank skips
    assert not step.backward(ctx, phase)[1]


# ---- TrainConfig --------------------------------------------------------------------------
def test_every_option_is_a_field_with_the_same_default():
    parser = build_parser()
    actions = {a.dest: a for a in parser._actions if a.dest != "help"}
    assert set(actions) == {f.name for f in fields(TrainConfig)}
    defaults = TrainConfig()
    declared = {f.name: f.default for f in fields(TrainConfig)}  # before __post_init__ fills --preset
    for name, action in actions.items():
        assert action.default == declared[name], name
        assert action.help, name
    assert defaults.preset == "celeba-hq256" and TrainConfig(architecture="mlp").preset == "mnist-fc"
    assert defaults.r1_gamma == losses.R1_GAMMA and defaults.optimizer == "lreq"
    config = parse_config(["--no-progressive", "--r1_gamma", "5", "--max_shard_size", "16MB", "--hub_token", "x"])
    assert not config.progressive and config.r1_gamma == 5.0 and config.max_shard_bytes == 16_000_000
    assert "hub_token" not in config.to_dict() and TrainConfig.from_dict(config.to_dict()).r1_gamma == 5.0


@pytest.mark.parametrize("argv, message", [
    (["--r1_gamma", "-1"], "--r1_gamma must be >= 0"),
    (["--r1_gamma", "nan"], "--r1_gamma must be a finite number"),
    (["--r1_gamma", "inf"], "--r1_gamma must be a finite number"),
    (["--lod_kimg", "0.0001"], "--lod_kimg must be 0"),
    (["--learning_rate", "nan"], "--learning_rate must be a finite number"),
    (["--learning_rate", "inf"], "--learning_rate must be a finite number"),
    (["--learning_rate", "0"], "--learning_rate must be > 0"),
    (["--seed", "-1"], "--seed must be >= 0"),
    (["--dataloader_num_workers", "-2"], "--dataloader_num_workers must be >= 0"),
    (["--checkpointing_steps", "-5"], "--checkpointing_steps must be >= 0"),
    (["--max_train_steps", "0"], "--max_train_steps must be > 0"),
    (["--max_train_minutes", "0"], "--max_train_minutes must be > 0"),
    (["--max_shard_size", "big"], "--max_shard_size must be a size"),
])
def test_bad_values_are_refused_in_one_line(argv, message):
    with pytest.raises(SystemExit) as exit_info:
        parse_config(argv)
    text = str(exit_info.value)
    assert text.startswith("error: ") and message in text and "\n" not in text


def test_a_tiny_lod_kimg_is_refused_by_the_schedule_too():
    with pytest.raises(ValueError, match="lod_kimg must be 0"):
        ScheduleConfig(max_lod=2, lod_kimg=0.0004, fade_kimg=0.0, total_kimg=1.0, learning_rates=(0.001,))


@pytest.mark.slow
def test_the_script_refuses_bad_values_before_building_anything(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, str(ROOT / "train_accelerate.py"), "--train_data_dir",
                             "synthetic:faces", "--output_dir", str(out), "--r1_gamma", "-3"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and result.stderr.strip() == "error: --r1_gamma must be >= 0, got -3.0"
    assert not out.exists()
