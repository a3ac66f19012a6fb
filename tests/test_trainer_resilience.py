"""Runs that cannot be lost or misdirected (trainer side), driven in-process on a 16 px model.

Each test would fail on the trainer before `TrainConfig`/`run_state`: an unwritable output folder
found only at the first save, "skipped" non-finite steps that changed weights and were
checkpointed, a missing RNG file silently re-seeded, a full disk ending in a traceback.
"""

import json
import shutil

import pytest
import torch
from test_training import image_folder, nan_phase1_at, train_in_process

from alae_hf import StyleALAE
from alae_hf.training import run_state


def _capture(store):
    def hook(run, info):
        store.update(model={k: v.clone() for k, v in run.model.state_dict().items()},
                     ema={k: v.clone() for k, v in run.ema.model.state_dict().items()},
                     optimizers=[opt.state_dict() for opt in run.ctx.optimizers], info=info)
    return hook


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_an_unwritable_output_dir_is_refused_before_the_model_is_built(image_folder, tmp_path, capsys,
                                                                       fresh_accelerate):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(SystemExit) as exit_info:
        train_in_process(["--train_data_dir", image_folder, "--output_dir", blocker / "out", "--max_train_steps", 1])
    message = str(exit_info.value)
    assert message.startswith("error: --output_dir") and str(blocker / "out") in message and "not writable" in message
    assert "parameters" not in capsys.readouterr().out  # no model was built


def test_a_skipped_step_changes_nothing_and_is_not_checkpointed(image_folder, tmp_path, monkeypatch,
                                                                fresh_accelerate):
    # phase 2 of the second iteration is NaN: phase 1 had already stepped E and D and moved w_avg
    nan_phase1_at(monkeypatch, {1}, loss="generator_loss")
    out, final = tmp_path / "out", {}
    train_in_process(["--train_data_dir", image_folder, "--output_dir", out, "--max_train_steps", 2,
                      "--checkpointing_steps", 1, "--no-progressive"], on_finish=_capture(final))
    assert final["info"]["nonfinite_steps"] == 1
    assert (out / "checkpoint-1").is_dir() and not (out / "checkpoint-2").exists()  # none during the streak
    first = out / "checkpoint-1"
    assert _same(final["model"], StyleALAE.from_pretrained(first / "model").state_dict())  # weights and w_avg
    assert _same(final["ema"], StyleALAE.from_pretrained(first / "ema").state_dict())
    saved = torch.load(first / "optimizers.pt", weights_only=True)
    for now, name in zip(final["optimizers"], ("encoder_discriminator", "mapping_generator")):
        then = saved[name]["state"]
        assert now["state"].keys() == then.keys()
        assert all(_same({k: torch.as_tensor(v) for k, v in now["state"][i].items()},
                         {k: torch.as_tensor(v) for k, v in then[i].items()}) for i in then)


def test_an_abort_names_the_newest_finite_checkpoint_and_writes_none_after_it(image_folder, tmp_path, monkeypatch,
                                                                              fresh_accelerate):
    nan_phase1_at(monkeypatch, set(range(2, 10)))
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        train_in_process(["--train_data_dir", image_folder, "--output_dir", out, "--max_train_steps", 8,
                          "--checkpointing_steps", 1, "--checkpoints_total_limit", 1, "--max_nonfinite_steps", 3])
    assert "aborting after 3 consecutive non-finite steps" in str(exit_info.value)
    assert f"resume from {out / 'checkpoint-2'}" in str(exit_info.value)
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-2"]


def test_nonfinite_weights_are_never_saved(tmp_path, tiny_model):
    with torch.no_grad():
        tiny_model.w_avg[0] = float("inf")
    assert not run_state.all_finite(tiny_model) and run_state.all_finite(StyleALAE(**tiny_model.arch.to_dict()))


def _first_run(image_folder, out, steps=2, extra=()):
    train_in_process(["--train_data_dir", image_folder, "--output_dir", out, "--max_train_steps", steps,
                      "--checkpointing_steps", steps, "--no-progressive", *extra])


def test_a_missing_rng_file_is_named_and_refused_unless_allowed(image_folder, tmp_path, capsys, fresh_accelerate):
    out = tmp_path / "out"
    _first_run(image_folder, out)
    (out / "checkpoint-2" / "rng_state_0.pt").unlink()
    resume = ["--train_data_dir", image_folder, "--output_dir", out, "--max_train_steps", 3, "--no-progressive",
              "--resume_from_checkpoint", "latest", "--checkpointing_steps", 10]
    with pytest.raises(SystemExit) as exit_info:
        train_in_process(resume)
    message = str(exit_info.value)
    assert "rng_state_0.pt is missing" in message and "not be bit-identical" in message
    assert "--allow_rng_reset" in message and "\n" not in message
    assert "changed" not in message  # the old message blamed a process-count change that did not happen
    train_in_process(resume + ["--allow_rng_reset"])
    assert "re-seeding" in capsys.readouterr().out
    assert json.loads((out / "training_summary.json").read_text())["steps"] == 3


