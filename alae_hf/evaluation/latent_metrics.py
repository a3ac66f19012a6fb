"""Latent-space metrics: linear separability, direction ↔ factor response, perceptual path length.

Split from `alae_hf.evaluation.metrics` (image-space metrics, sampling and the attribute-net plumbing) to
keep modules small; sources:

- Linear separability: Karras et al., "A Style-Based Generator Architecture for GANs", CVPR
  2019, §4.2, and NVlabs `metrics/linear_separability.py`: a linear SVM per binary attribute on
  latents, H(Y|X) in bits between the SVM's prediction X and the label Y, score 2^Σ H. The
  NVlabs code fits and scores on the same 100k samples in 512 dimensions; with the ~10³ samples
  used here a linear SVM would also fit noise, so predictions are cross-fitted (2 folds).
- Direction response: attribute re-scoring of ±σ edits (InterFaceGAN, Shen et al. CVPR 2020;
  SeFa §4) on the known factors of `alae_hf.datasets.synthetic_faces`.
- PPL: Karras et al. 2019 §4.1 and ALAE `metrics/ppl.py`: ε = 1e-4,
  slerp in Z / lerp in W, t ~ U[0, 1] ("full") or t = 0 ("end"), noise shared by the pair
  (batch-constant), distance / ε², mean over the 1st-99th percentile. The distance is the
  squared L2 distance of attribute-net features (VGG-LPIPS weights are not available offline),
  and images are not cropped (the attribute net sees whole faces).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from .attributes import AttributeNet
from .metrics import Predictions, chunk_noise, describe_images, progress_bar

if TYPE_CHECKING:
    from ..datasets.synthetic_faces import Factor
    from ..latent.directions import Directions
    from ..models.base import ALAEModel


# ---- linear separability -----------------------------------------------------------------------
def conditional_entropy_bits(x: np.ndarray, y: np.ndarray) -> float:
    """H(Y|X) in bits from paired discrete samples (NVlabs `conditional_entropy`: H(Y) − I(X;Y))."""
    x, y = np.asarray(x), np.asarray(y)
    _, xi = np.unique(x, return_inverse=True)
    _, yi = np.unique(y, return_inverse=True)
    joint = np.zeros((xi.max() + 1, yi.max() + 1))
    np.add.at(joint, (xi, yi), 1.0)
    joint /= joint.sum()
    px = joint.sum(1, keepdims=True)
    nz = joint > 0
    return float(max(0.0, -np.sum(joint[nz] * np.log2((joint / np.maximum(px, 1e-300))[nz]))))


def svm_predictions(
    latents: np.ndarray, targets: np.ndarray, folds: int = 2, seed: int = 0
) -> np.ndarray:
    """Out-of-fold predictions of a standardised linear SVM (sklearn `LinearSVC`, C = 1) trained
    on `latents` [N, D] to predict binary `targets` [N]; a fold whose training part has one class
    predicts that class."""
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    targets = np.asarray(targets).astype(np.int64)
    counts = np.bincount(targets, minlength=2)
    out = np.full_like(targets, int(counts.argmax()))
    if counts.min() < folds:
        return out
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(latents, targets):
        svm = make_pipeline(StandardScaler(), LinearSVC(C=1.0, max_iter=10_000))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            svm.fit(latents[train], targets[train])
        out[test] = svm.predict(latents[test])
    return out


def binary_tasks(
    labels: dict[str, np.ndarray], factors: Sequence[Factor]
) -> dict[str, list[tuple[np.ndarray, np.ndarray | None]]]:
    """Per factor, the binary tasks (target [N], confidence [N] or None) of the separability test.

    Labels are exact values (int classes / floats) or attribute-net predictions (class
    probabilities [N, C] / floats). Continuous factors are split at their median, confidence =
    distance to it; binary factors give one task; categorical factors one one-vs-rest task per
    class (averaged later), confidence max(p, 1 − p) for probabilities, None for exact classes.
    """
    tasks: dict[str, list] = {}
    for f in factors:
        v = np.asarray(labels[f.name])
        if f.kind == "continuous":
            med = np.median(v)
            tasks[f.name] = [((v > med).astype(np.int64), np.abs(v - med))]
            continue
        probs = v if v.ndim == 2 else None
        classes = [1] if f.kind == "binary" else range(f.num_classes)
        tasks[f.name] = []
        for c in classes:
            if probs is None:
                tasks[f.name].append(((v == c).astype(np.int64), None))
            else:
                tasks[f.name].append(
                    (
                        (probs.argmax(1) == c).astype(np.int64),
                        np.maximum(probs[:, c], 1 - probs[:, c]),
                    )
                )
    return tasks


def linear_separability(
    latents: np.ndarray,
    labels: dict[str, np.ndarray],
    factors: Sequence[Factor],
    keep: float = 0.5,
    folds: int = 2,
    seed: int = 0,
) -> dict:
    """Linear separability of every factor in a latent space (Karras et al. 2019 §4.2).

    Args:
        latents: [N, D] codes (z, w or E(x)).
        labels: per factor, exact labels or attribute-net predictions (see `binary_tasks`).
        factors: the factors' kinds and ranges (e.g. `AttributeNet.factors`).
        keep: fraction of each task's most confident samples kept (StyleGAN keeps 50%); tasks
            without a confidence (exact classes) keep all.
        folds: cross-fitting folds for the SVM predictions.
        seed: fold shuffling seed.

    Returns:
        {"score": 2^Σ_f H_f, "chance": 2^Σ_f H(Y_f), "factors": {f: {"entropy_bits", "chance_bits",
        "separability": 2^H_f, "accuracy"}}}; lower is better, 1 is perfect, "chance" is a
        useless SVM. For categorical factors H_f averages the one-vs-rest tasks.
    """
    latents = np.asarray(latents, np.float64)
    scores = {}
    for name, tasks in binary_tasks(labels, factors).items():
        h, h0, acc = [], [], []
        for target, confidence in tasks:
            idx = (
                np.arange(len(target))
                if confidence is None
                else np.argsort(-confidence, kind="stable")
            )
            idx = idx[: max(2, int(round(keep * len(idx))))] if confidence is not None else idx
            pred = svm_predictions(latents[idx], target[idx], folds, seed)
            h.append(conditional_entropy_bits(pred, target[idx]))
            h0.append(conditional_entropy_bits(np.zeros_like(pred), target[idx]))
            acc.append(float((pred == target[idx]).mean()))
        scores[name] = {
            "entropy_bits": float(np.mean(h)),
            "chance_bits": float(np.mean(h0)),
            "separability": float(2 ** np.mean(h)),
            "accuracy": float(np.mean(acc)),
        }
    return {
        "score": float(2 ** sum(f["entropy_bits"] for f in scores.values())),
        "chance": float(2 ** sum(f["chance_bits"] for f in scores.values())),
        "num_samples": len(latents),
        "keep": keep,
        "factors": scores,
    }


# ---- direction ↔ factor response ---------------------------------------------------------------
def factor_scalars(predictions: Predictions, factors: Sequence[Factor]) -> dict[str, np.ndarray]:
    """Predictions on a common scale: continuous factors / (high − low), binary p(class 1),
    categorical class probabilities [N, C] (compared by total variation)."""
    out = {}
    for f in factors:
        p = predictions[f.name]
        out[f.name] = (
            p / (f.high - f.low)
            if f.kind == "continuous"
            else (p[:, 1] if f.kind == "binary" else p)
        )
    return out


def _half_change(plus: Predictions, minus: Predictions, factors: Sequence[Factor]) -> np.ndarray:
    """[N, F] change per σ: (s(+α) − s(−α)) / 2, or half the total variation for categorical."""
    a, b = factor_scalars(plus, factors), factor_scalars(minus, factors)
    cols = [0.25 * np.abs(a[n] - b[n]).sum(1) if a[n].ndim == 2 else (a[n] - b[n]) / 2 for n in a]
    return np.stack(cols, axis=1)


@torch.no_grad()
def direction_response(
    model: ALAEModel,
    net: AttributeNet,
    directions: Directions,
    indices: Sequence[int] | None = None,
    n: int = 32,
    seed: int = 0,
    alpha: float = 1.0,
    batch_size: int = 32,
    progress: bool = False,
) -> dict:
    """Mean change of every factor (attribute-net predictions) for a ±`alpha`σ move along each
    direction, on the direction set's layers, for `n` untruncated samples with fixed noise.

    Returns:
        {"mean": [K, F] signed change per σ (categorical: unsigned total variation),
        "mean_abs": [K, F] mean |change| (used for isolation), "indices", "factors",
        "alpha", "num_samples"}; see `isolation` and `best_per_factor`.
    """
    from ..latent.ops import apply_direction

    indices = (
        list(range(directions.num_directions)) if indices is None else [int(i) for i in indices]
    )
    w_plus = model.to_w_plus(model.map(model.seed_latents(n, seed)))
    noise = model.make_noise(n, torch.Generator(device=model.device).manual_seed(seed))
    rows = []
    for k in progress_bar(indices, len(indices), f"{directions.method} response", progress):
        ends = [
            _predict(
                model, net, apply_direction(w_plus, directions, k, s * alpha), noise, batch_size
            )
            for s in (1.0, -1.0)
        ]
        rows.append(_half_change(ends[0], ends[1], net.factors))
    changes = np.stack(rows)  # [K, N, F]
    return {
        "mean": changes.mean(1),
        "mean_abs": np.abs(changes).mean(1),
        "indices": indices,
        "factors": [f.name for f in net.factors],
        "alpha": alpha,
        "num_samples": n,
        "method": directions.method,
    }


def _predict(
    model: ALAEModel,
    net: AttributeNet,
    w_plus: torch.Tensor,
    noise: list[torch.Tensor],
    batch_size: int,
) -> Predictions:
    parts = []
    for i in range(0, w_plus.shape[0], batch_size):
        x = model.synthesize(
            w_plus[i : i + batch_size], noise=chunk_noise(noise, i, i + batch_size)
        )
        parts.append(describe_images(net, x.clamp(-1, 1))[1])
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def isolation(response: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per direction: share of its largest |response| in the sum over factors, max_j|r_kj| / Σ_j|r_kj|
    (1 = one factor only, 1/F = spread evenly), and the index of that factor."""
    r = np.abs(np.asarray(response, np.float64))
    total = r.sum(1)
    share = np.where(total > 0, r.max(1) / np.maximum(total, 1e-300), 0.0)
    return share, r.argmax(1)


