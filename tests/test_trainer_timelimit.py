"""Training that survives time limits: `--max_train_minutes` ends a run with a
checkpoint in time, `--max_shard_size` writes the checkpoint weights in shards, and a run split that
way, moved to another folder and resumed ends bit-identical to an uninterrupted one.

Time is driven by a fake clock (no timed tests): every reading advances it by one second.
"""

import itertools
import json
import shutil

import pytest
import torch

from alae_hf import StyleALAE
from alae_hf.training import budget
from test_training import image_folder, train_in_process  # noqa: F401


HEADER = 6_000  # bytes of safetensors JSON header / torch.save zip records per shard of this tiny model


@pytest.fixture
def fake_clock(monkeypatch):
    ticks = itertools.count()
    monkeypatch.setattr(budget, "clock", lambda: float(next(ticks)))


def test_the_budget_keeps_room_for_a_step_and_two_saves(fake_clock):
    b = budget.TimeBudget(limit_s=100.0)  # starts at t=0
    assert not b.exhausted()  # t=1: 1 + 1.25 * (0 + 2 * 10) = 26 <= 100
    b.step_started()  # t=2
    b.step_started()  # t=3: the slowest step so far took 1 s
    assert b.step_s == 1.0
    b.saved(40.0)  # a measured save replaces the first guess
    assert b.save_s == 40.0
    assert b.exhausted()  # t=5: 5 + 1.25 * (1 + 80) > 100
    assert not budget.TimeBudget(limit_s=None).exhausted()


def _hashes(store):
    def hook(run, info):
        store.update(model={k: v.clone() for k, v in run.model.state_dict().items()},
                     ema={k: v.clone() for k, v in run.ema.model.state_dict().items()}, info=info)
    return hook


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_run_split_by_the_time_limit_with_sharded_checkpoints_resumes_bit_identically(
        image_folder, tmp_path, monkeypatch, capsys, fresh_accelerate):
    common = ["--train_data_dir", image_folder, "--lod_kimg", 0.004, "--random_flip", "--max_shard_size", "20KB"]
    whole, first, second = {}, {}, {}
    train_in_process(common + ["--output_dir", tmp_path / "whole", "--max_train_steps", 4,
                               "--checkpointing_steps", 100], on_finish=_hashes(whole))
    # machine 1: 30 s of (fake) wall time, no periodic checkpoints; the budget must save before stopping
    ticks = itertools.count()
    monkeypatch.setattr(budget, "clock", lambda: float(next(ticks)))
    train_in_process(common + ["--output_dir", tmp_path / "m1", "--max_train_steps", 4, "--checkpointing_steps", 0,
                               "--max_train_minutes", 0.5], on_finish=_hashes(first))
    stopped = first["info"]["steps"]
    assert 1 <= stopped < 4 and "--max_train_minutes 0.5: stopping at step" in capsys.readouterr().out
    assert next(ticks) <= 30  # everything, final save included, happened within the budget
    checkpoint = tmp_path / "m1" / f"checkpoint-{stopped}"
    # 20 kB of tensor bytes per file (the Hub's convention), plus each file's small header
    for pattern in ("model/*.safetensors", "ema/*.safetensors", "optimizers-*-of-*.pt"):
        shards = sorted(checkpoint.glob(pattern))
        assert len(shards) > 1 and all(s.stat().st_size <= 20_000 + HEADER for s in shards), pattern
    assert (checkpoint / "model" / "diffusion_pytorch_model.safetensors.index.json").is_file()
    assert (checkpoint / "optimizers.pt").stat().st_size <= 20_000
    # machine 2: only the checkpoint travels
    monkeypatch.setattr(budget, "clock", __import__("time").monotonic)
    (tmp_path / "m2").mkdir()
    shutil.copytree(checkpoint, tmp_path / "m2" / checkpoint.name)
    train_in_process(common + ["--output_dir", tmp_path / "m2", "--max_train_steps", 4, "--checkpointing_steps", 100,
                               "--resume_from_checkpoint", "latest"], on_finish=_hashes(second))
    assert second["info"]["steps"] == 4 and second["info"]["images_seen"] == whole["info"]["images_seen"]
    assert _same(second["model"], whole["model"]) and _same(second["ema"], whole["ema"])


