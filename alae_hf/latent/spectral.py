"""SeFa and GANSpace directions for StyleALAE and MLPALAE (eigenvectors in W), the numerics they
share with learned directions (the `alae-directions` command is `alae_hf.latent.__main__`).

- Style k of w+ modulates `generator.decode_block[k // 2]` (`style_1` for even k, else
  `style_2`) at 4·2^(k//2) px (official ALAE `net.py`); the model's `style_affine(k)` is the one
  place that maps an index to its module. Named groups follow StyleGAN fig. 3 and ALAE
  `style_mixing/stylemix.py` (`alae_hf.latent.styles`).
- SeFa: Shen & Zhou, "Closed-Form Factorization of Latent Semantics in GANs", CVPR 2021
  (genforce/sefa `utils.factorize_weight`): unit-normalised affine rows A, eigenvectors of AᵀA.
  Unlike genforce we use `eigh` (AᵀA is symmetric), sort in descending order and fix the signs.
- GANSpace: Härkönen et al., "GANSpace: Discovering Interpretable GAN Controls", NeurIPS 2020
  (harskish/ganspace, W space): PCA of mapped w, here exact (batched float64 covariance + eigh)
  instead of IncrementalPCA, with σ measured on fresh samples.
- MLPALAE (one w, no named style groups): the only layer spec is "all" (= 0); GANSpace is the
  same PCA of mapped w; SeFa factorises the layer its `style_affine(0)` names, G's first linear
  layer w -> hidden, as genforce does for PGGAN's first layer.

Both return the `Directions` type (`alae_hf.latent.directions`, which states the sign and σ
conventions): signs canonical (`canonical_signs`), σ measured on mapped samples.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .. import __version__
from .directions import Directions
from .styles import LayerSpec, layer_range

if TYPE_CHECKING:
    from ..models.base import ALAEModel

Progress = Callable[[float, str], None]


# ---- shared numerics -----------------------------------------------------------------------
def canonical_signs(vectors: torch.Tensor) -> torch.Tensor:
    """Flip rows [K, Z] so that each row's largest-magnitude coordinate is positive."""
    peak = vectors.abs().argmax(dim=1, keepdim=True)
    sign = torch.sign(vectors.gather(1, peak))
    return vectors * torch.where(sign == 0, torch.ones_like(sign), sign)


