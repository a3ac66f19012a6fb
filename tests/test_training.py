"""Training: the three ALAE phases, the schedule, EMA, data, and the Accelerate script end to end.

The script runs in subprocesses (through `accelerate launch` where the launcher matters) on a
16 px model and a generated folder of odd images; everything else is tested in-process.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY
from PIL import Image

from alae_hf import StyleALAE
from alae_hf.training.data import (ImageFolderDataset, StreamSampler, downsample_to, fade_in_reals, make_dataset,
                                   random_flip, to_model_range)
from alae_hf.training.ema import EMA
from alae_hf.training.losses import (LatentDraw, draw_mixing_cutoff, encoder_discriminator_loss, generate,
                                     generator_loss, latent_reciprocity_loss, mix_styles, r1_penalty)
from alae_hf.training.optim import make_optimizers
from alae_hf.training.schedule import (OFFICIAL_TRAINING, ScheduleConfig, fade_ramp, lod_and_blend, schedule_at,
                                       schedule_preset)

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = str(ROOT / "train_accelerate.py")
MODEL_ARGS = ["--resolution", "16", "--start_channels", "8", "--max_channels", "16", "--latent_size", "8",
              "--mapping_layers", "2", "--train_batch_size", "2", "--report_to", "none"]
LAUNCH = [sys.executable, "-m", "accelerate.commands.launch", "--num_machines", "1", "--mixed_precision", "no",
          "--dynamo_backend", "no", "--main_process_port", "0", "--num_cpu_threads_per_process", "1"]


# ---- the three phases -------------------------------------------------------------------
def _grads(model):
    out = {}
    for name in ("mapping", "generator", "encoder", "discriminator"):
        grads = [p.grad for p in getattr(model, name).parameters()]
        out[name] = any(g is not None and g.abs().sum() > 0 for g in grads)
    return out


def _phase_losses(model, lod, blend):
    res = 4 * 2**lod
    g = torch.Generator().manual_seed(0)
    reals = torch.rand(3, 3, res, res, generator=g) * 2 - 1
    z = torch.randn(3, 8, generator=g)
    with torch.no_grad():
        fakes, _ = generate(model, LatentDraw(z), lod, blend, g)
    mixed = LatentDraw(z, torch.randn(3, 8, generator=g), cutoff=1)
    return {
        "step1": lambda: encoder_discriminator_loss(model, reals, fakes, blend)[0],
        "step2": lambda: generator_loss(model, mixed, lod, blend, g)[0],
        "step3": lambda: latent_reciprocity_loss(model, z, lod, blend, g)[0],
    }


@pytest.mark.parametrize("lod, blend", [(2, 1.0), (1, 0.5)])
def test_each_phase_trains_exactly_its_modules(tiny_model, lod, blend):
    model = tiny_model.train()
    expected = {"step1": {"encoder", "discriminator"}, "step2": {"mapping", "generator"},
                "step3": {"encoder", "generator", "mapping"}}
    for phase, loss_fn in _phase_losses(model, lod, blend).items():
        model.zero_grad(set_to_none=True)
        loss = loss_fn()
        assert loss.dtype == torch.float32 and torch.isfinite(loss)
        loss.backward()
        reached = {name for name, hit in _grads(model).items() if hit}
        assert reached == expected[phase], phase


def test_r1_is_half_gamma_times_squared_input_gradient(tiny_model):
    model = tiny_model
    reals = torch.rand(2, 3, 16, 16) * 2 - 1
    fakes = torch.rand(2, 3, 16, 16) * 2 - 1
    with_r1, stats = encoder_discriminator_loss(model, reals, fakes, 1.0, r1_gamma=10.0)
    without, _ = encoder_discriminator_loss(model, reals, fakes, 1.0, r1_gamma=0.0)
    x = reals.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model.discriminate(model.encode(x)).sum(), x)
    manual = grad.pow(2).sum(dim=[1, 2, 3]).mean()
    assert manual > 0
    assert torch.allclose(with_r1 - without, 5.0 * manual, rtol=1e-4)
    assert torch.allclose(stats["r1"], manual, rtol=1e-4)
    # the fp16 recipe: scaling the inner gradient and dividing it out changes nothing
    d = model.discriminate(model.encode(x))
    assert torch.allclose(r1_penalty(d, x, grad_scale=1024.0), grad.pow(2).sum(dim=[1, 2, 3]), rtol=1e-5)


def test_phases_under_bf16_autocast_give_fp32_losses(tiny_model):
    with torch.autocast("cpu", dtype=torch.bfloat16):
        for phase, loss_fn in _phase_losses(tiny_model.train(), 2, 1.0).items():
            tiny_model.zero_grad(set_to_none=True)
            loss = loss_fn()
            assert loss.dtype == torch.float32 and torch.isfinite(loss), phase
            loss.backward()
            assert all(torch.isfinite(p.grad).all() for p in tiny_model.parameters() if p.grad is not None)


def test_style_mixing_draws_and_layers():
    g = torch.Generator().manual_seed(0)
    draws = [draw_mixing_cutoff(0.9, 2, g) for _ in range(3000)]
    cutoffs = [c for c in draws if c is not None]
    assert abs(len(cutoffs) / len(draws) - 0.9) < 0.03
    assert set(cutoffs) == set(range(1, 7))  # uniform over [1, 2(lod+1)]
    assert draw_mixing_cutoff(0.0, 2, g) is None
    same = [draw_mixing_cutoff(0.9, 1, torch.Generator().manual_seed(5)) for _ in range(2)]
    assert same[0] == same[1]
    w, w2 = torch.zeros(2, 4), torch.ones(2, 4)
    mixed = mix_styles(w, w2, cutoff=3, num_styles=6)
    assert mixed.shape == (2, 6, 4)
    assert torch.equal(mixed[:, :3], torch.zeros(2, 3, 4)) and torch.equal(mixed[:, 3:], torch.ones(2, 3, 4))


def test_fade_in_of_reals():
    x = torch.rand(2, 3, 8, 8)
    assert fade_in_reals(x, 1.0) is x
    coarse = torch.nn.functional.interpolate(torch.nn.functional.avg_pool2d(x, 2), scale_factor=2, mode="nearest")
    assert torch.allclose(fade_in_reals(x, 0.0), coarse)
    assert torch.allclose(fade_in_reals(x, 0.25), 0.25 * x + 0.75 * coarse, atol=1e-6)


# ---- schedule -----------------------------------------------------------------------------
def test_schedule_at_chosen_image_counts():
    ffhq = schedule_preset("ffhq")  # 16 epochs x 60k per lod, fade-in over the first 8
    assert (ffhq.lod_kimg, ffhq.fade_kimg, ffhq.total_kimg) == (960, 480, 18_000)
    s = schedule_at(0, ffhq)
    assert (s.lod, s.blend, s.batch_size, s.learning_rate) == (0, 1.0, 512, 0.0015)
    assert schedule_at(959_999, ffhq).lod == 0
    s = schedule_at(960_000, ffhq)
    assert (s.lod, s.blend, s.batch_size, s.resolution) == (1, 0.0, 256, 8)
    assert schedule_at(960_000 + 240_000, ffhq).blend == pytest.approx(0.5)
    assert schedule_at(960_000 + 480_000, ffhq).blend == 1.0
    s = schedule_at(10**9, ffhq, num_processes=8)
    assert (s.lod, s.blend, s.batch_size, s.batch_per_process, s.learning_rate) == (8, 1.0, 32, 4, 0.003)
    assert schedule_at(10**9, ffhq, num_processes=1).batch_size == 16  # 1-GPU table, last entry repeats
    assert schedule_at(7 * 960_000 + 1, ffhq).learning_rate == 0.003  # LEARNING_RATES[7]


def test_blend_ramps_smoothly_from_zero_to_one():
    sched = ScheduleConfig(max_lod=3, lod_kimg=10, fade_kimg=5, total_kimg=100, learning_rates=(0.002,))
    counts = range(10_000, 15_001, 50)
    blends = [lod_and_blend(n, sched)[1] for n in counts]
    assert blends[0] == 0.0 and blends[-1] == 1.0
    steps = np.diff(blends)
    assert (steps >= 0).all() and steps.max() < 0.02  # monotone, no jumps
    assert steps[0] < steps[len(steps) // 2] > steps[-1]  # sinusoidal: flat at both ends
    assert fade_ramp(0.5) == pytest.approx(0.5)
    assert lod_and_blend(15_000 - 1, sched)[1] == pytest.approx(1.0, abs=1e-6)


def test_presets_match_the_official_tables():
    hq = OFFICIAL_TRAINING["celeba-hq256"]
    assert (hq.dataset_size, hq.epochs_per_lod, hq.train_epochs) == (29_000, 30, 280)
    assert hq.learning_rates == (0.0015,) * 7 + (0.003, 0.003)
    assert hq.batch_tables[8][-1] == 24 and hq.batch_tables[2] == (128, 128, 128, 64, 32, 32, 16)
    assert OFFICIAL_TRAINING["ffhq"].batch_tables[1] == (512, 256, 128, 64, 32, 16)
    assert OFFICIAL_TRAINING["bedroom"].epochs_per_lod == 2 and OFFICIAL_TRAINING["bedroom"].dataset_size == 758_260
    assert OFFICIAL_TRAINING["celeba"].learning_rates[6:] == (0.002, 0.003, 0.003)
    mnist = schedule_preset("mnist")
    assert (mnist.max_lod, mnist.lod_kimg, mnist.fade_kimg, mnist.total_kimg) == (3, 600, 300, 3600)
    assert {schedule_at(n, mnist, k).batch_size for n in (0, 10**8) for k in (1, 2, 4, 8)} == {128, 64}
    hq_sched = schedule_preset("celeba-hq256")
    assert (hq_sched.max_lod, hq_sched.lod_kimg, hq_sched.fade_kimg) == (6, 870, 435)


def test_no_progressive_and_overrides():
    flat = schedule_preset("celeba-hq256", progressive=False)
    assert lod_and_blend(0, flat) == (6, 1.0) and lod_and_blend(123_456, flat) == (6, 1.0)
    custom = schedule_preset("celeba-hq256", max_lod=2, batch_size=4, learning_rate=1e-3, lod_kimg=1, fade_kimg=0.5)
    s = schedule_at(2_100, custom, num_processes=3)
    assert (s.lod, s.batch_size, s.batch_per_process, s.learning_rate) == (2, 12, 4, 1e-3)
    # 3 processes use the 2-GPU table: 128 // 3 per process
    assert schedule_at(0, schedule_preset("celeba-hq256"), num_processes=3).batch_size == 126
    assert ScheduleConfig.from_dict(json.loads(json.dumps(custom.to_dict()))) == custom
    with pytest.raises(ValueError, match="fade_kimg"):
        custom.replace(fade_kimg=2)
    with pytest.raises(ValueError, match="unknown schedule keys"):
        custom.replace(lods=3)


# ---- EMA ----------------------------------------------------------------------------------
def test_ema_half_life_buffers_and_state(tiny_model):
    ema = EMA(tiny_model)
    assert ema.decay(10_000) == pytest.approx(0.5) and ema.decay(20_000) == pytest.approx(0.25)
    before = {k: v.clone() for k, v in ema.model.state_dict().items()}
    with torch.no_grad():
        for p in tiny_model.parameters():
            p.add_(1.0)
        tiny_model.w_avg.fill_(3.0)
    ema.update(tiny_model, 10_000)
    for name, p in ema.model.named_parameters():
        assert torch.allclose(p, before[name] + 0.5, atol=1e-6), name
        assert not p.requires_grad
    assert torch.equal(ema.model.w_avg, tiny_model.w_avg)  # copied, not averaged
    restored = EMA(StyleALAE(**TINY))
    restored.load_state_dict(ema.state_dict())
    assert restored.num_updates == 1
    assert all(torch.equal(a, b) for a, b in zip(restored.model.state_dict().values(), ema.model.state_dict().values()))


# ---- data ---------------------------------------------------------------------------------
def _write_folder(root: Path) -> Path:
    """8 files: RGB png/jpg, RGBA, grayscale, 16-bit, odd sizes, nesting, and one corrupt file."""
    rng = np.random.default_rng(0)
    (root / "a" / "b").mkdir(parents=True)
    for i in range(4):
        image = Image.fromarray(rng.integers(0, 255, (20 + i, 24, 3), dtype=np.uint8))
        image.save(root / (f"{i}.png" if i % 2 else f"a/{i}.JPG"))
    Image.fromarray(rng.integers(0, 255, (16, 16, 4), dtype=np.uint8), "RGBA").save(root / "a" / "b" / "rgba.png")
    Image.fromarray(rng.integers(0, 255, (16, 16), dtype=np.uint8), "L").save(root / "gray.webp")
    Image.fromarray(rng.integers(0, 65535, (18, 18), dtype=np.uint16)).save(root / "sixteen.tif")
    (root / "corrupt.png").write_bytes(b"definitely not a png" * 8)
    (root / "notes.txt").write_text("ignored")
    return root


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    return _write_folder(tmp_path_factory.mktemp("images"))


def test_image_folder_reads_odd_files_and_counts_bad_ones(image_folder, tmp_path):
    data = ImageFolderDataset(image_folder, resolution=16, channels=3)
    assert len(data) == 7 and data.skipped == 1
    items = [data[i] for i in range(len(data))]
    assert all(x.dtype == torch.uint8 and x.shape == (3, 16, 16) for x in items)
    assert ImageFolderDataset(image_folder, resolution=8, channels=1)[0].shape == (1, 8, 8)
    # a file that only fails when decoded is replaced by the next one and counted once
    folder = tmp_path / "lazy"
    shutil.copytree(image_folder, folder)
    good = (folder / "1.png").read_bytes()
    (folder / "0_truncated.png").write_bytes(good[: len(good) // 2])
    lazy = ImageFolderDataset(folder, resolution=16)
    assert len(lazy) == 8 and lazy.skipped == 1
    assert torch.equal(lazy[0], lazy[1]) and lazy.skipped == 2 and lazy[0].shape == (3, 16, 16)


def test_bad_sources_give_clear_errors(image_folder, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="0 readable images"):
        make_dataset(str(tmp_path / "empty"), None, 16, 3)
    with pytest.raises(ValueError, match="does not exist"):
        make_dataset(str(tmp_path / "missing"), None, 16, 3)
    with pytest.raises(ValueError, match=r"7 readable images \(1 unreadable.*at least 8"):
        make_dataset(str(image_folder), None, 16, 3, min_images=8)
    with pytest.raises(ValueError, match="exactly one"):
        make_dataset(None, None, 16, 3)
    try:
        import datasets  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match="needs the `datasets` package"):
            make_dataset(None, "some/dataset", 16, 3)


def test_synthetic_faces_spec():
    data = make_dataset("synthetic:faces:seed=1,length=5", None, 16, 1)
    assert len(data) == 5 and data[4].shape == (1, 16, 16)
    assert torch.equal(data[2], make_dataset("synthetic:faces:seed=1,length=5", None, 16, 1)[2])


def test_stream_sampler_shards_and_resumes():
    def take(sampler, n):
        it = iter(sampler)
        return [next(it) for _ in range(n)]

    single = take(StreamSampler(10, seed=3), 40)
    assert sorted(single[:10]) == list(range(10)) and single[:10] != single[10:20]  # epochs reshuffle
    rank0, rank1 = take(StreamSampler(10, 3, 0, 0, 2), 20), take(StreamSampler(10, 3, 0, 1, 2), 20)
    assert single == [x for pair in zip(rank0, rank1) for x in pair]  # disjoint shares of one stream
    assert take(StreamSampler(10, 3, start=14), 26) == single[14:]  # resuming at the image counter


def test_box_downsampling_and_flips():
    x = torch.rand(2, 3, 16, 16)
    assert torch.allclose(downsample_to(x, 4), x.reshape(2, 3, 4, 4, 4, 4).mean(dim=(3, 5)), atol=1e-6)
    assert torch.equal(to_model_range(torch.tensor([0, 255], dtype=torch.uint8)), torch.tensor([-1.0, 1.0]))
    flipped = random_flip(x, torch.Generator().manual_seed(0))
    assert all(torch.equal(f, a) or torch.equal(f, a.flip(-1)) for f, a in zip(flipped, x))


# ---- the script, end to end ----------------------------------------------------------------
def _env(**extra):
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    env.pop("ACCELERATE_USE_CPU", None)
    return env | extra


def _train(args, launch=None, env=None, check=True, script=SCRIPT):
    command = (launch or [sys.executable]) + [str(script)] + MODEL_ARGS + [str(a) for a in args]
    result = subprocess.run(command, cwd=ROOT, env=env or _env(), capture_output=True, text=True, timeout=300)
    if check and result.returncode:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


HASHING_WRAPPER = """
import hashlib, json, sys
from pathlib import Path
import torch
from alae_hf.training.options import parse_config
from alae_hf.training.trainer import train

