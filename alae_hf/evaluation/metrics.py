"""Evaluation metrics for StyleALAE, measured in the feature space of `alae_hf.evaluation.attributes`.

Sources, per family (official ALAE `metrics/` holds the FID, PPL and LPIPS scripts):

- Fréchet distance: Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge to a
  Local Nash Equilibrium", NeurIPS 2017 (FID), with the official ALAE `metrics/fid.py` formula
  ‖μ_f−μ_r‖² + tr(Σ_f+Σ_r−2·sqrtm(Σ_fΣ_r)), computed on attribute-net features (FD-attr).
- Reconstruction: MSE/PSNR of x vs G(E(x)) (ALAE `metrics/lpips.py` compares the same pair).
- Latent reciprocity ‖w − E(G(w))‖: the quantity ALAE's latent-space reconstruction loss
  minimises (Pidhorskyi et al. 2020, §3: reciprocity is imposed in W, not in pixels).

Linear separability (Karras et al. 2019 §4.2), direction ↔ factor response and perceptual path
length (Karras et al. 2019 §4.1, ALAE `metrics/ppl.py`) live in `alae_hf.evaluation.latent_metrics`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..imaging import model_to_uint8, psnr, uint8_to_model
from .attributes import AttributeNet, denormalise, factor_scores

if TYPE_CHECKING:
    from ..datasets.synthetic_faces import Factor
    from ..models.base import ALAEModel

# Images: uint8 [N, H, W, C] (rendered or loaded) or float [N, C, H, W] in [-1, 1] (model space).
Images = np.ndarray | torch.Tensor
Predictions = dict[str, np.ndarray]


# ---- plumbing ----------------------------------------------------------------------------------
def progress_bar(iterable: Iterable, total: int, desc: str, show: bool) -> Iterable:
    if not show:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="batch", leave=False)


def image_batches(
    images: Images,
    batch_size: int,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> Iterator[torch.Tensor]:
    """Yield float batches [B, C, H, W] in [-1, 1]; uint8 NHWC arrays are converted lazily."""
    for i in range(0, len(images), batch_size):
        chunk = images[i : i + batch_size]
        if isinstance(chunk, np.ndarray):
            if chunk.dtype != np.uint8 or chunk.ndim != 4:
                raise ValueError(
                    f"expected uint8 images [N, H, W, C], got {chunk.dtype} {chunk.shape}"
                )
            chunk = uint8_to_model(chunk, channels_last=True)
        yield chunk.to(device=device, dtype=dtype)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[N, C, H, W] in [-1, 1] -> uint8 [N, H, W, C], clamped and rounded (as saved images)."""
    return model_to_uint8(images, channels_last=True).numpy()


def chunk_noise(
    noise: list[torch.Tensor] | None, start: int, stop: int
) -> list[torch.Tensor] | None:
    """Rows start:stop of per-sample noise maps; batch-shared ([1, ...]) maps pass through."""
    return None if noise is None else [m if m.shape[0] == 1 else m[start:stop] for m in noise]


@torch.no_grad()
def describe_images(
    net: AttributeNet, images: Images, batch_size: int = 128
) -> tuple[np.ndarray, Predictions]:
    """Attribute-net features [N, D] (float64) and predictions (see `AttributeNet.predict`)."""
    param = net.feature.weight
    feats = [net.features(x) for x in image_batches(images, batch_size, param.device, param.dtype)]
    features = torch.cat(feats)
    preds = net.raw_heads(features)
    out = {}
    for f in net.factors:
        raw = preds[f.name].double().cpu()
        out[f.name] = (denormalise(f, raw) if f.kind == "continuous" else raw.softmax(-1)).numpy()
    return features.double().cpu().numpy(), out