def test_a_full_disk_names_the_last_good_checkpoint(image_folder, tmp_path, monkeypatch, fresh_accelerate):
    out = tmp_path / "out"
    real_save, calls = torch.save, []

    def full_disk_save(obj, f, *args, **kwargs):
        calls.append(f)
        if "checkpoint-2" in str(f):  # what torch reports when the disk fills during the zip write
            raise RuntimeError("[enforce fail at inline_container.cc:603] . unexpected pos 64 vs 0")
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", full_disk_save)
    with pytest.raises(SystemExit) as exit_info:
        train_in_process(["--train_data_dir", image_folder, "--output_dir", out, "--max_train_steps", 3,
                          "--checkpointing_steps", 1, "--no-progressive"])
    message = str(exit_info.value)
    assert message.startswith("error: ") and "disk is full" in message and "\n" not in message
    assert str(out / "checkpoint-1") in message
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("checkpoint")) == ["checkpoint-1"]


def test_resuming_with_another_batch_or_learning_rate_needs_an_override(image_folder, tmp_path, fresh_accelerate):
    out = tmp_path / "out"
    _first_run(image_folder, out, extra=["--learning_rate", "0.002"])
    resume = ["--train_data_dir", image_folder, "--output_dir", out, "--max_train_steps", 3, "--no-progressive",
              "--resume_from_checkpoint", "latest", "--checkpointing_steps", 10]
    for change in (["--learning_rate", "0.001"], ["--learning_rate", "0.002", "--train_batch_size", "3"]):
        with pytest.raises(SystemExit, match="different batch size or learning rate.*--allow_config_change"):
            train_in_process(resume + change)
    train_in_process(resume + ["--learning_rate", "0.001", "--allow_config_change"])
    assert json.loads((out / "training_summary.json").read_text())["steps"] == 3


def test_a_damaged_newest_checkpoint_is_refused_in_one_line_and_latest_resumes_bit_identically(
        image_folder, tmp_path, capsys, fresh_accelerate):
    common = ["--train_data_dir", image_folder, "--max_train_steps", 3, "--checkpointing_steps", 1, "--random_flip",
              "--lod_kimg", 0.004]
    whole, resumed = {}, {}
    train_in_process(common + ["--output_dir", tmp_path / "whole"], on_finish=_capture(whole))
    out = tmp_path / "out"
    out.mkdir()
    for step in (1, 2):
        shutil.copytree(tmp_path / "whole" / f"checkpoint-{step}", out / f"checkpoint-{step}")
    optimizers = out / "checkpoint-2" / "optimizers.pt"
    optimizers.write_bytes(optimizers.read_bytes()[:100])  # truncated
    with pytest.raises(SystemExit) as exit_info:
        train_in_process(common + ["--output_dir", out, "--resume_from_checkpoint", str(out / "checkpoint-2")])
    assert "optimizers.pt" in str(exit_info.value) and "\n" not in str(exit_info.value)
    train_in_process(common + ["--output_dir", out, "--resume_from_checkpoint", "latest"], on_finish=_capture(resumed))
    log = capsys.readouterr().out
    assert "skipping checkpoint-2" in log and "checkpoint-1: step 1" in log
    # the damaged checkpoint of the abandoned branch was moved aside, then step 2 was written again
    assert len(list(out.glob("abandoned-*/checkpoint-2"))) == 1
    assert _same(resumed["model"], whole["model"]) and _same(resumed["ema"], whole["ema"])


def test_a_new_run_in_an_old_folder_moves_the_old_checkpoints_aside(image_folder, tmp_path, capsys,
                                                                   fresh_accelerate):
    out = tmp_path / "out"
    args = ["--train_data_dir", image_folder, "--output_dir", out, "--checkpointing_steps", 1, "--no-progressive"]
    train_in_process(args + ["--max_train_steps", 2])
    assert (out / "checkpoint-2").is_dir()
    train_in_process(args + ["--max_train_steps", 1, "--seed", 5, "--overwrite_output_dir"])  # a new run, not a resume
    abandoned = list(out.glob("abandoned-*"))
    assert len(abandoned) == 1 and (abandoned[0] / "checkpoint-2").is_dir()  # kept, not deleted
    assert (out / "checkpoint-1").is_dir() and not (out / "checkpoint-2").exists()
    assert "checkpoint-2" in capsys.readouterr().out  # said so
