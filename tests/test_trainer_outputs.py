"""What a run tells its user and leaves behind: messages after the progress bar (never inside it),
whole-image counts, unreadable files by name, labelled samples, a loss plot at each checkpoint and
a card that claims no license unless told."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from PIL import Image
from test_training import image_folder, train_in_process  # noqa: F401
from test_trainer_runs import _full_disk_on

from alae_hf import StyleALAE
from alae_hf.training import trainer
from alae_hf.training.options import TrainConfig, parse_config

from conftest import TINY


def _recording_bars(monkeypatch) -> list:
    """tqdm bars written to stdout (so their order against messages is visible), kept for checks."""
    bars = []

    class Recording(trainer.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, "file": sys.stdout})
            bars.append(self)

    monkeypatch.setattr(trainer, "tqdm", Recording)
    return bars


def test_a_stop_is_said_after_the_bar_and_counts_are_whole(image_folder, tmp_path, monkeypatch, capsys,
                                                           fresh_accelerate):
    bars = _recording_bars(monkeypatch)

    def sigint_at_step_2(run):
        if run.step == 2:
            run.budget.interrupted = "SIGINT"
        return run.step == 2

    monkeypatch.setattr(trainer, "time_is_up", sigint_at_step_2)
    train_in_process(["--train_data_dir", image_folder, "--output_dir", tmp_path / "out", "--max_train_steps", 5,
                      "--no-progressive"])
    out = capsys.readouterr().out
    before, message, after = out.partition("SIGINT: stopping at step 2")
    assert message and before.endswith("\n")               # on its own line, after the bar's last draw
    assert "img/s" not in after and "4/10" in before and ".0/" not in out  # no redraw after it; no "4.00/10.0"
    assert bars[0].disable                                  # closed


def test_a_full_disk_closes_the_bar_before_the_error(image_folder, tmp_path, monkeypatch, fresh_accelerate):
    bars = _recording_bars(monkeypatch)
    _full_disk_on(monkeypatch, "checkpoint-2.tmp")
    with pytest.raises(SystemExit, match="disk is full"):
        train_in_process(["--train_data_dir", image_folder, "--output_dir", tmp_path / "out", "--max_train_steps",
                          3, "--checkpointing_steps", 1, "--no-progressive"])
    assert bars[0].disable  # closed before the error is printed, so the error is the last line


def test_a_run_names_skipped_files_plots_losses_and_claims_no_license(image_folder, tmp_path, capsys,
                                                                      fresh_accelerate):
    out, plotted = tmp_path / "out", []
    train_in_process(["--train_data_dir", image_folder, "--output_dir", out, "--max_train_steps", 3,
                      "--checkpointing_steps", 2, "--no-progressive", "--report_to", "tensorboard"],
                     on_finish=lambda run, info: plotted.append((out / "losses.png").is_file()))
    summary = json.loads((out / "training_summary.json").read_text())
    assert summary["skipped_files"] == 1 and summary["skipped_file_names"] == ["corrupt.png"]
    assert "skipped 1 unreadable image file(s): corrupt.png;" in capsys.readouterr().out
    assert plotted == [True]                                # written at the checkpoints, before the end
    assert Image.open(out / "losses.png").size == (3 * 360, 240)  # loss_d, loss_g, loss_ae
    samples = np.asarray(Image.open(out / "samples.png").convert("L"))
    side = 16 + 2
    # a caption; rows of the folder's 7 reals, their reconstructions, 16 fakes in 3 rows; labels on the left
    assert samples.shape == (16 + 5 * side + 2, 100 + 7 * side + 2)
    rows = [samples[16 + r * side: 16 + (r + 1) * side, :100] for r in range(5)]
    assert (samples[:16] < 128).any() and all((row < 128).any() for row in rows)  # caption, each row labelled
    card = (out / "README.md").read_text()
    assert "\nlicense: unknown\n" in card and "cc-by-nc" not in card and "--license" in card


def test_license_option_reaches_the_card_and_refuses_non_ids():
    assert TrainConfig().license == "unknown" and parse_config(["--license", "apache-2.0"]).license == "apache-2.0"
    with pytest.raises(SystemExit, match="--license must be a Hub license id"):
        parse_config(["--license", "My License"])
    assert "\nlicense: apache-2.0\n" in StyleALAE(**TINY).card(license="apache-2.0")
