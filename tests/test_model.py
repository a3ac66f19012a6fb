"""StyleALAE core: shapes, modes, noise semantics, Hub round-trip, config validation."""

import json

import pytest
import torch

from alae_hf import ALAEConfig, StyleALAE, preset
from conftest import TINY


def test_shapes_at_every_lod_and_blend(tiny_model):
    m = tiny_model
    z = torch.randn(3, 8)
    w = m.map(z)
    assert w.shape == (3, 8)
    for lod in range(m.arch.layer_count):
        res = 4 * 2**lod
        for blend in ([1.0] if lod == 0 else [1.0, 0.5, 0.0]):
            x = m.synthesize(w, lod=lod, blend=blend)
            assert x.shape == (3, 3, res, res)
            assert m.encode(x, blend=blend).shape == (3, 8)
    assert m.discriminate(w).shape == (3,)
    assert m.reconstruct(torch.rand(2, 3, 16, 16) * 2 - 1).shape == (2, 3, 16, 16)


def test_blend_endpoints_are_the_two_paths(tiny_model):
    m, w = tiny_model, tiny_model.map(torch.randn(2, 8))
    full = m.synthesize(w, lod=2, blend=1.0)
    assert torch.allclose(m.synthesize(w, lod=2, blend=0.9999999), full, atol=1e-5)
    previous = torch.nn.functional.interpolate(m.synthesize(w, lod=1), scale_factor=2, mode="nearest")
    assert torch.allclose(m.synthesize(w, lod=2, blend=0.0), previous, atol=1e-6)


