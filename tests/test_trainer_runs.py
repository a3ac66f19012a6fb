"""What the shortest training examples leave behind, driven in-process on a 16 px model: a run
shorter than its checkpoint interval still ends resumable, a new run does not replace a finished
model unless told to (`--overwrite_output_dir`), the progress bar counts to the run's real end, and a
full disk during a weights write is one line."""

from __future__ import annotations

import json
import shutil
import types
from pathlib import Path

import pytest
import torch
from test_training import image_folder, train_in_process  # noqa: F401

from alae_hf import StyleALAE
from alae_hf.training import checkpoints as ckpt
from alae_hf.training import trainer
from alae_hf.training.options import arch_and_schedule, parse_config
from alae_hf.training.schedule import schedule_at

ROOT = Path(__file__).resolve().parents[1]


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return StyleALAE.from_pretrained(folder).state_dict()


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_run_shorter_than_its_checkpoint_interval_ends_resumable(image_folder, tmp_path, capsys,
                                                                   fresh_accelerate):
    """The README's smoke run then `--resume_from_checkpoint latest`: it resumes (it used to find
    no checkpoint and start over in the finished model's folder), and the split run ends
    bit-identical to an uninterrupted one."""
    common = ["--train_data_dir", image_folder, "--lod_kimg", 0.004, "--random_flip"]  # default interval: 500 steps
    out = tmp_path / "out"
    train_in_process(common + ["--output_dir", out, "--max_train_steps", 3])
    assert [p.name for _, p in ckpt.complete_checkpoints(out)] == ["checkpoint-3"]
    assert ckpt.validate_checkpoint(out / "checkpoint-3") == []
    capsys.readouterr()
    train_in_process(common + ["--output_dir", out, "--max_train_steps", 5, "--resume_from_checkpoint", "latest"])
    assert "checkpoint-3: step 3, 6 images" in capsys.readouterr().out
    assert json.loads((out / "training_summary.json").read_text())["steps"] == 5
    train_in_process(common + ["--output_dir", tmp_path / "whole", "--max_train_steps", 5])
    assert _same(_weights(out), _weights(tmp_path / "whole"))


def test_a_new_run_does_not_replace_a_finished_model_unless_told(image_folder, tmp_path, capsys, fresh_accelerate):
    out = tmp_path / "out"
    args = ["--train_data_dir", image_folder, "--output_dir", out, "--no-progressive"]
    train_in_process(args + ["--max_train_steps", 2])
    finished = _weights(out)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        train_in_process(args + ["--max_train_steps", 1, "--seed", 5])
    message = str(exit_info.value)
    assert message.startswith("error: --output_dir") and "finished model" in message and "\n" not in message
    assert "--overwrite_output_dir" in message and "--resume_from_checkpoint latest" in message
    assert "parameters" not in capsys.readouterr().out  # refused before any model was built
    # a folder whose checkpoints are gone: `latest` finds nothing to resume and must not start over silently
    shutil.rmtree(out / "checkpoint-2")
    with pytest.raises(SystemExit, match="finished model.*--overwrite_output_dir"):
        train_in_process(args + ["--max_train_steps", 3, "--resume_from_checkpoint", "latest"])
    assert _same(_weights(out), finished)
    train_in_process(args + ["--max_train_steps", 1, "--seed", 5, "--overwrite_output_dir"])
    assert not _same(_weights(out), finished)
    assert json.loads((out / "training_summary.json").read_text())["steps"] == 1


def _fake_run(argv: list[str], images: int = 0, step: int = 0, processes: int = 1) -> types.SimpleNamespace:
    config = parse_config(argv)
    _, sched = arch_and_schedule(config)
    return types.SimpleNamespace(config=config, sched=sched, images=images, step=step,
                                 accelerator=types.SimpleNamespace(num_processes=processes))


def _simulated_stop(run: types.SimpleNamespace) -> int:
    """`trainer.loop`'s own stopping rule, one step at a time."""
    config, images, step = run.config, run.images, run.step
    stop = min(config.max_train_kimg or float("inf"), run.sched.total_kimg) * 1000
    while images < stop and (config.max_train_steps is None or step < config.max_train_steps):
        images, step = images + schedule_at(images, run.sched, run.accelerator.num_processes).batch_size, step + 1
    return images


