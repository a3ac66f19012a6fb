"""Editing: layer ranges, truncation, mixing, interpolation, SeFa, GANSpace, Voynov, real images."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from alae_hf import ALAEConfig, StyleALAE
from alae_hf.latent.directions import Directions, list_directions
from alae_hf.latent.spectral import canonical_signs, ganspace, mapped_samples, sefa, sefa_basis
from alae_hf.latent.styles import describe_styles, layer_range
from alae_hf.editing.learned import main as voynov_main
from alae_hf.editing.learned import train_voynov
from alae_hf.editing.edits import edit_image, encode_images, mixing_grid, style_mix
from alae_hf.latent.ops import apply_direction, apply_directions, lerp_w, render, slerp_z, traversal
from conftest import TINY


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    # These ops are tiny: a second OpenMP thread only adds barrier waits, which cost 100x when
    # the other core is busy (2 shared cores).
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def bits(t: torch.Tensor) -> torch.Tensor:
    """Bit pattern of a float32 tensor (torch.equal treats -0.0 and 0.0 as equal)."""
    return t.contiguous().view(torch.int32)


def normalised_affine_rows(model, styles):
    a = torch.cat([model.style_affine(k).effective_weight().detach().double() for k in styles])
    return a / a.norm(dim=1, keepdim=True)


# ---- layer ranges ----------------------------------------------------------------------------
def test_named_ranges_for_16_64_and_1024_px_models():
    tiny, mid, big = 6, ALAEConfig(resolution=64, latent_size=8), ALAEConfig(resolution=1024, latent_size=8)
    assert layer_range(tiny, "coarse") == [0, 1, 2, 3] and layer_range(tiny, "middle") == [4, 5]
    assert layer_range(mid, "middle") == [4, 5, 6, 7] and layer_range(mid, "fine") == [8, 9]
    assert layer_range(big, "coarse") == [0, 1, 2, 3] and layer_range(big, "fine") == list(range(8, 18))
    assert layer_range(big, "all") == list(range(18))
    with pytest.raises(ValueError, match=r"'fine' selects no styles.*0-5.*fine none"):
        layer_range(tiny, "fine")
    assert describe_styles(mid) == "64 px, 10 styles 0-9: coarse 0-3, middle 4-7, fine 8-9"


def test_explicit_ranges_parse_and_errors_name_valid_indices(tiny_model):
    big = ALAEConfig(resolution=1024, latent_size=8)
    assert layer_range(big, "4,5,8-11") == [4, 5, 8, 9, 10, 11] and layer_range(big, " 1 - 3 ,2") == [1, 2, 3]
    assert layer_range(tiny_model, range(2, 5)) == [2, 3, 4] and layer_range(tiny_model, [5, 0, 5]) == [0, 5]
    assert layer_range(tiny_model, np.int64(3)) == [3]
    with pytest.raises(ValueError, match=r"styles 6-7 out of range; valid style indices are 0-5"):
        layer_range(tiny_model, "4-7")
    with pytest.raises(ValueError, match="could not parse.*'4,5,8-11'"):
        layer_range(tiny_model, "3-1")
    with pytest.raises(ValueError, match="empty selection"):
        layer_range(tiny_model, [])
    with pytest.raises(TypeError):
        layer_range(tiny_model, True)


# ---- truncation, mixing, interpolation -------------------------------------------------------
def test_truncation_identity_and_scope(tiny_model):
    w = tiny_model.map(torch.randn(3, 8))
    assert torch.equal(tiny_model.truncate(w, 1.0, 6), tiny_model.to_w_plus(w))
    half = tiny_model.truncate(w, 0.5, 2)
    assert torch.allclose(half[:, :2], (tiny_model.w_avg[:2] + w[:, None]) / 2, atol=1e-6)
    assert torch.equal(half[:, 2:], tiny_model.to_w_plus(w)[:, 2:])


def test_style_mix_copies_source_styles_exactly(tiny_model):
    dst, src = tiny_model.map(torch.randn(3, 8)), tiny_model.to_w_plus(tiny_model.map(torch.randn(1, 8))) * 1.5
    mixed = style_mix(tiny_model, dst, src, "1,4-5")
    assert torch.equal(mixed[:, [1, 4, 5]], src[:, [1, 4, 5]].expand(3, -1, -1))
    assert torch.equal(mixed[:, [0, 2, 3]], tiny_model.to_w_plus(dst)[:, [0, 2, 3]])


def test_mixing_grid_layout_matches_stylegan_fig3(tiny_model):
    src, dst = tiny_model.map(torch.randn(3, 8)), tiny_model.map(torch.randn(2, 8))
    grid = mixing_grid(tiny_model, src, dst, ["coarse", "middle"], noise=5)
    assert grid.size == (4 * 18 + 2, 3 * 18 + 2)  # (1 + sources) x (1 + destinations) cells of 16 + 2 px

    def cell(row, col):
        return np.asarray(grid.crop((2 + col * 18, 2 + row * 18, 18 + col * 18, 18 + row * 18)))

    assert (cell(0, 0) == 255).all()
    assert np.array_equal(cell(0, 2), np.asarray(render(tiny_model, src[1:2], noise=5)[0]))
    assert np.array_equal(cell(1, 0), np.asarray(render(tiny_model, dst[0:1], noise=5)[0]))
    expected = render(tiny_model, style_mix(tiny_model, dst[1:2], src[2:3], "middle"), noise=5)[0]
    assert np.array_equal(cell(2, 3), np.asarray(expected))


def test_interpolation_endpoints_and_slerp_norm(tiny_model):
    z0, z1 = torch.randn(2, 8), torch.randn(2, 8)
    z1 = z1 / z1.norm(dim=1, keepdim=True) * z0.norm(dim=1, keepdim=True)
    assert torch.equal(lerp_w(z0, z1, 0.0), z0) and torch.equal(lerp_w(z0, z1, 1.0), z1)
    assert torch.allclose(slerp_z(z0, z1, 0.0), z0, atol=1e-6) and torch.allclose(slerp_z(z0, z1, 1.0), z1, atol=1e-5)
    assert torch.allclose(slerp_z(z0, z1, 0.3).norm(dim=1), z0.norm(dim=1), rtol=1e-5)
    assert torch.allclose(slerp_z(z0, z0, 0.5), z0, atol=1e-6)  # parallel: no division by sin(0)
    frames = traversal(tiny_model, z0, z1, 5, space="z")
    assert frames.shape == (5, 2, 6, 8)
    assert torch.allclose(frames[0], tiny_model.to_w_plus(tiny_model.map(z0)), atol=1e-6)
    w0, w1 = tiny_model.map(z0), tiny_model.map(z1)
    assert torch.allclose(traversal(tiny_model, w0, w1, 3)[1], tiny_model.to_w_plus((w0 + w1) / 2), atol=1e-6)


# ---- SeFa ------------------------------------------------------------------------------------
def test_sefa_is_orthonormal_sorted_and_optimal(tiny_model):
    d = sefa(tiny_model, n_sigma_samples=500)
    v = d.vectors.double()
    assert torch.allclose(v @ v.T, torch.eye(8, dtype=torch.float64), atol=1e-5)
    assert (d.scores[:-1] >= d.scores[1:]).all() and (d.sigma > 0).all()
    a = normalised_affine_rows(tiny_model, range(6))
    top = (a @ v[0]).norm()
    assert torch.allclose(top**2, d.scores[0].double(), rtol=1e-5)
    probes = torch.nn.functional.normalize(torch.randn(1000, 8, dtype=torch.float64, generator=torch.Generator().
                                                       manual_seed(0)), dim=1)
    assert (probes @ a.T).norm(dim=1).max() <= top + 1e-9
    peak = v.abs().argmax(dim=1)
    assert (v[torch.arange(8), peak] > 0).all()  # the documented sign convention


def test_sefa_is_deterministic_and_independent_of_call_order(tiny_model):
    alone, values = sefa_basis(tiny_model, "all")
    sefa_basis(tiny_model, "coarse")
    again, _ = sefa_basis(tiny_model, "all")
    permuted, permuted_values = sefa_basis(tiny_model, [5, 3, 1, 0, 2, 4])
    assert torch.equal(alone, again) and torch.equal(alone, permuted) and torch.equal(values, permuted_values)
    assert torch.equal(canonical_signs(-alone), alone)
    assert sefa(tiny_model, "coarse", n_sigma_samples=100).layers == [0, 1, 2, 3]


def test_sefa_uses_only_the_chosen_layers(tiny_model):
    coarse, everything = sefa_basis(tiny_model, "coarse")[0], sefa_basis(tiny_model, "all")[0]
    with torch.no_grad():
        tiny_model.style_affine(4).weight.mul_(3).add_(1)
    assert torch.equal(sefa_basis(tiny_model, "coarse")[0], coarse)
    assert not torch.allclose(sefa_basis(tiny_model, "all")[0], everything)


# ---- GANSpace --------------------------------------------------------------------------------
def test_ganspace_matches_sklearn_pca(tiny_model):
    from sklearn.decomposition import PCA

    calls = []
    d = ganspace(tiny_model, n_samples=3000, n_components=6, seed=0, batch_size=1000, n_sigma_samples=1000,
                 progress=lambda f, m: calls.append(f))
    samples = torch.cat(list(mapped_samples(tiny_model, 3000, 0, 1000))).double().numpy()
    reference = PCA(n_components=6).fit(samples)
    cosines = (d.vectors.double().numpy() * reference.components_).sum(1)
    assert np.allclose(np.abs(cosines), 1, atol=1e-5)
    assert np.allclose(d.scores.numpy(), reference.explained_variance_, rtol=1e-5)
    assert (d.scores[:-1] >= d.scores[1:]).all() and (d.sigma > 0).all()
    # σ comes from fresh samples, so it estimates (not equals) sqrt(explained variance)
    assert torch.allclose(d.sigma, d.scores.sqrt(), rtol=0.15) and not torch.equal(d.sigma, d.scores.sqrt())
    assert len(calls) == 4 and calls == sorted(calls) and calls[-1] == 1.0
    assert d.provenance["n_samples"] == 3000 and d.provenance["sigma_seed"] == 1


def test_mapped_samples_do_not_depend_on_batch_size(tiny_model):
    batched = torch.cat(list(mapped_samples(tiny_model, 10, 3, 4)))
    assert torch.allclose(batched, tiny_model.map(tiny_model.seed_latents(10, 3)), atol=1e-6)


# ---- applying directions ---------------------------------------------------------------------
def test_zero_alpha_is_bit_identical_and_edits_stay_in_their_layers(tiny_model):
    d = sefa(tiny_model, "coarse", n_sigma_samples=200)
    wp = tiny_model.truncate(tiny_model.map(torch.randn(2, 8)), 0.7, 4).clone()
    wp[0, 0, 0] = -0.0
    assert torch.equal(bits(apply_direction(wp, d, 0, 0.0)), bits(wp))
    assert torch.equal(bits(apply_directions(wp, d, {0: 0.0, 3: 0.0})), bits(wp))
    edited = apply_direction(wp, d, 1, 2.5)  # default layers: the decomposed ones (coarse)
    assert torch.equal(bits(edited[:, 4:]), bits(wp[:, 4:]))
    assert torch.allclose(edited[:, :4] - wp[:, :4], 2.5 * d.sigma[1] * d.vectors[1], atol=1e-5)
    middle = apply_direction(wp, d, 1, -1.0, layers="middle", units="raw")
    assert torch.equal(bits(middle[:, :4]), bits(wp[:, :4]))
    assert torch.allclose(middle[:, 4:] - wp[:, 4:], -d.vectors[1], atol=1e-6)
    both = apply_directions(wp, d, [0.5, -1.0])
    assert torch.allclose(both, apply_direction(apply_direction(wp, d, 0, 0.5), d, 1, -1.0), atol=1e-6)
    with pytest.raises(ValueError, match=r"\[0, 7\]"):
        apply_direction(wp, d, 8, 1.0)
    with pytest.raises(ValueError, match="model.to_w_plus"):
        apply_direction(wp[:, 0], d, 0, 1.0)


def test_render_noise_is_shared_and_batch_independent(tiny_model):
    wp = tiny_model.to_w_plus(tiny_model.map(torch.randn(3, 8)))
    batch = render(tiny_model, wp, noise=7, batch_size=2)
    alone = render(tiny_model, wp[2:], noise=7)[0]
    assert np.array_equal(np.asarray(batch[2]), np.asarray(alone))
    assert [im.size for im in batch] == [(16, 16)] * 3


# ---- persistence -----------------------------------------------------------------------------
def test_directions_round_trip_and_strict_loading(tiny_model, tmp_path):
    d = sefa(tiny_model, "coarse", num_directions=5, n_sigma_samples=200)
    tiny_model.save_pretrained(tmp_path)
    d.save(tmp_path, "sefa_coarse")
    assert (tmp_path / "directions" / "sefa_coarse.safetensors").is_file()
    assert list_directions(tmp_path) == ["sefa_coarse"] and list_directions(tmp_path / "nothing") == []
    loaded = Directions.load(tmp_path, "sefa_coarse", tiny_model)
    for name in ("vectors", "sigma", "scores"):
        assert torch.equal(getattr(loaded, name), getattr(d, name))
    assert (loaded.method, loaded.layers, loaded.provenance) == ("sefa", [0, 1, 2, 3], d.provenance)
    meta = json.loads((tmp_path / "directions" / "sefa_coarse.json").read_text())
    assert meta["sign_convention"].startswith("largest-magnitude") and meta["provenance"]["model"]["config_hash"]
    other = StyleALAE(**{**TINY, "latent_size": 16})
    with pytest.raises(ValueError, match="latent size 8, but this model has latent size 16"):
        Directions.load(tmp_path, "sefa_coarse", other)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "latent_size": 16}))
    with pytest.raises(ValueError, match="latent size 16"):
        Directions.load(tmp_path, "sefa_coarse")  # checked against the folder's own config
    with pytest.raises(ValueError, match="directions name"):
        d.save(tmp_path, "../escape")
    meta["num_directions"] = 4
    (tmp_path / "directions" / "sefa_coarse.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="metadata says"):
        Directions.load_from(tmp_path / "directions" / "sefa_coarse.safetensors")


# ---- real images -----------------------------------------------------------------------------
def test_edit_image_accepts_any_input(tiny_model, tmp_path):
    d = sefa(tiny_model, n_sigma_samples=200)
    Image.new("RGB", (9, 30), (10, 200, 30)).save(tmp_path / "photo.png")
    sixteen = Image.fromarray(np.arange(20 * 24, dtype=np.uint16).reshape(20, 24) * 130)
    assert sixteen.mode == "I;16"
    inputs = [Image.new("RGBA", (20, 12), (255, 0, 0, 64)), Image.new("L", (33, 33), 90), sixteen,
              Image.new("RGB", (1, 1), (0, 0, 255)), str(tmp_path / "photo.png")]
    for image in inputs:
        result = edit_image(tiny_model, image, d, {0: 3.0, 2: -1.0}, noise=0)
        assert result.original.size == result.reconstruction.size == result.edited.size == (16, 16)
        assert result.edited.mode == "RGB" and result.w.shape == (1, 8)
        assert torch.allclose(result.w, encode_images(tiny_model, image))
        assert not torch.allclose(result.w_plus, tiny_model.to_w_plus(result.w))
    plain = edit_image(tiny_model, inputs[0], d, {0: 0.0}, noise=0)
    assert np.array_equal(np.asarray(plain.edited), np.asarray(plain.reconstruction))
    gray = StyleALAE(**{**TINY, "channels": 1})
    assert edit_image(gray, inputs[0]).reconstruction.mode == "L"


# ---- Voynov & Babenko ------------------------------------------------------------------------
def test_voynov_learns_distinguishable_unit_directions(tiny_model):
    state = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    calls = []
    d = train_voynov(tiny_model, num_directions=4, steps=200, batch_size=16, layers="all", lr=3e-3, seed=0,
                     progress=lambda f, m: calls.append(f), n_sigma_samples=500)
    p = d.provenance
    assert p["eval_accuracy"] > 0.4, p  # chance is 0.25
    assert p["loss_last"] < p["loss_first"] - 0.3, p
    assert torch.allclose(d.vectors @ d.vectors.T, torch.eye(4), atol=1e-5)  # orthonormal (QR)
    assert d.method == "voynov" and d.scores is None and (d.sigma > 0).all() and len(calls) == 200
    assert all(torch.equal(v, state[k]) for k, v in tiny_model.state_dict().items())
    assert all(p.requires_grad for p in tiny_model.parameters())


def test_voynov_cli_writes_loadable_directions(tiny_model, tmp_path, capsys):
    tiny_model.save_pretrained(tmp_path / "model")
    args = ["--model", str(tmp_path / "model"), "--steps", "3", "--out", str(tmp_path / "voy"), "--num-directions",
            "3", "--layers", "coarse", "--batch-size", "4", "--device", "cpu", "--save-into-model", "voynov",
            "--parametrization", "unit"]
    assert voynov_main(args) == 0
    assert "reconstructor accuracy" in capsys.readouterr().out
    loaded = Directions.load(tmp_path / "model", "voynov", tiny_model)
    assert loaded.layers == [0, 1, 2, 3] and loaded.num_directions == 3
    assert torch.allclose(loaded.vectors.norm(dim=1), torch.ones(3), atol=1e-6)
    assert torch.equal(Directions.load_from(tmp_path / "voy.json").vectors, loaded.vectors)
