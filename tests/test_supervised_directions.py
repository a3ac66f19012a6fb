"""Supervised (InterFaceGAN-style) directions: the fit finds a planted direction, conditioning
makes each factor's directions orthogonal to the others', and a model's set saves and loads."""

import numpy as np
import pytest
import torch

from alae_hf.editing.supervised import condition, fit_directions, supervised
from alae_hf.latent.directions import Directions


def test_the_fit_recovers_a_planted_direction_and_scores_it():
    g = torch.Generator().manual_seed(0)
    mix = torch.randn(16, 16, generator=g, dtype=torch.float64)  # correlated codes, as mapped w are
    w = torch.randn(3000, 16, generator=g, dtype=torch.float64) @ mix + 3.0
    true = torch.randn(16, generator=g, dtype=torch.float64)
    noise = 0.1 * torch.randn(3000, generator=g, dtype=torch.float64)
    signal = (w @ true).numpy()
    targets = np.stack([signal + noise.numpy() * signal.std(), np.asarray(noise)], 1)
    vectors, r2 = fit_directions(w, targets)
    assert torch.allclose(vectors.norm(dim=1), torch.ones(2, dtype=torch.float64))
    assert float(vectors[0] @ true / true.norm()) > 0.99  # the sign: "more of the label"
    assert r2[0] > 0.98 and r2[1] < 0.05  # noise has no direction, and its score says so


def test_too_few_samples_is_one_clear_error():
    with pytest.raises(ValueError, match="more samples than latent dimensions"):
        fit_directions(torch.randn(10, 16, dtype=torch.float64), np.zeros((10, 1)))


def test_conditioning_removes_the_other_factors_only():
    g = torch.Generator().manual_seed(1)
    vectors = torch.nn.functional.normalize(torch.randn(5, 12, generator=g, dtype=torch.float64), dim=1)
    groups = ["yaw", "hair=0", "hair=1", "smile", "hair=2"]
    groups = [n.split("=")[0] for n in groups]
    out = condition(vectors, groups)
    assert torch.allclose(out.norm(dim=1), torch.ones(5, dtype=torch.float64))
    for k, gk in enumerate(groups):
        for j, gj in enumerate(groups):
            if gk != gj:
                assert abs(float(out[k] @ vectors[j])) < 1e-10
    assert abs(float(out[1] @ vectors[2])) > 1e-3  # classes of one factor are not made orthogonal
    assert float((out * vectors).sum(1).min()) > 0  # each keeps its own sense


def test_a_models_set_has_one_direction_per_label_and_round_trips(tiny_model, tmp_path):
    from alae_hf.evaluation.attributes import load_attribute_net

    net = load_attribute_net()
    d = supervised(tiny_model, net, n_samples=64, seed=3, n_sigma_samples=200)
    labels = d.provenance["labels"]
    assert d.method == "interfacegan" and d.num_directions == len(labels) == 23
    assert "yaw" in labels and "hair_style=0" in labels and "glasses" in labels
    assert len(d.provenance["held_out_r2"]) == 23 and (d.sigma > 0).all()
    d.save(tmp_path, "interfacegan")
    back = Directions.load(tmp_path, "interfacegan", tiny_model)
    assert torch.equal(back.vectors, d.vectors) and back.provenance["labels"] == labels
    meta = (tmp_path / "directions" / "interfacegan.json").read_text()
    assert "increases the label" in meta  # not the sign rule of SeFa / GANSpace