# ---- Fréchet distance --------------------------------------------------------------------------
def feature_statistics(features: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean [D] and unbiased covariance [D, D] of features [N, D], in float64 (FID's statistics)."""
    f = np.asarray(
        features.detach().cpu() if isinstance(features, torch.Tensor) else features, np.float64
    )
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"expected features [N >= 2, D], got {f.shape}")
    return f.mean(0), np.cov(f, rowvar=False)


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: float = 1e-6
) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2) (Heusel et al. 2017).

    Args:
        mu1, mu2: means [D].
        sigma1, sigma2: covariances [D, D].
        eps: diagonal offset added when the product is singular (pytorch-fid's recipe).

    `scipy.linalg.sqrtm` of Σ1Σ2 can return a complex matrix or NaNs from round-off on
    near-singular inputs; the imaginary part is dropped and, if non-finite, εI is added to both
    covariances. The result is clipped at 0 (it is a squared distance).
    """
    import scipy.linalg  # the `eval` extra; imported here so that the app can use this module without it

    mu1, mu2 = (
        np.atleast_1d(np.asarray(mu1, np.float64)),
        np.atleast_1d(np.asarray(mu2, np.float64)),
    )
    s1, s2 = (
        np.atleast_2d(np.asarray(sigma1, np.float64)),
        np.atleast_2d(np.asarray(sigma2, np.float64)),
    )
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise ValueError(
            f"mismatched statistics: mu {mu1.shape} vs {mu2.shape}, sigma {s1.shape} vs {s2.shape}"
        )
    with warnings.catch_warnings():  # singular products are handled below, not worth a warning
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(s1 @ s2)
        if not np.isfinite(covmean).all():
            offset = np.eye(s1.shape[0]) * eps
            covmean = scipy.linalg.sqrtm((s1 + offset) @ (s2 + offset))
    diff = mu1 - mu2
    value = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(np.real(covmean))
    return float(max(value, 0.0))


def fd_features(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between two feature sets [N, D]."""
    return frechet_distance(*feature_statistics(a), *feature_statistics(b))


def fd_report(
    generated: np.ndarray, real: np.ndarray, real_other: np.ndarray
) -> dict[str, float | int]:
    """FD-attr of generated vs real features and the floor: real vs a disjoint real set of the
    same size (what a perfect generator would score with these sample sizes)."""
    return {
        "fd": fd_features(generated, real),
        "floor": fd_features(real_other, real),
        "num_generated": len(generated),
        "num_real": len(real),
    }


def fd_attr(
    model: ALAEModel,
    net: AttributeNet,
    real: Images,
    real_other: Images,
    n: int = 2_000,
    seed: int = 0,
    batch_size: int = 32,
    progress: bool = False,
) -> dict[str, float | int]:
    """FD-attr: `n` untruncated samples (per-sample noise) vs `real`, and the real-vs-real floor."""
    gen = generated_samples(model, net, n, seed, batch_size, progress=progress)
    return fd_report(
        gen["features"], describe_images(net, real)[0], describe_images(net, real_other)[0]
    )


# ---- sampling, reconstruction, reciprocity -----------------------------------------------------
@torch.no_grad()
def generated_samples(
    model: ALAEModel,
    net: AttributeNet | None,
    n: int,
    seed: int = 0,
    batch_size: int = 32,
    encode_first: int = 0,
    keep_images: int = 0,
    progress: bool = False,
) -> dict:
    """Generate `n` untruncated samples from `seed` and score them.

    Args:
        model, net: the generator and the attribute net (None: no features or predictions).
        n: number of samples; z from `model.seed_latents(n, seed)`, noise per sample from a
            `torch.Generator` seeded with `seed`.
        batch_size: generator batch size.
        encode_first: also encode the first k raw (unclamped) samples: w_rec = E(G(w)).
        keep_images: keep the first k images as uint8 (for figures).
        progress: show a tqdm bar.

    Returns:
        {"z", "w" [N, Z], "features" [N, D], "predictions", "w_rec" [k, Z], "images" [k', H, W, C]}.
    """
    z = model.seed_latents(n, seed)
    gen = torch.Generator(device=model.device).manual_seed(seed)
    ws, feats, preds, recs, keep = [], [], [], [], []
    for start in progress_bar(range(0, n, batch_size), -(-n // batch_size), "samples", progress):
        w = model.map(z[start : start + batch_size])
        x = model.synthesize(w, noise=gen)
        if start < encode_first:
            recs.append(model.encode(x[: encode_first - start]))
        ws.append(w.double().cpu().numpy())
        if net is not None:
            f, p = describe_images(net, x.clamp(-1, 1))
            feats.append(f)
            preds.append(p)
        if start < keep_images:
            keep.append(to_uint8(x[: keep_images - start]))
    rec = torch.cat(recs).double().cpu().numpy() if recs else np.zeros((0, z.shape[1]))
    return {
        "z": z.double().cpu().numpy(),
        "w": np.concatenate(ws),
        "w_rec": rec,
        "features": np.concatenate(feats) if feats else None,
        "predictions": {k: np.concatenate([p[k] for p in preds]) for k in preds[0]}
        if preds
        else None,
        "images": np.concatenate(keep) if keep else None,
    }


@torch.no_grad()
def encode_reconstruct(
    model: ALAEModel, images: Images, batch_size: int = 32, seed: int = 0, progress: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """w = E(x) [N, Z] (float64) and G(w) as uint8 [N, H, W, C], untruncated, with noise from a
    generator seeded with `seed` (official demos decode encoded images with noise on)."""
    gen = torch.Generator(device=model.device).manual_seed(seed)
    ws, recs = [], []
    batches = image_batches(images, batch_size, model.device, model.dtype)
    for x in progress_bar(batches, -(-len(images) // batch_size), "reconstruct", progress):
        if x.shape[-1] != model.arch.resolution:
            raise ValueError(
                f"expected images at the model's {model.arch.resolution} px, got {tuple(x.shape)}"
            )
        w = model.encode(x)
        recs.append(to_uint8(model.synthesize(w, noise=gen)))
        ws.append(w.double().cpu().numpy())
    return np.concatenate(ws), np.concatenate(recs)


def reconstruction_metrics(
    net: AttributeNet | None,
    originals: np.ndarray,
    reconstructions: np.ndarray,
    labels: dict[str, np.ndarray] | None = None,
) -> dict:
    """MSE and PSNR on the [0, 1] scale, and per-factor agreement between x and G(E(x)).

    Args:
        net: attribute net (None skips the factor agreement).
        originals, reconstructions: uint8 [N, H, W, C] of equal shape.
        labels: true factors of the originals; adds the attribute net's scores on the
            reconstructions vs truth, next to its scores on the originals (the ceiling).

    Agreement per factor: accuracy of argmax(pred(x)) == argmax(pred(x̂)) for categorical
    factors; Pearson r and MAE between pred(x) and pred(x̂) for continuous ones.
    """
    if originals.shape != reconstructions.shape:
        raise ValueError(
            f"originals {originals.shape} and reconstructions {reconstructions.shape} differ"
        )
    err = (originals.astype(np.float64) - reconstructions.astype(np.float64)) / 255.0
    mse_each = (err**2).reshape(len(err), -1).mean(1)
    out: dict[str, Any] = {
        "mse": float(mse_each.mean()),
        "psnr": float(psnr(mse_each.mean())),
        "psnr_per_image_mean": float(np.mean(psnr(mse_each))),
        "num_images": len(err),
    }
    if net is None:
        return out
    p_x, p_r = describe_images(net, originals)[1], describe_images(net, reconstructions)[1]
    out["agreement"] = _agreement(p_x, p_r, net.factors)
    if labels is not None:
        out["vs_labels"] = {
            "reconstruction": factor_scores(p_r, labels),
            "original": factor_scores(p_x, labels),
        }
    return out


def _agreement(a: Predictions, b: Predictions, factors: Sequence[Factor]) -> dict[str, dict]:
    out = {}
    for f in factors:
        x, y = a[f.name], b[f.name]
        if f.kind == "continuous":
            r = float(np.corrcoef(x, y)[0, 1]) if x.std() > 0 and y.std() > 0 else 0.0
            out[f.name] = {"pearson": r, "mae": float(np.abs(x - y).mean())}
        else:
            out[f.name] = {"accuracy": float((x.argmax(1) == y.argmax(1)).mean())}
    return out


def latent_reciprocity(w: np.ndarray, w_rec: np.ndarray) -> dict[str, float | int]:
    """‖w − E(G(w))‖: mean L2 error, and relative to the spread of W, mean ‖w − w̄‖ (w̄ = the
    mean of these w, i.e. what the model's `w_avg` EMA estimates)."""
    w, w_rec = np.asarray(w[: len(w_rec)], np.float64), np.asarray(w_rec, np.float64)
    if len(w) == 0:
        raise ValueError("latent_reciprocity needs at least one encoded sample")
    err = np.linalg.norm(w - w_rec, axis=1)
    spread = np.linalg.norm(w - w.mean(0), axis=1).mean()
    return {
        "mean": float(err.mean()),
        "relative": float(err.mean() / max(spread, 1e-12)),
        "mse_per_dim": float(((w - w_rec) ** 2).mean()),
        "w_spread": float(spread),
        "num_samples": len(w),
    }