def test_sharded_weights_load_strictly(tmp_path, tiny_model):
    tiny_model.save_pretrained(tmp_path / "m", max_shard_size="20KB")
    loaded = StyleALAE.from_pretrained(tmp_path / "m")
    assert _same(loaded.state_dict(), tiny_model.state_dict())
    index = json.loads((tmp_path / "m" / "diffusion_pytorch_model.safetensors.index.json").read_text())
    shard = sorted(set(index["weight_map"].values()))[1]
    (tmp_path / "m" / shard).unlink()
    with pytest.raises(Exception, match="00002"):
        StyleALAE.from_pretrained(tmp_path / "m")


TWO_CLOCKS = """
import itertools, os, sys
from alae_hf.training import budget
from alae_hf.training.options import parse_config
from alae_hf.training.trainer import train

rank, ticks = int(os.environ["RANK"]), itertools.count()
budget.clock = lambda: float(next(ticks)) * (1 + 9 * rank)  # rank 1's clock runs ten times faster
train(parse_config(sys.argv[1:]))
"""


@pytest.mark.slow
def test_processes_that_disagree_about_the_time_stop_together(image_folder, tmp_path):
    from test_training import LAUNCH, _env, _train

    script, out = tmp_path / "two_clocks.py", tmp_path / "out"
    script.write_text(TWO_CLOCKS)
    _train(["--train_data_dir", image_folder, "--output_dir", out, "--max_train_steps", 20, "--checkpointing_steps", 0,
            "--max_train_minutes", 1, "--no-progressive"],
           launch=LAUNCH + ["--multi_gpu", "--num_processes", "2"], env=_env(ACCELERATE_USE_CPU="1"), script=script)
    steps = json.loads((out / "training_summary.json").read_text())["steps"]
    assert 0 < steps < 20 and [p.name for p in out.glob("checkpoint-*")] == [f"checkpoint-{steps}"]


def test_an_interrupt_saves_a_checkpoint_and_the_run_resumes_bit_identically(
        image_folder, tmp_path, monkeypatch, capsys, fresh_accelerate):
    """SIGTERM (or Ctrl-C) during step 2: the step finishes, checkpoint-3 is written, the run ends;
    resuming from it gives the same weights as an uninterrupted run."""
    import os
    import signal

    from alae_hf.training import step

    common = ["--train_data_dir", image_folder, "--lod_kimg", 0.004, "--max_train_steps", 5,
              "--checkpointing_steps", 100]
    whole, resumed = {}, {}
    train_in_process(common + ["--output_dir", tmp_path / "whole"], on_finish=_hashes(whole))
    original, calls = step.iteration, itertools.count()

    def interrupted_at_step_2(*args, **kwargs):
        if next(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)  # arrives mid-step, as a scheduler's would
        return original(*args, **kwargs)

    monkeypatch.setattr("alae_hf.training.trainer.iteration", interrupted_at_step_2)
    train_in_process(common + ["--output_dir", tmp_path / "split"])
    assert "SIGTERM: stopping at step 3" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "split").glob("checkpoint-*")) == ["checkpoint-3"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the run's handler is gone again
    monkeypatch.setattr("alae_hf.training.trainer.iteration", original)
    train_in_process(common + ["--output_dir", tmp_path / "split", "--resume_from_checkpoint", "latest"],
                     on_finish=_hashes(resumed))
    assert resumed["info"]["steps"] == 5
    assert _same(whole["model"], resumed["model"]) and _same(whole["ema"], resumed["ema"])
