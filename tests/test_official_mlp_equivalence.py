"""A converted official MLP ALAE (`configs/mnist_fc.yaml`) reproduces the official code's outputs.

tests/fixtures/official/tiny_mnist_fc/ was produced once by running podgorskiy/ALAE (commit
42bcf2e) on CPU in float32: the official `Model` built for `mnist_fc.yaml` (GeneratorFC,
EncoderFC, MappingF, and the MappingD the constructor always builds), random weights, an
official-format checkpoint (EMA and training groups different, auxiliary entries pickling the
official `tracker` classes), and the outputs of F, G, E, D, reconstruction and truncated
generation. The official `Model.encode` fails for this config (E returns [N, Z], MappingD
indexes [N, S, 2Z]; meta.json records the error), so D's outputs were recorded on [N, 1, Z].
The hidden width is hard-coded to 1024 in the official classes, hence the ~15 MB checkpoint.
"""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from alae_hf import MLPALAE
from alae_hf.convert import ConversionError, convert_checkpoint, load_official

FOLDER = Path(__file__).parent / "fixtures" / "official" / "tiny_mnist_fc"
CHECKPOINT = FOLDER / "checkpoint.pth"
TOL = 1e-5  # max relative error, float32 on CPU


def rel_err(ours: torch.Tensor, theirs: torch.Tensor) -> float:
    return float((ours - theirs).abs().max() / theirs.abs().max().clamp_min(1e-12))


@pytest.fixture(scope="module")
def io():
    return load_file(FOLDER / "io.safetensors")


@pytest.fixture(scope="module", params=[None, "mnist-fc"], ids=["inferred", "preset"])
def model(request):
    return convert_checkpoint(CHECKPOINT, request.param)


def test_the_config_is_the_official_one(model):
    assert isinstance(model, MLPALAE)
    arch = model.arch
    assert (arch.resolution, arch.fc_resolution, arch.hidden_size, arch.latent_size, arch.mapping_layers,
            arch.channels, arch.resize_mode) == (32, 28, 1024, 50, 6, 1, "nearest")
    meta = json.loads((FOLDER / "meta.json").read_text())
    assert meta["official_model_encode_fails"].startswith("IndexError")


def test_mapping_and_discriminator(model, io):
    with torch.no_grad():
        assert rel_err(model.map(io["z"]), io["w"]) < TOL
        assert rel_err(model.discriminate(io["enc_full.w"]), io["d_logit"]) < TOL
        assert rel_err(model.discriminate(io["w"]), io["d_logit_w"]) < TOL


@pytest.mark.parametrize("call,lod", [("gen_full", 3), ("gen_lod1", 1)])
def test_generator(model, io, call, lod):
    with torch.no_grad():
        assert rel_err(model.synthesize(io["w"], lod=lod), io[f"{call}.image"]) < TOL
        assert rel_err(model.synthesize(io["styles"][:, :1], lod=lod), io[f"{call}.image"]) < TOL


@pytest.mark.parametrize("call,image", [("enc_full", "x"), ("enc_28", "x28"), ("enc_lod1", "x_lod1")])
def test_encoder(model, io, call, image):
    with torch.no_grad():
        assert rel_err(model.encode(io[image]), io[f"{call}.w"]) < TOL


def test_reconstruction_and_truncated_generation(model, io):
    with torch.no_grad():
        assert rel_err(model.reconstruct(io["x"]), io["rec.image"]) < TOL
        assert rel_err(model.reconstruct(io["x28"]), io["rec28.image"]) < TOL
        w = model.truncate(model.map(io["z"]), psi=0.7)
        assert rel_err(model.synthesize(w), io["trunc.image"]) < TOL


def test_ema_choice_matters():
    ema, raw = convert_checkpoint(CHECKPOINT), convert_checkpoint(CHECKPOINT, ema=False)
    assert not torch.equal(ema.generator.fc_2.weight, raw.generator.fc_2.weight)
    assert not torch.equal(ema.mapping.map_blocks[0].fc.weight, raw.mapping.map_blocks[0].fc.weight)


def test_a_stylealae_preset_or_checkpoint_does_not_fit():
    with pytest.raises(ConversionError, match="missing|unexpected"):
        convert_checkpoint(CHECKPOINT, preset_name="mnist")
    with pytest.raises(ConversionError, match="unexpected"):
        convert_checkpoint(FOLDER.parent / "tiny_mnist" / "checkpoint.pth", preset_name="mnist-fc")


def test_cli_writes_a_loadable_folder(tmp_path, io):
    import alae_hf
    from alae_hf.convert_cli import main

    main(["--checkpoint", str(CHECKPOINT), "--preset", "mnist-fc", "--out", str(tmp_path / "out")])
    model = alae_hf.load(tmp_path / "out")
    assert isinstance(model, MLPALAE) and model.arch.resize_mode == "nearest"
    assert "MLP ALAE" in (tmp_path / "out" / "README.md").read_text()
    with torch.no_grad():
        assert rel_err(model.reconstruct(io["x"]), io["rec.image"]) < TOL


# ---- strictness: one line, exit code 2 ------------------------------------------------------
def _cli_error(tmp_path, capsys, models):
    from alae_hf.convert_cli import main

    torch.save({"models": models}, tmp_path / "bad.pth")
    with pytest.raises(SystemExit) as caught:
        main(["--checkpoint", str(tmp_path / "bad.pth"), "--preset", "mnist-fc", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert caught.value.code == 2 and err.count("\n") == 1 and err.startswith("alae-convert: error: ")
    assert not (tmp_path / "out").exists()
    return err


def test_a_missing_key_is_refused(tmp_path, capsys):
    models = load_official(CHECKPOINT)["models"]
    del models["discriminator_s"]["fc_2.bias"]
    assert "missing=['encoder.fc_2.bias']" in _cli_error(tmp_path, capsys, models)


def test_an_extra_key_or_a_wrong_shape_is_refused(tmp_path, capsys):
    models = load_official(CHECKPOINT)["models"]
    models["mapping_fl_s"]["map_blocks.6.fc.weight"] = torch.zeros(50, 50)
    assert "unexpected=['mapping.map_blocks.6.fc.weight']" in _cli_error(tmp_path, capsys, models)
    models = load_official(CHECKPOINT)["models"]
    models["mapping_tl_s"]["map_blocks.2.weight"] = torch.zeros(70, 50)
    assert "discriminator.map_blocks.2.weight: checkpoint (70, 50)" in _cli_error(tmp_path, capsys, models)


def test_dlatent_avg_rows_must_agree(tmp_path, capsys):
    models = load_official(CHECKPOINT)["models"]
    models["dlatent_avg"]["buff"][3] += 1.0
    assert "dlatent_avg.buff" in _cli_error(tmp_path, capsys, models)
