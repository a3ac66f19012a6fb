"""The MLP ALAE (official mnist_fc): shapes, state-dict keys, Hub round-trip, the shared training
phases, digits data and the latent-classification evaluation. Tiny configs, CPU, offline."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import alae_hf
from alae_hf import MLPALAE, StyleALAE
from alae_hf.models.mlp_networks import MLPConfig
from alae_hf.training.losses import (
    LatentDraw,
    encoder_discriminator_loss,
    generate,
    generator_loss,
    latent_reciprocity_loss,
)

MLP_TINY = dict(resolution=16, fc_resolution=12, hidden_size=24, latent_size=6, mapping_layers=2, channels=1)


@pytest.fixture
def mlp():
    torch.manual_seed(0)
    model = MLPALAE(**MLP_TINY).eval()
    with torch.no_grad():  # off the zero-bias init, so every term of the forward pass matters
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.normal_(0, 0.2)
        model.w_avg.normal_()
    return model


def test_preset_is_the_official_mnist_fc():
    model = MLPALAE.from_preset("mnist-fc")
    assert model.arch == MLPConfig(resolution=32, fc_resolution=28, hidden_size=1024, latent_size=50, mapping_layers=6)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes["generator.fc_1.weight"] == (1024, 50) and shapes["generator.fc_3.weight"] == (784, 1024)
    assert shapes["encoder.fc_1.weight"] == (1024, 784) and shapes["encoder.fc_3.weight"] == (50, 1024)
    assert len([k for k in shapes if k.startswith("mapping.")]) == 12  # 6 layers, weight + bias
    assert shapes["discriminator.map_blocks.2.weight"] == (50, 50)  # MappingDNoStyle: last layer Z -> Z
    # equalized lr: F and D with lrmul 0.1, E and G with 1 (official lreq defaults)
    assert model.mapping.map_blocks[0].fc.bias_scale == 0.1 and model.discriminator.map_blocks[0].bias_scale == 0.1
    assert model.encoder.fc_1.bias_scale == 1.0 and model.generator.fc_3.weight_scale == pytest.approx(2**0.5 / 32)
    with pytest.raises(ValueError, match="unknown MLP preset"):
        MLPALAE.from_preset("ffhq")


def test_state_dict_keys_are_stable(mlp):
    keys = list(mlp.state_dict())
    expected = (["w_avg"] + [f"mapping.map_blocks.{i}.fc.{p}" for i in range(2) for p in ("weight", "bias")]
                + [f"generator.fc_{i}.{p}" for i in (1, 2, 3) for p in ("weight", "bias")]
                + [f"encoder.fc_{i}.{p}" for i in (1, 2, 3) for p in ("weight", "bias")]
                + [f"discriminator.map_blocks.{i}.{p}" for i in range(3) for p in ("weight", "bias")])
    assert keys == expected


def test_shapes_and_methods(mlp):
    z = torch.randn(3, 6)
    w = mlp.map(z)
    assert w.shape == (3, 6) and (w >= -0.2 * w.abs().max()).all()  # F ends with a LeakyReLU
    assert mlp.synthesize(w).shape == (3, 1, 16, 16)
    assert mlp.synthesize(w, lod=0).shape == (3, 1, 4, 4)  # lod only picks the output size (official)
    assert torch.equal(mlp.synthesize(w), mlp.synthesize(w[:, None], noise=torch.Generator(), blend=0.5))
    x = torch.rand(3, 1, 16, 16) * 2 - 1
    assert mlp.encode(x).shape == (3, 6) and mlp.discriminate(mlp.encode(x)).shape == (3,)
    assert mlp.reconstruct(x).shape == (3, 1, 16, 16)
    assert mlp.reconstruct(x[..., :8, :8]).shape == (3, 1, 8, 8)
    assert mlp.encode(torch.rand(2, 1, 28, 28)).shape == (2, 6)  # MNIST's own size, resized to 12
    assert mlp.reconstruct(torch.rand(2, 1, 28, 28)).shape == (2, 1, 16, 16)
    # the 12x12 core resized by nearest: every output pixel is one of the 144 core pixels
    out = mlp.synthesize(w)
    core = mlp.generator(w, 12)
    assert set(out[0, 0].flatten().tolist()) == set(core[0, 0].flatten().tolist())
    with pytest.raises(ValueError, match=r"expected z of shape \[N, 6\]"):
        mlp.map(torch.randn(3, 5))
    with pytest.raises(ValueError, match=r"expected images \[N, 1, r, r\]"):
        mlp.encode(torch.rand(2, 3, 16, 16))
    with pytest.raises(ValueError, match=r"lod must be in \[0, 2\]"):
        mlp.synthesize(w, lod=3)


def test_discriminator_is_affine_and_reads_element_0(mlp):
    w1, w2 = torch.randn(4, 6), torch.randn(4, 6)
    mixed = mlp.discriminate(0.3 * w1 + 0.7 * w2)
    assert torch.allclose(mixed, 0.3 * mlp.discriminate(w1) + 0.7 * mlp.discriminate(w2), atol=1e-5)
    full = w1
    for layer in mlp.discriminator.map_blocks:
        full = layer(full)
    assert torch.equal(mlp.discriminate(w1), full[:, 0])


def test_sample_truncation_and_w_avg(mlp):
    a, b = mlp.sample(4, seed=3), mlp.sample(4, seed=3)
    assert torch.equal(a, b) and a.shape == (4, 1, 16, 16)
    assert not torch.equal(a, mlp.sample(4, seed=4))
    assert torch.allclose(mlp.sample(2, seed=[5, 6])[1:], mlp.sample(1, seed=6), atol=1e-5)
    w = torch.randn(5, 6)
    assert mlp.truncate(w).shape == (5, 1, 6)  # w+ with one style, as StyleALAE.truncate returns w+
    assert torch.allclose(mlp.truncate(w, psi=1.0)[:, 0], w)
    assert torch.allclose(mlp.truncate(w, psi=0.0)[:, 0], mlp.w_avg.expand(5, -1))
    assert torch.equal(mlp.truncate(w, psi=0.0, cutoff=0)[:, 0], w)
    assert torch.allclose(mlp.truncate(w, psi=0.5)[:, 0], 0.5 * (w + mlp.w_avg), atol=1e-6)
    before = mlp.w_avg.clone()
    mlp.update_w_avg(w)
    assert torch.allclose(mlp.w_avg, 0.995 * before + 0.005 * w.mean(0), atol=1e-6)


def test_invalid_config_names_the_allowed_range():
    with pytest.raises(ValueError, match=r"resolution must be a power of two in \[8, 1024\], got 28"):
        MLPALAE(resolution=28)
    with pytest.raises(ValueError, match="channels must be 1 or 3"):
        MLPALAE(**{**MLP_TINY, "channels": 2})
    with pytest.raises(ValueError, match=r"hidden_size must be an integer in \[1, 16384\]"):
        MLPALAE(**{**MLP_TINY, "hidden_size": 0})


# ---- Hub --------------------------------------------------------------------------------
def test_hub_round_trip_and_load_opens_either_kind(mlp, tiny_model, tmp_path):
    mlp.save_pretrained(tmp_path / "mlp")
    config = json.loads((tmp_path / "mlp" / "config.json").read_text())
    assert config["_class_name"] == "MLPALAE" and config["hidden_size"] == 24
    assert "MLP ALAE" in (tmp_path / "mlp" / "README.md").read_text()
    loaded = alae_hf.load(tmp_path / "mlp")
    assert type(loaded) is MLPALAE and loaded.arch == mlp.arch
    for k, v in mlp.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    assert torch.equal(loaded.sample(3, seed=1), mlp.sample(3, seed=1))
    assert type(MLPALAE.from_pretrained(tmp_path / "mlp")) is MLPALAE

    tiny_model.save_pretrained(tmp_path / "style")
    assert type(alae_hf.load(tmp_path / "style")) is StyleALAE
    with pytest.raises(ValueError, match="holds a 'MLPALAE', not a StyleALAE"):
        StyleALAE.from_pretrained(tmp_path / "mlp")
    with pytest.raises(ValueError, match="holds a 'StyleALAE', not a MLPALAE"):
        MLPALAE.from_pretrained(tmp_path / "style")
    with pytest.raises(OSError, match="not a StyleALAE folder nor an MLPALAE folder"):
        alae_hf.load(tmp_path)


def test_loading_is_strict(mlp, tmp_path):
    mlp.save_pretrained(tmp_path)
    weights = tmp_path / "diffusion_pytorch_model.safetensors"
    state = load_file(weights)
    state.pop("encoder.fc_3.bias")
    save_file(state, weights)
    with pytest.raises(ValueError, match="encoder.fc_3.bias"):
        alae_hf.load(tmp_path)


# ---- the shared training phases -----------------------------------------------------------
def _grads(model):
    return {name for name in ("mapping", "generator", "encoder", "discriminator")
            if any(p.grad is not None and p.grad.abs().sum() > 0 for p in getattr(model, name).parameters())}


def test_each_phase_trains_exactly_its_modules(mlp):
    model = mlp.train()
    g = torch.Generator().manual_seed(0)
    reals = torch.rand(4, 1, 16, 16, generator=g) * 2 - 1
    z = torch.randn(4, 6, generator=g)
    lod = model.arch.max_lod
    with torch.no_grad():
        fakes, _ = generate(model, LatentDraw(z), lod, 1.0, None)
    phases = {
        "step1": (lambda: encoder_discriminator_loss(model, reals, fakes, 1.0)[0], {"encoder", "discriminator"}),
        "step2": (lambda: generator_loss(model, LatentDraw(z), lod, 1.0, None)[0], {"mapping", "generator"}),
        "step3": (lambda: latent_reciprocity_loss(model, z, lod, 1.0, None)[0], {"encoder", "generator", "mapping"}),
    }
    for phase, (loss_fn, expected) in phases.items():
        model.zero_grad(set_to_none=True)
        loss = loss_fn()
        assert loss.dtype == torch.float32 and torch.isfinite(loss)
        loss.backward()
        assert _grads(model) == expected, phase


@pytest.mark.parametrize("mode, all_pixels_trained", [("nearest-exact", True), ("nearest", False)])
def test_resize_mode_decides_whether_e_sees_every_pixel_of_g(mode, all_pixels_trained):
    """Official "nearest" both ways (28 -> 32 -> 28 here 12 -> 16 -> 12) skips some of G's core pixels:
    no loss can train them. "nearest-exact" (our default) reads every one."""
    torch.manual_seed(0)
    model = MLPALAE(**{**MLP_TINY, "resize_mode": mode}).train()
    loss = latent_reciprocity_loss(model, torch.randn(8, 6), model.arch.max_lod, 1.0, None)[0]
    loss.backward()
    rows_hit = model.generator.fc_3.weight.grad.abs().sum(1) > 0  # one row per core pixel
    assert bool(rows_hit.all()) == all_pixels_trained
    if not all_pixels_trained:
        assert rows_hit.sum() == 8 * 8  # core rows and columns 2, 5, 8, 11 never reach E
    with pytest.raises(ValueError, match="resize_mode must be one of"):
        MLPALAE(**{**MLP_TINY, "resize_mode": "bilinear"})


def test_a_few_alae_iterations_reduce_the_latent_loss(mlp):
    """Phase 3 alone, repeated on fixed z: E learns to invert G(F(z)) (the training signal works)."""
    model = mlp.train()
    opt = torch.optim.Adam(model.parameters(), lr=0.002, betas=(0.0, 0.99))
    z = torch.randn(16, 6, generator=torch.Generator().manual_seed(1))
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = latent_reciprocity_loss(model, z, model.arch.max_lod, 1.0, None)[0]
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0]


# ---- digits and latent classification -------------------------------------------------------
def test_digits_split_layout_and_folder(tmp_path):
    from alae_hf.datasets.digits import digits, read_labels, write_folder
    from alae_hf.training.data import ImageFolderDataset

    train, y_train = digits("train")
    test, y_test = digits("test")
    assert train.shape == (1437, 28, 28) and test.shape == (360, 28, 28) and train.dtype == np.uint8
    assert set(np.bincount(y_test)) <= {35, 36, 37}  # stratified
    assert train[:, :4].max() == 0 and train[:, 24:].max() == 0 and train.max() == 255  # MNIST's 4 px margin
    everything = {x.tobytes() for x in digits("all")[0]}
    assert {x.tobytes() for x in train} | {x.tobytes() for x in test} <= everything
    assert np.array_equal(digits("test")[0], test)  # fixed split

    assert write_folder(tmp_path, "test") == 360
    files, labels = read_labels(tmp_path)
    assert np.array_equal(labels, y_test) and all(f.parent.name == str(y) for f, y in zip(files, labels))
    data = ImageFolderDataset(tmp_path, resolution=32, channels=1)  # the trainer's generic loader
    assert len(data) == 360 and data[0].shape == (1, 32, 32)
    with pytest.raises(ValueError, match="split must be one of"):
        digits("val")
    from alae_hf.datasets.digits import digits_spec_images, is_digits_spec

    assert is_digits_spec("sklearn:digits:test") and not is_digits_spec("digits/")
    spec = digits_spec_images("sklearn:digits:test")
    assert len(spec) == 360 and np.array_equal(np.asarray(spec[3]), test[3])


def test_classifiers_on_separable_and_on_random_codes():
    from alae_hf.evaluation.probes import Row, classify, markdown_table

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 20)
    centres = rng.normal(size=(10, 5)) * 10
    codes = centres[y] + rng.normal(size=(200, 5))
    row = classify("clusters", codes[::2], y[::2], codes[1::2], y[1::2], k=3)
    assert row.knn == 1.0 and row.probe == 1.0 and row.dims == 5
    noise = rng.normal(size=(200, 5))
    chance = classify("noise", noise[::2], y[::2], noise[1::2], y[1::2], k=3)
    assert chance.knn < 0.3 and chance.probe < 0.3
    table = markdown_table([row, Row("x", 2, 0.5, 0.25)], k=3)
    assert "| clusters | 5 | 100.0% | 100.0% |" in table and "3-NN accuracy" in table


def test_plain_autoencoder_baseline_learns():
    from alae_hf.evaluation.plain_autoencoder import train_plain_autoencoder

    x = torch.rand(32, 1, 16, 16) * 2 - 1
    model, losses = train_plain_autoencoder(x, MLPConfig(**MLP_TINY), steps=60, batch_size=16)
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:5])
    assert set(dict(model.named_children())) == {"encoder", "generator"}  # no F, no D
    assert model.encode(x).shape == (32, 6)


# ---- the shared trainer ----------------------------------------------------------------------
def _train_mlp(out, *extra):
    """`train_accelerate.py --architecture mlp` (the preset follows: mnist-fc) in this process, tiny and short."""
    from alae_hf.training.options import parse_config
    from alae_hf.training.trainer import train

    args = ["--architecture", "mlp", "--train_data_dir", "sklearn:digits:test",
            "--resolution", "16", "--latent_size", "6", "--mapping_layers", "2", "--train_batch_size", "4",
            "--report_to", "none", "--output_dir", out, *extra]
    return train(parse_config([str(a) for a in args]))


def _state(folder):
    return MLPALAE.from_pretrained(folder).state_dict()


def test_trainer_trains_and_resumes_an_mlp_bit_identically(fresh_accelerate, tmp_path):
    import shutil

    from accelerate.state import AcceleratorState, GradientState

    a, b = tmp_path / "a", tmp_path / "b"
    _train_mlp(a, "--max_train_steps", 4, "--checkpointing_steps", 2)
    model = alae_hf.load(a)
    assert type(model) is MLPALAE and model.arch.resolution == 16 and model.arch.latent_size == 6
    assert "fully-connected ALAE" in (a / "README.md").read_text() and (a / "samples.png").is_file()
    state = json.loads((a / "checkpoint-2" / "training_state.json").read_text())
    assert (state["step"], state["lod"]) == (2, 2)  # no growing: full resolution from the first step
    assert not torch.equal(_state(a / "checkpoint-2" / "model")["encoder.fc_1.weight"],
                           _state(a / "checkpoint-4" / "model")["encoder.fc_1.weight"])

    b.mkdir()
    shutil.copytree(a / "checkpoint-2", b / "checkpoint-2")
    AcceleratorState._reset_state(True)
    GradientState._reset_state()
    _train_mlp(b, "--max_train_steps", 4, "--checkpointing_steps", 2, "--resume_from_checkpoint", "latest")
    for name in (".", "checkpoint-4/model", "checkpoint-4/ema"):
        sa, sb = _state(a / name), _state(b / name)
        assert all(torch.equal(sa[k], sb[k]) for k in sa), name


def test_the_preset_follows_the_architecture_and_a_contradiction_is_one_line(fresh_accelerate, tmp_path, capsys):
    from alae_hf.models.config import ALAEConfig
    from alae_hf.training.options import arch_and_schedule, parse_config
    from alae_hf.training.startup import setup

    def resolved(*args):
        config = parse_config([*args, "--train_data_dir", "x"])
        return config.preset, type(arch_and_schedule(config)[0])

    assert resolved("--architecture", "mlp") == ("mnist-fc", MLPConfig)
    assert resolved("--preset", "mnist-fc") == ("mnist-fc", MLPConfig)  # the architecture follows the preset
    assert resolved("--architecture", "mlp", "--preset", "mnist-fc") == ("mnist-fc", MLPConfig)
    assert resolved("--architecture", "style") == ("celeba-hq256", ALAEConfig)
    assert resolved() == ("celeba-hq256", ALAEConfig)  # the default run is unchanged
    assert arch_and_schedule(parse_config(["--architecture", "mlp"]))[1].learning_rates[-1] == 0.002  # mnist_fc.yaml

    with pytest.raises(ValueError, match="--architecture mlp takes the presets mnist-fc, got --preset ffhq"):
        arch_and_schedule(parse_config(["--architecture", "mlp", "--preset", "ffhq", "--train_data_dir", "x"]))
    config = parse_config(["--architecture", "style", "--preset", "mnist-fc", "--train_data_dir", "sklearn:digits",
                           "--output_dir", str(tmp_path / "out"), "--report_to", "none"])
    with pytest.raises(SystemExit) as exit_info:  # the trainer's start-up: one line, no traceback, no folder
        setup(config)
    message = str(exit_info.value.code)
    assert message.startswith("error: --architecture style takes the presets ") and "\n" not in message
    assert "got --preset mnist-fc" in message and not (tmp_path / "out").exists()


# ---- the bundled digits model ------------------------------------------------------------------
BUNDLED = Path(__file__).resolve().parents[1] / "checkpoints" / "alae-digits-mlp"


def test_bundled_digits_model_is_a_trained_mlp_alae():
    from alae_hf.datasets.digits import digits
    from alae_hf.evaluation.probes import to_model_input

    model = alae_hf.load(BUNDLED)
    assert type(model) is MLPALAE and model.arch == MLPConfig()  # the official mnist_fc architecture
    x = to_model_input(digits("test")[0][:64], 32)
    torch.manual_seed(0)
    untrained = MLPALAE.from_preset("mnist-fc").eval()
    with torch.no_grad():
        trained_mse = (model.reconstruct(x) - x).pow(2).mean()
        untrained_mse = (untrained.reconstruct(x) - x).pow(2).mean()
        samples = model.sample(16, seed=0, truncation_psi=1.0)
    assert trained_mse < 0.5 * untrained_mse  # E and G invert each other on held-out digits
    assert samples.shape == (16, 1, 32, 32) and samples.std(0).mean() > 0.05  # diverse, not collapsed
    report = json.loads((BUNDLED / "report" / "latent_classification.json").read_text())
    assert {r["name"].split(" ")[0] for r in report["rows"]} >= {"raw", "ALAE", "plain"}
    for name in ("samples.png", "reconstructions.png", "interpolations.png", "learning_curve.json"):
        assert (BUNDLED / "report" / name).is_file(), name


def test_bundled_digits_report_is_of_the_shipped_weights():
    """The card's w row and reconstruction error are what these weights give (not an earlier model's)."""
    from alae_hf.evaluation import probes

    model = alae_hf.load(BUNDLED)
    data = probes.load_split("sklearn:digits", model.arch.resolution, model.arch.channels)
    report = json.loads((BUNDLED / "report" / "latent_classification.json").read_text())
    row = next(r for r in report["rows"] if r["name"].startswith("ALAE"))
    w = [probes.encode_all(model.encode, x) for x in (data.x_train, data.x_test)]
    assert probes.knn_accuracy(w[0], data.y_train, w[1], data.y_test, report["k"]) == pytest.approx(row["knn"])
    with torch.no_grad():
        mse = float((model.reconstruct(data.x_test) - data.x_test).pow(2).mean())
    assert mse == pytest.approx(report["reconstruction"]["alae"]["mse"], rel=1e-4)
    summary = json.loads((BUNDLED / "training_summary.json").read_text())
    assert report["baseline"]["images"] >= summary["images_seen"]  # the plain AE had at least the same budget


# ---- the app -----------------------------------------------------------------------------------
def test_app_opens_an_mlp_folder_with_sample_encode_interpolate(mlp, tmp_path):
    from PIL import Image

    from alae_hf.app import mlp_ui
    from alae_hf.app.inputs import InputError
    from alae_hf.app.state import Studio
    from alae_hf.app.ui import build_app

    mlp.save_pretrained(tmp_path / "mlp")
    demo = build_app(tmp_path / "mlp")
    assert demo.title == "MLP ALAE"  # the one-style app: no mixing or layer-edit tabs
    loaded = Studio(tmp_path / "mlp", "cpu").get(None)
    assert type(loaded.model) is MLPALAE
    images = mlp_ui.sample(loaded, 7, 3, 1.0)
    with torch.no_grad():
        expected = mlp.sample(1, seed=8, truncation_psi=1.0)
    assert len(images) == 3 and images[0].size == (mlp_ui.DISPLAY, mlp_ui.DISPLAY)
    from alae_hf.imaging import tensor_to_pil

    assert np.array_equal(np.asarray(images[1]), np.asarray(mlp_ui._big(tensor_to_pil(expected))[0]))  # seed 7 + 1
    Image.fromarray((np.random.default_rng(0).random((40, 30)) * 255).astype("uint8")).save(tmp_path / "in.png")
    pairs = mlp_ui.reconstruct(loaded, [{"path": str(tmp_path / "in.png"), "orig_name": "in.png"}])
    assert [caption for _, caption in pairs] == ["in.png", "in.png: reconstruction"]
    strip = mlp_ui.interpolate(loaded, 0, 5, 4, 1.0)
    assert strip.width > 4 * mlp_ui.DISPLAY and strip.height > mlp_ui.DISPLAY
    with pytest.raises(InputError, match=r"Steps must be a whole number in \[2, 16\]"):
        mlp_ui.interpolate(loaded, 0, 5, 1, 1.0)


def test_style_app_refuses_an_mlp_model_in_one_line(mlp, tiny_model, tmp_path):
    from alae_hf.app.actions import Actions
    from alae_hf.app.inputs import InputError
    from alae_hf.app.state import Studio, new_session

    mlp.save_pretrained(tmp_path / "mlp")
    tiny_model.save_pretrained(tmp_path / "style")
    studio = Studio(tmp_path / "style", "cpu")
    act = Actions(studio)
    with pytest.raises(InputError, match=r"is an MLP ALAE .*python app.py --model .*Still using style"):
        act.load_model(new_session(studio.default_key), str(tmp_path / "mlp"))


def test_the_mlp_app_loads_another_mlp_and_says_how_to_open_a_styleALAE(mlp, tiny_model, tmp_path):
    """The digits app's Model tab switches a session to another MLP ALAE; a StyleALAE, or a folder
    that is no model, is refused in one line (the former naming the command that opens it) and the
    session keeps its model."""
    from alae_hf.app.inputs import InputError
    from alae_hf.app.mlp_model import load_mlp
    from alae_hf.app.state import Studio

    mlp.save_pretrained(tmp_path / "mlp")
    mlp.save_pretrained(tmp_path / "other")
    tiny_model.save_pretrained(tmp_path / "style")
    studio = Studio(tmp_path / "mlp", "cpu", bundled={})
    key, status, info, _ = load_mlp(studio, studio.default_key, str(tmp_path / "other"))
    assert key == str(tmp_path / "other") and "other (local folder)" in status and "MLPALAE" in info
    with pytest.raises(InputError) as err:
        load_mlp(studio, key, str(tmp_path / "style"))
    assert f"python app.py --model {tmp_path / 'style'}" in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).endswith("Still using other (local folder).")
    with pytest.raises(InputError, match="Could not load .* Still using other"):
        load_mlp(studio, key, str(tmp_path / "nothing"))
    assert load_mlp(studio, key, "")[0] == studio.default_key            # empty: back to the default
