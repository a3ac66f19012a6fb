"""SeFa and GANSpace on the MLP ALAE (one w, `num_styles` 1): the maths, the one layer spec,
edits on w+ [N, 1, Z], and the directions folder format."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from alae_hf.editing import apply_direction, apply_directions, ganspace, layer_range, render, sefa
from alae_hf.latent.directions import Directions
from alae_hf.latent.spectral import mapped_samples
from alae_hf.latent.styles import describe_styles
from alae_hf.models.mlp import MLPALAE

Z = 8


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return MLPALAE.from_preset("mnist-fc", hidden_size=48, latent_size=Z, mapping_layers=2, resolution=8,
                               fc_resolution=8).eval()


def first_layer(model):
    """G's first linear layer as the forward pass applies it, rows scaled to unit norm (genforce)."""
    a = (model.generator.fc_1.weight * model.generator.fc_1.weight_scale).detach().double()
    return a / a.norm(dim=1, keepdim=True)


def test_one_style_layer_specs(model):
    assert layer_range(model, "all") == layer_range(model, 0) == layer_range(model, "0") == [0]
    assert "only layer spec is 'all'" in describe_styles(model)
    for spec in ("coarse", "fine", "0-3", 1, [0, 1]):
        with pytest.raises(ValueError, match="only layer spec is 'all'") as info:
            layer_range(model, spec)
        assert "\n" not in str(info.value)


def test_sefa_is_the_eigenbasis_of_the_first_layer(model):
    d = sefa(model, n_sigma_samples=500)
    v, values = d.vectors.double(), d.scores.double()
    assert d.method == "sefa" and d.layers == [0] and v.shape == (Z, Z)
    torch.testing.assert_close(v @ v.T, torch.eye(Z, dtype=torch.float64), atol=1e-5, rtol=0)
    assert (values[:-1] >= values[1:]).all()
    a = first_layer(model)
    torch.testing.assert_close(torch.linalg.eigvalsh(a.T @ a).flip(0), values, atol=1e-4, rtol=1e-5)
    # The top direction moves G's first layer the most: no random unit vector beats it on |A d|.
    top = (a @ v[0]).norm()
    torch.testing.assert_close(top ** 2, values[0], atol=1e-4, rtol=1e-5)
    random = torch.nn.functional.normalize(torch.randn(2000, Z, dtype=torch.float64), dim=1)
    assert (random @ a.T).norm(dim=1).max() <= top + 1e-9
    # ... and it is the first layer that matters: another G layer changes nothing of the basis.
    with torch.no_grad():
        model.generator.fc_2.weight.mul_(3)
    try:
        torch.testing.assert_close(sefa(model, n_sigma_samples=10).vectors, d.vectors)
    finally:
        with torch.no_grad():
            model.generator.fc_2.weight.div_(3)


def test_ganspace_is_pca_of_mapped_w(model):
    d = ganspace(model, n_samples=3000, n_components=4, seed=3, batch_size=700, n_sigma_samples=500)
    w = next(mapped_samples(model, 3000, 3, batch_size=3000)).double().numpy()
    pca = PCA(n_components=4, svd_solver="full").fit(w)
    assert d.method == "ganspace" and d.layers == [0]
    np.testing.assert_allclose(d.scores.numpy(), pca.explained_variance_, rtol=1e-4)
    cos = np.abs(np.sum(d.vectors.double().numpy() * pca.components_, axis=1))
    np.testing.assert_allclose(cos, 1.0, atol=1e-4)


def test_edits_on_w_plus_with_one_style(model):
    d = sefa(model, n_sigma_samples=500)
    w = model.to_w_plus(model.map(model.seed_latents(3, 0)))
    assert w.shape == (3, 1, Z)
    assert torch.equal(apply_direction(w, d, 0, 0.0), w)
    assert torch.equal(apply_direction(w, d, 2, 0.0, layers="all"), w)
    moved = apply_directions(w, d, {0: 2.0})
    torch.testing.assert_close(moved - w, (2.0 * d.sigma[0] * d.vectors[0]).expand_as(w))
    with pytest.raises(ValueError, match="only layer spec"):
        apply_direction(w, d, 0, 1.0, layers="coarse")
    base, edited = render(model, w[:1]), render(model, moved[:1])
    assert base[0].size == (8, 8)
    assert np.abs(np.asarray(base[0], np.int16) - np.asarray(edited[0], np.int16)).max() > 0


def test_directions_round_trip_in_an_mlp_folder(model, tmp_path):
    model.save_pretrained(tmp_path)
    for d in (sefa(model, num_directions=3, n_sigma_samples=200),
              ganspace(model, n_samples=500, n_components=3, n_sigma_samples=200)):
        d.save(tmp_path, d.method)
        back = Directions.load(tmp_path, d.method)           # checked against the folder's config.json
        again = Directions.load(tmp_path, d.method, model)
        for loaded in (back, again):
            assert loaded.method == d.method and loaded.layers == [0]
            for name in ("vectors", "scores", "sigma"):
                assert torch.equal(getattr(loaded, name), getattr(d, name))
        assert back.provenance["model"]["config"]["hidden_size"] == 48
    styled = Directions(torch.eye(Z)[:2], None, torch.ones(2), "custom", [0, 1])   # made for a 2-style model
    styled.save(tmp_path, "styled")
    with pytest.raises(ValueError, match="only 1 styles"):
        Directions.load(tmp_path, "styled")


def test_app_edit_tab_moves_w_along_directions(model, tmp_path):
    from alae_hf.app import mlp_ui
    from alae_hf.app.inputs import InputError
    from alae_hf.app.state import Studio
    from alae_hf.imaging import make_grid

    model.save_pretrained(tmp_path / "mlp")
    shipped = sefa(model, num_directions=3, n_sigma_samples=200)
    shipped.save(tmp_path / "mlp", "sefa_all")
    loaded, cache = Studio(tmp_path / "mlp", "cpu").get(None), {}
    assert mlp_ui.edit_sliders(loaded, "SeFa", cache).directions.num_directions == 3    # the shipped set
    assert mlp_ui.edit_sliders(loaded, "GANSpace", cache).directions.method == "ganspace"  # computed
    base = mlp_ui.sample(loaded, 4, 1, 0.8)[0]
    zero = mlp_ui.edit(loaded, cache, 4, "GANSpace", 0.8, 0, 0, 0, 0, 0)
    assert np.array_equal(np.asarray(zero), np.asarray(make_grid([base, base], columns=2)))  # strength 0: identity
    moved = np.asarray(mlp_ui.edit(loaded, cache, 4, "SeFa", 0.8, 2.0, 0, 0))
    left = np.asarray(make_grid([base, base], columns=2))
    half = moved.shape[1] // 2
    assert np.array_equal(moved[:, :half], left[:, :half]) and not np.array_equal(moved, left)
    with pytest.raises(InputError, match="Method must be one of"):
        mlp_ui.edit(loaded, cache, 4, "learned", 0.8, 0)
    assert [u["visible"] for u in mlp_ui.slider_updates(loaded, "SeFa", cache)] == [True] * 3 + [False] * 2
