"""`--init_from`: a new run that starts from a saved model (a trained folder, the bundled default's
kind, converted official weights): its weights in the live networks and the EMA at step 0, its
full resolution, fresh optimizers and schedule, the images behind it carried on as
`images_in_all`; and one line for every input it cannot use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from test_training import MODEL_ARGS, image_folder, train_in_process  # noqa: F401

from alae_hf import MLPALAE, StyleALAE
from alae_hf.convert import convert_checkpoint
from alae_hf.training.options import parse_config
from alae_hf.training.schedule import schedule_at
from alae_hf.training.startup import setup

OFFICIAL = Path(__file__).parent / "fixtures" / "official" / "tiny_celeba" / "checkpoint.pth"


@pytest.fixture
def saved(tiny_model, tmp_path):
    """The tiny model saved as a finished model that has seen 1,000 images."""
    folder = tmp_path / "saved"
    tiny_model.save_pretrained(folder)
    (folder / "training_state.json").write_text(json.dumps({"images_seen": 1000}))
    return folder


def _outputs(model, x: torch.Tensor) -> list[torch.Tensor]:
    z = model.seed_latents(3, seed=1)
    w = model.map(z)
    return [w, model.synthesize(w, noise=0), model.encode(x), model.discriminate(w)]


def _assert_same_outputs(a, b, resolution: int) -> None:
    x = torch.rand(3, 3, resolution, resolution, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        for ours, theirs in zip(_outputs(a.eval(), x), _outputs(b.eval(), x)):
            assert torch.equal(ours, theirs)


def test_a_run_started_from_a_saved_model_has_its_outputs_at_step_0(
    saved, image_folder, tmp_path, fresh_accelerate
):
    config = parse_config(
        MODEL_ARGS + ["--train_data_dir", str(image_folder), "--output_dir", str(tmp_path / "out"),
                      "--init_from", str(saved)]
    )
    run = setup(config)
    source = StyleALAE.from_pretrained(saved)
    assert torch.equal(run.model.w_avg, source.w_avg)
    _assert_same_outputs(run.model, source, 16)
    _assert_same_outputs(run.ema.model, source, 16)
    state = schedule_at(0, run.sched, 1)  # the model's full resolution from the first image: no growing
    assert (state.lod, state.blend) == (source.arch.max_lod, 1.0)
    assert run.step == run.images == 0 and run.images_in_all == 1000


def test_the_images_behind_a_model_are_carried_on(saved, image_folder, tmp_path, fresh_accelerate):
    out = tmp_path / "out"
    train_in_process(["--train_data_dir", image_folder, "--output_dir", out, "--init_from", saved,
                      "--max_train_steps", 3, "--checkpointing_steps", 2])
    state = json.loads((out / "checkpoint-3" / "training_state.json").read_text())
    assert state["images_seen"] == 6 and state["images_in_all"] == 1006 and state["lod"] == 2
    assert state["init_from"] == {"model": str(saved), "images": 1000}
    assert json.loads((out / "training_summary.json").read_text())["images_in_all"] == 1006
    assert "1,006 images in all" in (out / "README.md").read_text()
    # a resumed run keeps counting on top of the model's images; a model trained from it, on top of both
    train_in_process(["--train_data_dir", image_folder, "--output_dir", out, "--max_train_steps", 4,
                      "--resume_from_checkpoint", "latest"])
    assert json.loads((out / "training_summary.json").read_text())["images_in_all"] == 1008
    again = tmp_path / "again"
    train_in_process(["--train_data_dir", image_folder, "--output_dir", again, "--init_from", out,
                      "--max_train_steps", 1])
    assert json.loads((again / "training_summary.json").read_text())["images_in_all"] == 1010


def test_converted_official_weights_can_be_fine_tuned(image_folder, tmp_path, fresh_accelerate):
    folder = tmp_path / "official"
    convert_checkpoint(OFFICIAL).save_pretrained(folder)
    source = StyleALAE.from_pretrained(folder)
    config = parse_config(["--train_data_dir", str(image_folder), "--output_dir", str(tmp_path / "out"),
                           "--init_from", str(folder), "--train_batch_size", "2", "--report_to", "none"])
    run = setup(config)
    assert run.model.arch == source.arch and run.init_from == {"model": str(folder), "images": None}
    _assert_same_outputs(run.ema.model, source, source.arch.resolution)


def _refused(args: list, capsys) -> str:
    with pytest.raises(SystemExit) as caught:
        train_in_process(args)
    message = str(caught.value)
    assert message.startswith("error: ") and "\n" not in message and "Traceback" not in message
    assert "parameters" not in capsys.readouterr().out  # refused before any model was built
    return message


def test_inputs_it_cannot_use_are_one_line_each(saved, image_folder, tmp_path, capsys, fresh_accelerate):
    base = ["--train_data_dir", image_folder, "--output_dir", tmp_path / "out"]
    assert "does not exist" in _refused(base + ["--init_from", tmp_path / "missing"], capsys)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text('{"_class_name": "UNet2DModel"}')
    assert "UNet2DModel" in _refused(base + ["--init_from", tmp_path / "other"], capsys)
    (tmp_path / "empty").mkdir()
    assert "config.json" in _refused(base + ["--init_from", tmp_path / "empty"], capsys)
    mlp = tmp_path / "mlp"
    MLPALAE(resolution=8, fc_resolution=8, hidden_size=16, latent_size=4, mapping_layers=2).save_pretrained(mlp)
    assert "MLPALAE" in _refused(base + ["--init_from", mlp, "--architecture", "style"], capsys)
    message = _refused(base + ["--init_from", saved, "--latent_size", 16], capsys)
    assert "--latent_size 16 (the model has 8)" in message
    message = _refused(base + ["--init_from", saved, "--resume_from_checkpoint", "latest"], capsys)
    assert "--init_from" in message and "--resume_from_checkpoint" in message
    assert not (tmp_path / "out").exists()


def test_a_saved_model_given_to_resume_names_init_from(saved, image_folder, tmp_path, capsys, fresh_accelerate):
    message = _refused(["--train_data_dir", image_folder, "--output_dir", tmp_path / "out",
                        "--resume_from_checkpoint", saved], capsys)
    assert "saved model, not a training checkpoint" in message and f"--init_from {saved}" in message


def test_latest_refuses_to_start_over_when_no_checkpoint_is_usable(saved, image_folder, tmp_path, capsys,
                                                                   fresh_accelerate):
    """A checkpoint the trainer cannot read must not be set aside for a silent run from scratch (a
    warm start's checkpoint with a bad counter once lost its 99k images that way)."""
    out = tmp_path / "out"
    args = ["--train_data_dir", image_folder, "--output_dir", out, "--lod_kimg", 0]
    train_in_process(args + ["--max_train_steps", 1])
    state = out / "checkpoint-1" / "training_state.json"
    state.write_text(json.dumps(dict(json.loads(state.read_text()), num_processes=-1)))
    capsys.readouterr()
    message = _refused(args + ["--max_train_steps", 2, "--resume_from_checkpoint", "latest"], capsys)
    assert "no checkpoint in" in message and (out / "checkpoint-1").is_dir()