def tensor_hash(module):
    # sha256 of every tensor of the state dict, by name: identical weights on all ranks
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()

def dump(run, info):
    folder = Path(run.config.output_dir) / "rank_hashes"
    folder.mkdir(parents=True, exist_ok=True)
    acc = run.accelerator
    (folder / f"rank{acc.process_index}.json").write_text(json.dumps(dict(
        info, rank=acc.process_index, distributed_type=str(acc.distributed_type),
        model=tensor_hash(run.model), ema=tensor_hash(run.ema.model))))

train(parse_config(sys.argv[1:]), on_finish=dump)
"""


def train_in_process(args, on_finish=None):
    """The trainer as `train_accelerate.py` runs it, in this process (so tests can patch the maths)."""
    from alae_hf.training.options import parse_config
    from alae_hf.training.trainer import train

    return train(parse_config(MODEL_ARGS + [str(a) for a in args]), on_finish=on_finish)


def nan_phase1_at(monkeypatch, steps, loss="encoder_discriminator_loss"):
    """Make the given loss NaN at the given (0-based) iterations; each iteration calls each loss once."""
    from alae_hf.training import step

    original, calls = getattr(step, loss), []

    def patched(*args, **kwargs):
        value, stats = original(*args, **kwargs)
        calls.append(1)
        if len(calls) - 1 in steps:
            value = value * float("nan")
            stats = {**stats, next(iter(stats)): value.detach()}
        return value, stats

    monkeypatch.setattr(step, loss, patched)


def _same_weights(a, b):
    sa, sb = StyleALAE.from_pretrained(a).state_dict(), StyleALAE.from_pretrained(b).state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.slow
def test_smoke_run_through_accelerate_launch(image_folder, tmp_path):
    out = tmp_path / "out"
    _train(["--train_data_dir", image_folder, "--output_dir", out, "--max_train_steps", 2, "--checkpointing_steps", 2,
            "--no-progressive", "--random_flip", "--sample_every_kimg", 0.002, "--report_to", "tensorboard",
            "--mixed_precision", "bf16"],
           launch=LAUNCH + ["--num_processes", "1"])
    model = StyleALAE.from_pretrained(out)
    assert model.arch.resolution == 16 and model.sample(2, seed=0).shape == (2, 3, 16, 16)
    summary = json.loads((out / "training_summary.json").read_text())
    assert summary["skipped_files"] == 1 and summary["steps"] == 2 and summary["images_seen"] == 4
    card = (out / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: alae_hf") and "![samples](samples.png)" in card
    assert (out / "samples.png").is_file() and len(list((out / "samples").glob("kimg-*.png"))) == 2
    assert list((out / "logs").rglob("events.out.tfevents.*"))
    ckpt = out / "checkpoint-2"
    assert (ckpt / "COMPLETE").is_file() and _same_weights(ckpt / "ema", out)  # final model = EMA weights


def _steps_by_module(model, saved):
    """The step counts of E's and D's parameters in a saved E+D optimizer state, whatever its grouping."""
    order = [p for group in make_optimizers(model, 0.0)[0].param_groups for p in group["params"]]
    index = {id(p): i for i, p in enumerate(order)}
    return [{int(saved["state"][index[id(p)]]["step"]) for p in module.parameters() if index[id(p)] in saved["state"]}
            for module in (model.encoder, model.discriminator)]


@pytest.mark.slow
def test_resume_continues_exactly_and_ignores_unfinished_checkpoints(image_folder, tmp_path):
    common = ["--train_data_dir", image_folder, "--max_train_steps", 4, "--lod_kimg", 0.004, "--random_flip"]
    a, b = tmp_path / "a", tmp_path / "b"
    _train(common + ["--output_dir", a, "--checkpointing_steps", 1, "--checkpoints_total_limit", 2])
    assert sorted(p.name for p in a.glob("checkpoint-*")) == ["checkpoint-3", "checkpoint-4"]  # rotated
    state = json.loads((a / "checkpoint-3" / "training_state.json").read_text())
    assert (state["step"], state["images_seen"], state["lod"]) == (3, 6, 1)  # lod 1 began at 4 images
    saved = torch.load(a / "checkpoint-3" / "optimizers.pt", weights_only=True)["encoder_discriminator"]
    steps = _steps_by_module(StyleALAE.from_pretrained(a / "checkpoint-3" / "model"), saved)
    assert steps == [{2}, {1}]  # state reset at the lod change; E steps in phases 1 and 3, D in phase 1 only
    # b: a copy of checkpoint-3 next to a half-written temp folder and an unmarked folder
    b.mkdir()
    shutil.copytree(a / "checkpoint-3", b / "checkpoint-3")
    shutil.copytree(a / "checkpoint-4", b / "checkpoint-9.tmp-1234")
    (b / "checkpoint-9.tmp-1234" / "COMPLETE").unlink()  # half-written: no marker yet
    shutil.copytree(a / "checkpoint-4", b / "checkpoint-8")
    (b / "checkpoint-8" / "COMPLETE").unlink()
    log = _train(common + ["--output_dir", b, "--checkpointing_steps", 1, "--resume_from_checkpoint", "latest"])
    assert "resumed from" in log.stdout and "checkpoint-3: step 3, 6 images, lod 1" in log.stdout
    assert not (b / "checkpoint-9.tmp-1234").exists()  # stale temp folders are cleaned up
    assert json.loads((b / "training_summary.json").read_text())["steps"] == 4
    # the resumed run ends bit-identical to the uninterrupted one: EMA, trained weights, optimizer state
    assert _same_weights(a, b) and _same_weights(a / "checkpoint-4" / "model", b / "checkpoint-4" / "model")
    opt_a, opt_b = (torch.load(d / "checkpoint-4" / "optimizers.pt", weights_only=True) for d in (a, b))
    for name in ("encoder_discriminator", "mapping_generator"):
        for i, s in opt_a[name]["state"].items():
            assert all(torch.equal(torch.as_tensor(s[k]), torch.as_tensor(opt_b[name]["state"][i][k])) for k in s)


@pytest.mark.slow
def test_two_processes_end_with_identical_weights(image_folder, tmp_path):
    out = tmp_path / "out"
    script = tmp_path / "train_with_hashes.py"
    script.write_text(HASHING_WRAPPER)
    _train(["--train_data_dir", image_folder, "--output_dir", out, "--max_train_steps", 3, "--lod_kimg", 0.008,
            "--checkpointing_steps", 3],
           launch=LAUNCH + ["--multi_gpu", "--num_processes", "2"], env=_env(ACCELERATE_USE_CPU="1"), script=script)
    ranks = [json.loads((out / "rank_hashes" / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["num_processes"] for r in ranks] == [2, 2] and "MULTI_CPU" in ranks[0]["distributed_type"]
    assert ranks[0]["model"] == ranks[1]["model"] and ranks[0]["ema"] == ranks[1]["ema"]
    assert ranks[0]["images_seen"] == 12  # 3 steps x 2 per process x 2 processes
    assert sorted(p.name for p in (out / "checkpoint-3").glob("rng_state_*.pt")) == ["rng_state_0.pt", "rng_state_1.pt"]


@pytest.mark.slow
def test_bad_data_fails_before_the_model_is_built(tmp_path):
    (tmp_path / "empty").mkdir()
    result = _train(["--train_data_dir", tmp_path / "empty", "--output_dir", tmp_path / "out"], check=False)
    assert result.returncode != 0
    assert "error: " in result.stderr and "0 readable images" in result.stderr and "Traceback" not in result.stderr
    assert "parameters" not in result.stdout and not (tmp_path / "out").exists()


def test_nonfinite_steps_are_skipped_counted_then_abort(image_folder, tmp_path, capsys, monkeypatch, fresh_accelerate):
    common = ["--train_data_dir", image_folder, "--max_train_steps", 3, "--max_nonfinite_steps", 2]
    # under fp16 (gradient scaler on) a NaN loss is skipped too, and the scaler backs off
    nan_phase1_at(monkeypatch, {1})
    train_in_process(common + ["--output_dir", tmp_path / "once", "--mixed_precision", "fp16"])
    assert json.loads((tmp_path / "once" / "training_summary.json").read_text())["nonfinite_steps"] == 1
    assert "(1 in a row, 1 in total)" in capsys.readouterr().out
    model = StyleALAE.from_pretrained(tmp_path / "once")
    assert all(torch.isfinite(p).all() for p in model.parameters())
    nan_phase1_at(monkeypatch, {0, 1, 2})
    with pytest.raises(SystemExit, match="aborting after 2 consecutive non-finite steps"):
        train_in_process(common + ["--output_dir", tmp_path / "always"])
    assert not (tmp_path / "always" / "config.json").exists()


def test_ema_rampup_caps_the_half_life():
    from alae_hf.training.ema import EMA

    model = torch.nn.Linear(2, 2)
    official, ramped = EMA(model), EMA(model, rampup=0.05)
    assert official.decay(32, images_seen=1_000) == pytest.approx(0.5 ** (32 / 10_000))
    assert ramped.decay(32, images_seen=1_000) == pytest.approx(0.5 ** (32 / 50))  # half-life 5% of 1k images
    assert ramped.decay(32, images_seen=10**7) == pytest.approx(official.decay(32))  # capped at the official value
    with pytest.raises(ValueError, match="rampup"):
        EMA(model, rampup=2.0)
