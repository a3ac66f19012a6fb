"""Evaluation metrics: Fréchet distance, separability, direction response, PPL, the shipped
attribute net, and the `python -m alae_hf.evaluation` CLI end to end (tiny sizes)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from alae_hf.datasets.synthetic_faces import FACTORS, SyntheticFaces
from alae_hf.evaluation.attributes import (
    DEFAULT_WEIGHTS,
    factor_scores,
    load_attribute_metrics,
    load_attribute_net,
    uint8_to_tensor,
)
from alae_hf.evaluation.latent_metrics import (
    conditional_entropy_bits,
    direction_response,
    isolation,
    linear_separability,
    path_length,
)
from alae_hf.evaluation.metrics import (
    feature_statistics,
    frechet_distance,
    latent_reciprocity,
    reconstruction_metrics,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def net():
    return load_attribute_net()


# ---- Fréchet distance -----------------------------------------------------------------------------
def test_frechet_distance_of_identical_statistics_is_zero():
    rng = np.random.default_rng(0)
    mu, sigma = feature_statistics(rng.normal(size=(500, 12)) @ rng.normal(size=(12, 12)))
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_matches_closed_form_for_diagonal_gaussians():
    rng = np.random.default_rng(1)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    v1, v2 = rng.uniform(0.1, 3, size=6), rng.uniform(0.1, 3, size=6)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)
    got = frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2))
    assert got == pytest.approx(expected, rel=1e-8)
    assert frechet_distance(mu2, np.diag(v2), mu1, np.diag(v1)) == pytest.approx(expected, rel=1e-8)


def test_frechet_distance_survives_singular_covariances():
    rng = np.random.default_rng(2)  # fewer samples than dimensions: rank-deficient covariances
    a, b = feature_statistics(rng.normal(size=(5, 20))), feature_statistics(rng.normal(size=(5, 20)) + 1)
    value = frechet_distance(*a, *b)
    assert np.isfinite(value) and value > 20 * 0.5  # the mean shift alone is ~20


# ---- separability --------------------------------------------------------------------------------
def test_conditional_entropy_bits():
    y = np.array([0, 1] * 50)
    assert conditional_entropy_bits(y, y) == pytest.approx(0.0, abs=1e-12)
    assert conditional_entropy_bits(np.zeros_like(y), y) == pytest.approx(1.0)
    assert conditional_entropy_bits(np.repeat([0, 1], 50), y) == pytest.approx(1.0)  # independent of y


def _factor_labels(n: int, rng: np.random.Generator) -> tuple[dict, np.ndarray]:
    """Exact labels for every factor and a latent [n, D] that holds them linearly (one-hot for classes)."""
    labels, columns = {}, []
    for f in FACTORS:
        if f.kind == "continuous":
            labels[f.name] = rng.uniform(f.low, f.high, n)
            columns.append(labels[f.name][:, None])
        else:
            labels[f.name] = rng.integers(f.num_classes, size=n)
            columns.append(np.eye(f.num_classes)[labels[f.name]])
    latent = np.concatenate(columns, 1)
    rotation = np.linalg.qr(rng.normal(size=(latent.shape[1], latent.shape[1])))[0]
    return labels, latent @ rotation + 0.01 * rng.normal(size=latent.shape)


def test_separability_is_near_one_for_linear_codes_and_near_chance_for_noise():
    rng = np.random.default_rng(0)
    labels, latent = _factor_labels(400, rng)
    linear = linear_separability(latent, labels, FACTORS)
    noise = linear_separability(rng.normal(size=latent.shape), labels, FACTORS)
    assert linear["score"] < 1.5, linear
    assert noise["score"] > 0.6 * noise["chance"] and noise["chance"] > 50, noise
    assert all(f["accuracy"] > 0.95 for f in linear["factors"].values())


def test_separability_prunes_unconfident_predictions():
    rng = np.random.default_rng(3)
    labels, latent = _factor_labels(400, rng)
    probs = {f.name: (np.eye(f.num_classes)[labels[f.name]] * 0.8 + 0.2 / f.num_classes) if f.kind != "continuous"
             else labels[f.name] for f in FACTORS}
    result = linear_separability(latent, probs, FACTORS, keep=0.5)
    assert result["score"] < 1.5 and result["keep"] == 0.5


# ---- reconstruction, reciprocity, isolation ------------------------------------------------------
def test_reconstruction_and_reciprocity_of_perfect_autoencoder(net):
    images, labels = SyntheticFaces(5, 32, 8).batch(range(8))
    r = reconstruction_metrics(net, images, images.copy(), labels)
    assert r["mse"] == 0.0 and r["psnr"] >= 100
    assert all(a.get("accuracy", 1.0) == 1.0 and a.get("mae", 0.0) == 0.0 for a in r["agreement"].values())
    w = np.random.default_rng(0).normal(size=(10, 4))
    rec = latent_reciprocity(w, w)
    assert rec["mean"] == 0.0 and rec["relative"] == 0.0
    assert latent_reciprocity(w, np.zeros_like(w))["mean"] == pytest.approx(np.linalg.norm(w, axis=1).mean())


def test_isolation_share():
    share, arg = isolation(np.array([[0.0, -2.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]))
    np.testing.assert_allclose(share, [1.0, 1 / 3, 0.0])
    assert arg[0] == 1


# ---- direction response and PPL on a tiny model --------------------------------------------------
def test_response_of_a_null_direction_is_zero_and_of_a_real_one_is_not(tiny_model, net):
    from alae_hf.latent.directions import Directions

    z = tiny_model.arch.latent_size
    vectors = torch.zeros(2, z)
    vectors[1, 0] = 1.0
    d = Directions(vectors, None, torch.tensor([5.0, 5.0]), "custom", list(range(tiny_model.num_styles)))
    r = direction_response(tiny_model, net, d, n=6, seed=1, batch_size=3)
    assert r["mean"].shape == (2, len(FACTORS))
    assert np.abs(r["mean_abs"][0]).max() == 0.0
    assert r["mean_abs"][1].sum() > 1e-3
    zero_alpha = direction_response(tiny_model, net, d, indices=[1], n=4, alpha=0.0)
    assert np.abs(zero_alpha["mean_abs"]).max() == 0.0


def test_ppl_is_zero_when_the_output_ignores_w_and_positive_otherwise(tiny_model, net):
    positive = path_length(tiny_model, net, n=8, space="w", sampling="full", batch_size=4)
    assert positive["ppl"] > 0
    with torch.no_grad():
        for block in tiny_model.generator.decode_block:
            block.style_1.weight.zero_()
            block.style_2.weight.zero_()
    for space in ("z", "w"):
        for sampling in ("full", "end"):
            assert path_length(tiny_model, net, n=8, space=space, sampling=sampling, batch_size=4)["ppl"] == 0.0


# ---- shipped attribute net -----------------------------------------------------------------------
def test_shipped_attribute_net_beats_chance_on_fresh_faces(net):
    assert DEFAULT_WEIGHTS.stat().st_size < 2_000_000
    assert set(load_attribute_metrics()["heldout"]["factors"]) == {f.name for f in FACTORS}
    images, labels = SyntheticFaces(seed=123, resolution=64, length=64).batch(range(64))
    scores = factor_scores(net.predict(uint8_to_tensor(images)), labels)
    for name, s in scores.items():
        if s["kind"] == "continuous":
            assert s["r2"] > 0.6, (name, s)
        else:
            assert s["accuracy"] > max(0.8, s["chance"] + 0.3), (name, s)
    features = net.features(uint8_to_tensor(images[:4]))
    assert features.shape == (4, net.feature_dim) and torch.isfinite(features).all()


# ---- CLI -----------------------------------------------------------------------------------------
TINY_SIZES = ["--num-samples", "12", "--num-real", "12", "--num-reciprocity", "6", "--num-ppl", "6",
              "--num-response", "3", "--num-directions", "3", "--ganspace-samples", "200", "--batch-size", "6"]


def test_evaluate_cli_end_to_end(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path / "model")
    out = tmp_path / "report"
    cmd = [sys.executable, "-m", "alae_hf.evaluation", "--model", str(tmp_path / "model"), "--out", str(out),
           "--no-progress", "--threads", "1", *TINY_SIZES]
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, timeout=300)
    m = json.loads((out / "metrics.json").read_text())
    assert {"fd_attr", "reconstruction", "reciprocity", "separability", "directions", "ppl"} <= set(m)
    assert m["fd_attr"]["fd"] > m["fd_attr"]["floor"] >= 0  # a random model is worse than real data
    assert set(m["ppl"]) == {"z_full", "z_end", "w_full", "w_end"}
    assert np.asarray(m["directions"]["sefa"]["response_mean"]).shape == (3, len(FACTORS))
    report = (out / "report.md").read_text()
    assert "| FD-attr (generated vs real) |" in report and "Inception" in report
    for png in ("response_sefa.png", "response_ganspace.png", "samples.png", "reconstructions.png", "traversals.png"):
        assert Image.open(out / png).size[0] > 100


def test_evaluate_on_an_image_folder_computes_only_applicable_metrics(tiny_model, tmp_path):
    from alae_hf.evaluation.evaluate import EvalSizes, evaluate

    tiny_model.save_pretrained(tmp_path / "model")
    (tmp_path / "data").mkdir()
    for i in range(4):
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(
            tmp_path / "data" / f"{i}.png")
    sizes = EvalSizes(num_real=4, num_reciprocity=4, batch_size=4)
    m = evaluate(str(tmp_path / "model"), tmp_path / "out", str(tmp_path / "data"), sizes, progress=False)
    assert m["reconstruction"]["num_images"] == 4 and m["reciprocity"]["num_samples"] == 4
    assert not {"fd_attr", "separability", "ppl", "directions"} & set(m)
    assert (tmp_path / "out" / "report.md").is_file()