def best_per_factor(response: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per factor: the row (direction) with the largest |response| and that |response|."""
    r = np.abs(np.asarray(response, np.float64))
    return r.argmax(0), r.max(0)


# ---- perceptual path length ----------------------------------------------------------------------
def percentile_mean(values: np.ndarray, low: float = 1.0, high: float = 99.0) -> float:
    """Mean of the values within [low, high] percentiles (NVlabs/ALAE PPL outlier rejection)."""
    v = np.asarray(values, np.float64)
    lo, hi = np.percentile(v, low, method="lower"), np.percentile(v, high, method="higher")
    return float(v[(v >= lo) & (v <= hi)].mean())


@torch.no_grad()
def path_length(
    model: ALAEModel,
    net: AttributeNet,
    n: int = 500,
    space: str = "w",
    sampling: str = "full",
    epsilon: float = 1e-4,
    seed: int = 0,
    batch_size: int = 32,
    progress: bool = False,
    distance: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> dict:
    """Perceptual path length in attribute-net feature space (Karras et al. 2019 §4.1).

    Args:
        model, net: generator and attribute net (features = the distance's embedding).
        n: number of pairs (latents and t from `numpy.random.RandomState(seed)`).
        space: "z" (slerp, then F) or "w" (lerp of F's outputs).
        sampling: "full" (t ~ U[0, 1]) or "end" (t = 0).
        epsilon: step; distances are ‖φ(G(t)) − φ(G(t + ε))‖² / ε².
        seed: seed of latents, t and the batch-constant noise maps.
        batch_size: pairs per generator call.
        distance: optional image distance d(x0, x1) -> [B] (e.g. LPIPS) replacing the default
            squared L2 of attribute features.

    Returns:
        {"ppl": mean within the 1st-99th percentile, "median", "num_pairs", ...}.
    """
    from ..latent.ops import lerp_w, slerp_z

    if space not in ("z", "w") or sampling not in ("full", "end"):
        raise ValueError(
            f"space must be 'z' or 'w' and sampling 'full' or 'end', got {space!r}, {sampling!r}"
        )
    rng = np.random.RandomState(seed)
    z = torch.from_numpy(rng.randn(2, n, model.arch.latent_size)).to(model.device, model.dtype)
    t = torch.from_numpy(rng.uniform(size=(n, 1)) * (sampling == "full")).to(
        model.device, model.dtype
    )
    gen = torch.Generator(device=model.device).manual_seed(seed)
    dist = []
    for i in progress_bar(
        range(0, n, batch_size), -(-n // batch_size), f"PPL {space}/{sampling}", progress
    ):
        z0, z1, ti = z[0, i : i + batch_size], z[1, i : i + batch_size], t[i : i + batch_size]
        if space == "z":
            w = model.map(torch.cat([slerp_z(z0, z1, ti), slerp_z(z0, z1, ti + epsilon)]))
        else:
            w0, w1 = model.map(z0), model.map(z1)
            w = torch.cat([lerp_w(w0, w1, ti), lerp_w(w0, w1, ti + epsilon)])
        x = model.synthesize(w, noise=model.make_noise(1, gen, batch_constant=True))
        half = x.shape[0] // 2
        if distance is not None:
            dist.append(
                distance(x[:half], x[half:]).reshape(-1).double().cpu().numpy() / epsilon**2
            )
            continue
        f = describe_images(net, x)[0]  # unclamped, as ALAE `ppl.py`
        dist.append(((f[:half] - f[half:]) ** 2).sum(1) / epsilon**2)
    d = np.concatenate(dist)
    return {
        "ppl": percentile_mean(d),
        "median": float(np.median(d)),
        "num_pairs": n,
        "space": space,
        "sampling": sampling,
        "epsilon": epsilon,
    }