@pytest.mark.parametrize("argv, processes, images, step", [
    (["--max_train_steps", "50", "--train_batch_size", "4", "--lod_kimg", "0.032"], 1, 0, 0),  # the README example
    (["--max_train_steps", "700", "--lod_kimg", "2"], 1, 0, 0),         # per-lod batches 128, 128, 128, 64, ...
    (["--max_train_steps", "900", "--lod_kimg", "2"], 4, 1500, 10),     # resumed, four processes
    (["--max_train_kimg", "3.3", "--lod_kimg", "1"], 2, 0, 0),          # the image limit, overshot by part of a batch
    (["--preset", "mnist", "--max_train_steps", "100000", "--lod_kimg", "5"], 1, 0, 0),  # the schedule's own total
])
def test_the_progress_bar_total_is_where_the_run_stops(argv, processes, images, step):
    run = _fake_run(argv, images, step, processes)
    total, limit = trainer.planned_stop(run)
    assert total == _simulated_stop(run)
    expected = {"--max_train_steps": "--max_train_steps", "--max_train_kimg": "--max_train_kimg"}
    if "100000" in argv:
        assert limit == "the schedule's total" and total == 3_600_000
    else:
        assert limit.startswith(next(v for k, v in expected.items() if k in argv))


def test_the_readme_smoke_run_counts_to_200_images():
    """It used to count to the preset's 8.12M images (an ETA of hundreds of hours)."""
    run = _fake_run(["--train_data_dir", "synthetic:faces:length=64", "--resolution", "32", "--train_batch_size", "4",
                     "--lod_kimg", "0.032", "--max_train_steps", "50", "--report_to", "none"])
    assert trainer.planned_stop(run) == (200, "--max_train_steps 50")


def test_the_bar_of_a_real_run_ends_at_its_total(image_folder, tmp_path, monkeypatch, capsys, fresh_accelerate):
    bars = []

    class Recording(trainer.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            bars.append(self)

    monkeypatch.setattr(trainer, "tqdm", Recording)
    train_in_process(["--train_data_dir", image_folder, "--output_dir", tmp_path / "out", "--max_train_steps", 3,
                      "--lod_kimg", 0.004, "--max_train_minutes", 60])
    assert bars[0].total == bars[0].n == 6 == json.loads((tmp_path / "out" / "training_summary.json").read_text())[
        "images_seen"]
    assert "training to 6 images (--max_train_steps 3), or for --max_train_minutes 60 if that comes first" in capsys.readouterr().out


def _full_disk_on(monkeypatch, where: str) -> None:
    """safetensors' own error for ENOSPC, raised when a weights file under `where` is written."""
    import safetensors.torch
    from safetensors import SafetensorError

    real = safetensors.torch.save_file

    def save_file(tensors, filename, *args, **kwargs):
        if where in str(filename):
            raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")
        return real(tensors, filename, *args, **kwargs)

    monkeypatch.setattr(safetensors.torch, "save_file", save_file)


def test_a_full_disk_while_writing_checkpoint_weights_is_one_line(image_folder, tmp_path, monkeypatch,
                                                                  fresh_accelerate):
    out = tmp_path / "out"
    _full_disk_on(monkeypatch, "checkpoint-2.tmp")
    with pytest.raises(SystemExit) as exit_info:
        train_in_process(["--train_data_dir", image_folder, "--output_dir", out, "--max_train_steps", 3,
                          "--checkpointing_steps", 1, "--no-progressive"])
    message = str(exit_info.value)
    assert message.startswith("error: could not write checkpoint-2") and "disk is full" in message
    assert str(out / "checkpoint-1") in message and "\n" not in message
    assert [p.name for _, p in ckpt.complete_checkpoints(out)] == ["checkpoint-1"]


def test_a_full_disk_while_writing_the_final_model_is_one_line(image_folder, tmp_path, monkeypatch,
                                                               fresh_accelerate):
    out = tmp_path / "out"
    _full_disk_on(monkeypatch, str(out / "diffusion_pytorch_model"))
    with pytest.raises(SystemExit) as exit_info:
        train_in_process(["--train_data_dir", image_folder, "--output_dir", out, "--max_train_steps", 2,
                          "--no-progressive"])
    message = str(exit_info.value)
    assert message.startswith("error: could not write the final model") and "disk is full" in message
    assert f"the last good checkpoint is {out / 'checkpoint-2'}" in message and "\n" not in message
