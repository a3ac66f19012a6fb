"""Supervised directions: one latent direction per labelled factor, fitted on generated samples.

InterFaceGAN (Shen et al., "Interpreting the Latent Space of GANs for Semantic Face Editing",
CVPR 2020, §2.1–2.2; genforce/interfacegan `utils/manipulator.py`): label generated images with an
attribute predictor, fit a linear model of each attribute on the latent codes, and move along
its normal. *Conditional manipulation* (§2.2) removes from each direction its components along
the other attributes' directions, so that moving along one changes the others less.

Here the labels come from the shipped attribute net (`alae_hf.evaluation.attributes`, the net the
evaluation uses), the codes are w = F(z), and the fit is least squares on all samples
(continuous factors: the predicted value; binary and categorical ones: the probability of each
class, one direction per class; InterFaceGAN fits a linear SVM on the 2% extremes of each score
instead). Each direction's score is its R² on held-out samples.

A caveat for benchmarks: an isolation measured with the same attribute net rewards these
directions for agreeing with that net; measure them on other samples than they were fitted on
(the fit uses `seed`, the direction benchmark seed 0 by default).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..latent.directions import Directions
from ..latent.spectral import mapped_samples, model_fingerprint, projection_sigma
from ..latent.styles import LayerSpec, layer_range

if TYPE_CHECKING:
    from ..evaluation.attributes import AttributeNet
    from ..models.base import ALAEModel


def labelled_samples(
    model: ALAEModel, net: AttributeNet, n_samples: int, seed: int, batch_size: int = 64
) -> tuple[torch.Tensor, np.ndarray, list[str]]:
    """(w [N, Z] float64, targets [N, T], target names): the net's predictions on G(w), one
    column per continuous factor and per class of every other factor ("hair_style=1")."""
    ws, columns = [], []
    noise = torch.Generator(device=model.device).manual_seed(seed)
    for w in mapped_samples(model, n_samples, seed, batch_size):
        with torch.no_grad():
            x = model.synthesize(w, noise=model.make_noise(w.shape[0], noise)).clamp(-1, 1)
        predicted = net.predict(x.float())
        columns.append(np.concatenate([_columns(f, predicted[f.name]) for f in net.factors], 1))
        ws.append(w.detach().to("cpu", torch.float64))
    names = [n for f in net.factors for n in _names(f)]
    return torch.cat(ws), np.concatenate(columns), names


def _columns(factor, values: np.ndarray) -> np.ndarray:
    """[N, 1] values of a continuous factor, [N, 1] P(1) of a binary one, [N, C] class probabilities."""
    if factor.kind == "continuous":
        return values[:, None]
    return values[:, 1:2] if factor.kind == "binary" else values


def _names(factor) -> list[str]:
    if factor.kind == "continuous" or factor.kind == "binary":
        return [factor.name]
    return [f"{factor.name}={c}" for c in range(factor.num_classes)]


def fit_directions(
    w: torch.Tensor, targets: np.ndarray, held_out: float = 0.2, ridge: float = 1e-3
) -> tuple[torch.Tensor, torch.Tensor]:
    """Least-squares normals (unit rows [T, Z]) and their held-out R² [T] (float64).

    Ridge `ridge`·mean eigenvalue of the covariance keeps the solve stable for small samples."""
    y = torch.from_numpy(targets).double()
    split = int(round(w.shape[0] * (1 - held_out)))
    if split < w.shape[1] + 2 or w.shape[0] - split < 2:
        raise ValueError(
            f"need more samples than latent dimensions ({w.shape[1]}) to fit, got {w.shape[0]}"
        )
    mean_w, mean_y = w[:split].mean(0), y[:split].mean(0)
    xw, xy = w[:split] - mean_w, y[:split] - mean_y
    cov = xw.T @ xw / split
    cov += ridge * cov.diagonal().mean() * torch.eye(cov.shape[0], dtype=cov.dtype)
    coef = torch.linalg.solve(cov, xw.T @ xy / split)  # [Z, T]
    residual = (y[split:] - mean_y) - (w[split:] - mean_w) @ coef
    spread = (y[split:] - y[split:].mean(0)).pow(2).sum(0).clamp_min(1e-12)
    r2 = 1 - residual.pow(2).sum(0) / spread
    return coef.T / coef.norm(dim=0)[:, None].clamp_min(1e-12), r2


def condition(vectors: torch.Tensor, groups: Sequence[str]) -> torch.Tensor:
    """InterFaceGAN's conditional manipulation, for many attributes at once: each row minus its
    projection on the span of the rows of *other* factors (`groups[k]`: row k's factor), re-normed."""
    out = []
    for k, group in enumerate(groups):
        others = vectors[[j for j, g in enumerate(groups) if g != group]]
        if others.shape[0] == 0:
            out.append(vectors[k])
            continue
        basis = torch.linalg.svd(others, full_matrices=False)[2]  # orthonormal rows of the span
        rank = int((torch.linalg.svdvals(others) > 1e-8).sum())
        v = vectors[k] - basis[:rank].T @ (basis[:rank] @ vectors[k])
        out.append(v / v.norm().clamp_min(1e-12))
    return torch.stack(out)


def supervised(
    model: ALAEModel,
    net: AttributeNet,
    n_samples: int = 4000,
    seed: int = 1000,
    conditional: bool = True,
    layers: LayerSpec = "all",
    n_sigma_samples: int = 10_000,
) -> Directions:
    """One direction per continuous/binary factor and per class of a categorical one, fitted on
    `n_samples` generated images labelled by `net` (see the module docstring).

    Args:
        model: the model whose F and G make the samples.
        net: the attribute predictor (`alae_hf.evaluation.attributes.load_attribute_net()`).
        n_samples: labelled samples (80% fit, 20% held out for the R² scores).
        seed: their seed (not 0, the direction benchmark's).
        conditional: project each direction off the other factors' directions.
        layers: styles the directions are applied to by default.
        n_sigma_samples: fresh mapped samples for σ (seed `seed + 1`).
    """
    indices = layer_range(model, layers)
    w, targets, names = labelled_samples(model, net, n_samples, seed)
    vectors, r2 = fit_directions(w, targets)
    groups = [n.split("=")[0] for n in names]
    if conditional:
        vectors = condition(vectors, groups)
    # The fitted sign means "more of the attribute": kept (not the other methods' sign rule).
    sigma = projection_sigma(model, vectors.float(), n_sigma_samples, seed + 1)
    provenance = {
        "model": model_fingerprint(model, list(model.mapping.parameters())),
        "estimator": "least squares of attribute-net labels on w (InterFaceGAN, Shen et al. 2020)",
        "labels": names,
        "held_out_r2": [round(float(v), 4) for v in r2],
        "conditional": conditional,
        "n_samples": n_samples,
        "seed": seed,
        "n_sigma_samples": n_sigma_samples,
        "sign": "+ increases the label (its value, or the probability of its class)",
    }
    return Directions(vectors.float(), r2.float(), sigma, "interfacegan", indices, provenance)