def test_noise_is_explicit_and_reproducible(tiny_model):
    m, w = tiny_model, tiny_model.map(torch.randn(2, 8))
    assert torch.equal(m.synthesize(w), m.synthesize(w))  # None = no noise, deterministic
    a = m.synthesize(w, noise=torch.Generator().manual_seed(1))
    b = m.synthesize(w, noise=torch.Generator().manual_seed(1))
    c = m.synthesize(w, noise=torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.allclose(a, c)
    maps = m.make_noise(2, torch.Generator().manual_seed(1))
    assert [t.shape[-1] for t in maps] == [4, 4, 8, 8, 16, 16]
    assert torch.equal(m.synthesize(w, noise=maps), a)
    with pytest.raises(ValueError, match="noise tensors"):
        m.synthesize(w, noise=maps[:3])


def test_inference_never_touches_w_avg(tiny_model):
    before = tiny_model.w_avg.clone()
    tiny_model.sample(4, seed=3)
    tiny_model.reconstruct(torch.zeros(1, 3, 16, 16))
    assert torch.equal(before, tiny_model.w_avg)
    tiny_model.update_w_avg(torch.ones(5, 8))
    expected = before + (1 - 0.995) * (1 - before)
    assert torch.allclose(tiny_model.w_avg, expected, atol=1e-6)


def test_truncation_identity_and_collapse(tiny_model):
    m = tiny_model
    w = m.map(torch.randn(2, 8))
    assert torch.equal(m.truncate(w, psi=1.0, cutoff=6), m.to_w_plus(w))
    collapsed = m.truncate(w, psi=0.0, cutoff=4)
    assert torch.allclose(collapsed[:, :4], m.w_avg[:4].expand(2, -1, -1))
    assert torch.equal(collapsed[:, 4:], m.to_w_plus(w)[:, 4:])


def test_sample_is_seeded(tiny_model):
    a = tiny_model.sample(2, seed=5)
    assert torch.equal(a, tiny_model.sample(2, seed=5))
    assert not torch.allclose(a, tiny_model.sample(2, seed=6))


def test_bad_inputs_raise_clear_errors(tiny_model):
    m = tiny_model
    with pytest.raises(ValueError, match=r"\[N, 8\]"):
        m.map(torch.randn(2, 9))
    with pytest.raises(ValueError, match="power of two"):
        m.encode(torch.randn(1, 3, 12, 12))
    with pytest.raises(ValueError, match="lod"):
        m.synthesize(torch.randn(1, 8), lod=7)
    with pytest.raises(ValueError, match="blend"):
        m.synthesize(torch.randn(1, 8), blend=1.5)


@pytest.mark.parametrize(
    "field,value",
    [("resolution", 48), ("resolution", 2048), ("channels", 2), ("latent_size", 0), ("truncation_psi", float("nan")),
     ("style_mixing_prob", 1.5), ("mapping_layers", 2.5), ("w_avg_beta", -0.1)],
)
def test_config_validation_names_the_range(field, value):
    with pytest.raises(ValueError, match=field):
        StyleALAE(**{**TINY, field: value})


def test_channel_schedule_matches_official_tables():
    ffhq = preset("ffhq")
    assert [ffhq.channels_at(4 * 2**i) for i in range(9)] == [512, 512, 512, 512, 256, 128, 64, 32, 16]
    assert ffhq.num_styles == 18 and preset("mnist").num_styles == 8 and preset("celeba").num_styles == 12
    assert [preset("bedroom").channels_at(4 * 2**i) for i in range(7)] == [512, 512, 512, 256, 128, 64, 32]
    with pytest.raises(ValueError, match="unknown preset"):
        preset("imagenet")


def test_official_parameter_counts():
    """Counts from instantiating the official Model (official_alae.md §2.3-§2.5)."""
    m = StyleALAE.from_preset("mnist")
    count = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
    assert (count(m.encoder), count(m.generator), count(m.discriminator), count(m.mapping)) == (
        3_017_920, 2_422_980, 4_224, 4_224)


def test_state_dict_keys_are_stable(tiny_model):
    keys = set(tiny_model.state_dict())
    for key in ["w_avg", "mapping.map_blocks.1.fc.weight", "discriminator.map_blocks.2.bias", "generator.const",
                "generator.decode_block.1.conv_1.weight", "generator.decode_block.0.noise_weight_2",
                "generator.to_rgb.2.weight", "encoder.from_rgb.0.bias", "encoder.encode_block.2.style_2.weight"]:
        assert key in keys
    assert "generator.decode_block.0.conv_1.weight" not in keys
    assert not any("blur" in k for k in keys)


def test_save_load_round_trip_is_strict_and_exact(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["_class_name"] == "StyleALAE" and config["resolution"] == 16
    assert (tmp_path / "README.md").read_text().count("library_name: alae_hf") == 1
    loaded, info = StyleALAE.from_pretrained(tmp_path, output_loading_info=True)
    assert not any(info.values())
    w = torch.randn(2, 8)
    assert torch.equal(loaded.synthesize(w), tiny_model.synthesize(w))
    assert torch.equal(loaded.w_avg, tiny_model.w_avg)


def test_saving_onto_a_file_is_one_error_and_writes_nothing(tiny_model, tmp_path):
    target = tmp_path / "model.safetensors"
    target.write_bytes(b"mine")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        tiny_model.save_pretrained(target)
    assert target.read_bytes() == b"mine" and sorted(tmp_path.iterdir()) == [target]


def test_saved_config_holds_no_load_path(tiny_model, tmp_path):
    """A model loaded from a folder and saved again (how a bundled model is published) must not
    write the folder it came from into config.json; the in-memory config still knows it."""
    tiny_model.save_pretrained(tmp_path / "first")
    loaded = StyleALAE.from_pretrained(tmp_path / "first")
    assert loaded.config["_name_or_path"] == str(tmp_path / "first")
    loaded.save_pretrained(tmp_path / "second")
    text = (tmp_path / "second" / "config.json").read_text()
    assert "_name_or_path" not in json.loads(text) and str(tmp_path) not in text
    assert StyleALAE.from_pretrained(tmp_path / "second").config.resolution == 16


def test_loading_rejects_mismatched_weights(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["latent_size"] = 16
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises((ValueError, RuntimeError)):
        StyleALAE.from_pretrained(tmp_path)


def test_loading_missing_things_fails_fast(tmp_path):
    with pytest.raises(OSError, match="not a StyleALAE folder"):
        StyleALAE.from_pretrained(tmp_path)
    with pytest.raises(OSError, match="HF_HUB_OFFLINE"):
        StyleALAE.from_pretrained("nobody/does-not-exist")
    (tmp_path / "config.json").write_text(json.dumps({"_class_name": "UNet2DModel"}))
    with pytest.raises(ValueError, match="not a StyleALAE"):
        StyleALAE.from_pretrained(tmp_path)


def test_fp16_variant_and_torch_dtype(tiny_model, tmp_path):
    tiny_model.half().save_pretrained(tmp_path, variant="fp16")
    assert (tmp_path / "diffusion_pytorch_model.fp16.safetensors").exists()
    loaded = StyleALAE.from_pretrained(tmp_path, variant="fp16", torch_dtype=torch.float16)
    assert loaded.generator.const.dtype == torch.float16 and loaded.w_avg.dtype == torch.float16
    reference = tiny_model.float().synthesize(torch.ones(1, 8))
    out = loaded.float().synthesize(torch.ones(1, 8))
    assert (out - reference).abs().max() < 2e-2


def test_from_preset_overrides():
    m = StyleALAE.from_preset("mnist", latent_size=16)
    assert m.config.latent_size == 16 and m.config.channels == 1 and m.arch.resolution == 32
    assert isinstance(m.arch, ALAEConfig)


def test_device_and_dtype_follow_the_model(tiny_model):
    m = tiny_model.to(torch.float64)
    x = m.sample(1, seed=0)
    assert x.dtype == torch.float64
    assert m.encode(x).dtype == torch.float64


def test_push_to_hub_uploads_our_card(tiny_model, monkeypatch):
    calls = {}

    class FakeApi:
        def __init__(self, token=None):
            pass

        def create_repo(self, repo_id, private=None, exist_ok=False):
            return type("R", (), {"repo_id": repo_id})()

        def upload_folder(self, repo_id, folder_path, commit_message, **kw):
            import os

            calls["files"] = sorted(os.listdir(folder_path))
            calls["card"] = open(os.path.join(folder_path, "README.md")).read()

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    assert tiny_model.push_to_hub("user/tiny") == "user/tiny"
    assert calls["files"] == ["README.md", "config.json", "diffusion_pytorch_model.safetensors"]
    assert "library_name: alae_hf" in calls["card"]


def test_inference_kernel_cache_follows_weight_updates(tiny_model):
    m, w = tiny_model, torch.randn(2, 8)
    with torch.no_grad():
        before = m.synthesize(w)
        assert torch.equal(m.synthesize(w), before)  # served from the cache
        m.generator.decode_block[1].conv_2.weight.mul_(1.5)  # an in-place update (optimizer, EMA)
        after = m.synthesize(w)
    assert not torch.allclose(after, before)
    assert torch.equal(after, m.synthesize(w))  # grad mode recomputes and agrees with the cache
    loss = m.synthesize(w).square().mean()
    loss.backward()
    assert m.generator.decode_block[1].conv_2.weight.grad is not None