def _descending_eigh(matrix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues descending [Z] and sign-canonical eigenvectors as rows [Z, Z] of a symmetric matrix."""
    values, vectors = torch.linalg.eigh(matrix)
    order = torch.argsort(values, descending=True, stable=True)
    return values[order], canonical_signs(vectors[:, order].T.contiguous())


def mapped_samples(
    model: ALAEModel, n_samples: int, seed: int, batch_size: int = 10_000
) -> Iterator[torch.Tensor]:
    """Yield w = F(z) in batches, z from one `numpy.random.RandomState(seed)` stream (so the
    samples do not depend on `batch_size`, and the first batch is `model.seed_latents(b, seed)`)."""
    if n_samples < 1 or batch_size < 1:
        raise ValueError(f"n_samples and batch_size must be >= 1, got {n_samples} and {batch_size}")
    rng = np.random.RandomState(seed)
    for start in range(0, n_samples, batch_size):
        z = rng.randn(min(batch_size, n_samples - start), model.arch.latent_size)
        with torch.no_grad():
            yield model.map(torch.from_numpy(z).to(model.device, model.dtype))


def latent_moments(
    model: ALAEModel,
    n_samples: int,
    seed: int,
    batch_size: int = 10_000,
    progress: Progress | None = None,
    label: str = "mapping",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean [Z] and sample covariance [Z, Z] (ddof 1) of mapped w, accumulated in float64 on CPU
    (shifted by the first batch's mean to avoid cancellation)."""
    if n_samples < 2:
        raise ValueError(f"need at least 2 samples for a covariance, got {n_samples}")
    total, shift, z = 0, None, model.arch.latent_size
    s1, s2 = torch.zeros(z, dtype=torch.float64), torch.zeros(z, z, dtype=torch.float64)
    for w in mapped_samples(model, n_samples, seed, batch_size):
        x = w.detach().to("cpu", torch.float64)
        shift = x.mean(0) if shift is None else shift
        x = x - shift
        s1 += x.sum(0)
        s2 += x.T @ x
        total += x.shape[0]
        if progress is not None:
            progress(total / n_samples, f"{label}: {total:,}/{n_samples:,} samples")
    mean = s1 / total
    cov = (s2 - total * torch.outer(mean, mean)) / (total - 1)
    return shift + mean, (cov + cov.T) / 2


def projection_sigma(
    model: ALAEModel,
    vectors: torch.Tensor,
    n_samples: int = 10_000,
    seed: int = 0,
    batch_size: int = 10_000,
    progress: Progress | None = None,
) -> torch.Tensor:
    """σ_k = std of ⟨w − mean, v_k⟩ over `n_samples` mapped samples (float32 [K]): √(v_k C v_kᵀ)."""
    _, cov = latent_moments(model, n_samples, seed, batch_size, progress, "sigma")
    v = vectors.detach().to("cpu", torch.float64)
    return torch.einsum("kz,zy,ky->k", v, cov, v).clamp_min(0).sqrt().float()


def model_fingerprint(model: ALAEModel, tensors: Sequence[torch.Tensor]) -> dict[str, Any]:
    """Config hash, name/path, and a hash of the weights a method depends on (for provenance)."""
    arch = json.dumps(model.arch.to_dict(), sort_keys=True).encode()
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return {
        "config_hash": hashlib.sha256(arch).hexdigest()[:16],
        "weights_hash": digest.hexdigest()[:16],
        "name_or_path": model.config.get("_name_or_path"),
        "config": model.arch.to_dict(),
        "alae_hf": __version__,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


# ---- SeFa ------------------------------------------------------------------------------------
def sefa_basis(model: ALAEModel, layers: LayerSpec = "all") -> tuple[torch.Tensor, torch.Tensor]:
    """The data-free SeFa eigenbasis: (vectors [Z, Z] as rows, eigenvalues [Z] descending), float64.

    Stacks the `effective_weight()` rows (C scale rows, then C bias rows) of the chosen styles'
    affines (an MLPALAE: the rows of G's first linear layer, `generator.fc_1`), scales each row to unit L2 norm (genforce), and eigendecomposes AᵀA.
    """
    indices = layer_range(model, layers)
    with torch.no_grad():
        a = torch.cat(
            [model.style_affine(k).effective_weight().to("cpu", torch.float64) for k in indices]
        )
    a = a / a.norm(dim=1, keepdim=True).clamp_min(torch.finfo(torch.float64).tiny)
    values, vectors = _descending_eigh(a.T @ a)
    return vectors, values


def sefa(
    model: ALAEModel,
    layers: LayerSpec = "all",
    num_directions: int | None = None,
    n_sigma_samples: int = 10_000,
    seed: int = 0,
    batch_size: int = 10_000,
) -> Directions:
    """SeFa directions (Shen & Zhou 2021) for the chosen styles, with σ from mapped samples.

    Args:
        model: the model whose generator's style affines (an MLPALAE: G's first linear layer)
            are factorised (weights only, no data).
        layers: styles to factorise; the directions are applied to the same styles by default.
        num_directions: keep the top K (default: all Z).
        n_sigma_samples: mapped samples used to measure σ per direction.
        seed: RandomState seed of those samples.
        batch_size: mapping batch size.
    """
    indices = layer_range(model, layers)
    vectors, values = sefa_basis(model, indices)
    k = model.arch.latent_size if num_directions is None else num_directions
    if not 1 <= k <= model.arch.latent_size:
        raise ValueError(
            f"num_directions must be in [1, {model.arch.latent_size}], got {num_directions}"
        )
    vectors, values = vectors[:k], values[:k]
    sigma = projection_sigma(model, vectors, n_sigma_samples, seed, batch_size)
    weights = [model.style_affine(i).weight for i in indices] + list(model.mapping.parameters())
    provenance = {
        "model": model_fingerprint(model, weights),
        "normalisation": "unit rows (genforce)",
        "n_sigma_samples": n_sigma_samples,
        "sigma_seed": seed,
    }
    return Directions(vectors.float(), values.float(), sigma, "sefa", indices, provenance)


def _part(progress: Progress | None, start: float, span: float) -> Progress | None:
    """A callback reporting a sub-task's fractions as [start, start + span] of the whole."""
    return (
        None
        if progress is None
        else (lambda fraction, message: progress(start + span * fraction, message))
    )


# ---- GANSpace --------------------------------------------------------------------------------
def ganspace(
    model: ALAEModel,
    n_samples: int = 100_000,
    n_components: int = 64,
    seed: int = 0,
    batch_size: int = 10_000,
    progress: Progress | None = None,
    layers: LayerSpec = "all",
    n_sigma_samples: int = 10_000,
    sigma_seed: int | None = None,
) -> Directions:
    """GANSpace directions (Härkönen et al. 2020): exact PCA of mapped w in W space.

    Args:
        model: the model whose mapping network F is sampled (only F matters).
        n_samples: mapped samples for the covariance (GANSpace: 300k default, 1M in its README).
        n_components: principal components kept, sorted by explained variance.
        seed: RandomState seed of the PCA samples.
        batch_size: mapping / accumulation batch size.
        progress: `progress(fraction, message)`, called after every batch.
        layers: styles the directions are applied to by default (PCA itself is layer-free).
        n_sigma_samples: fresh samples used to measure σ.
        sigma_seed: their seed (default `seed + 1`, so they are not the PCA samples).
    """
    indices = layer_range(model, layers)
    if not 1 <= n_components <= model.arch.latent_size:
        raise ValueError(
            f"n_components must be in [1, {model.arch.latent_size}], got {n_components}"
        )
    sigma_seed = seed + 1 if sigma_seed is None else sigma_seed
    share = n_samples / (
        n_samples + n_sigma_samples
    )  # of the progress bar spent on the PCA samples
    _, cov = latent_moments(
        model, n_samples, seed, batch_size, _part(progress, 0.0, share), "GANSpace PCA"
    )
    values, vectors = _descending_eigh(cov)
    vectors, kept = vectors[:n_components], values[:n_components]
    sigma = projection_sigma(
        model, vectors, n_sigma_samples, sigma_seed, batch_size, _part(progress, share, 1 - share)
    )
    ratio = (kept / values.clamp_min(0).sum()).tolist()
    provenance = {
        "model": model_fingerprint(model, list(model.mapping.parameters())),
        "estimator": "exact PCA",
        "n_samples": n_samples,
        "seed": seed,
        "n_sigma_samples": n_sigma_samples,
        "sigma_seed": sigma_seed,
        "explained_variance_ratio": ratio,
    }
    return Directions(vectors.float(), kept.float(), sigma, "ganspace", indices, provenance)
