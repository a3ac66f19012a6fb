"""A small attribute network for the synthetic faces: predicts all ten factors and gives a
128-d feature space for Fréchet distance and path length.

It plays the role that Inception-v3 (FID, Heusel et al. 2017), VGG16-LPIPS (PPL, Karras et al.
2019 §4.1) and the 40 CelebA-HQ attribute classifiers (linear separability, Karras et al. 2019
§4.2; official ALAE `metrics/`) play for real faces: none of those weights can be downloaded
here, and on `alae_hf.datasets.synthetic_faces` the true factors are known, so a network trained
on them measures exactly the properties the metrics are about. It is shipped with the package
(`alae_hf/assets/`) and used by evaluation (metrics), editing (inversion's feature loss) and the app.

Input: images [N, 3, R, R] in [-1, 1] at any R; they are resized to 64 px (area filter when
shrinking, bilinear when enlarging). Training augments a quarter of each batch with a
32 px round trip and light pixel noise, so that blurry or noisy generator outputs from 32 px
or imperfect models stay in-distribution.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..datasets.synthetic_faces import FACTORS, Factor, SyntheticFaces
from ..imaging import uint8_to_model

INPUT_RESOLUTION = 64
FEATURE_DIM = 128
WIDTHS = (16, 32, 64, 128)
ASSETS = Path(__file__).resolve().parents[1] / "assets"  # alae_hf/assets (package data)
DEFAULT_WEIGHTS = ASSETS / "attribute_net.safetensors"
# Data-set seeds of the shipped net: training and held-out images never share a (seed, index).
TRAIN_SEED, HELDOUT_SEED = 1, 2


def _head_size(factor: Factor) -> int:
    return 1 if factor.kind == "continuous" else factor.num_classes


def _conv(cin: int, cout: int, stride: int) -> list[nn.Module]:
    return [
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    ]


def resize_for_attributes(images: torch.Tensor) -> torch.Tensor:
    """Resize images [N, 3, R, R] to [N, 3, 64, 64]: area filter down, bilinear up."""
    if images.ndim != 4 or images.shape[1] != 3 or images.shape[2] != images.shape[3]:
        raise ValueError(f"expected RGB images [N, 3, R, R] in [-1, 1], got {tuple(images.shape)}")
    side = images.shape[-1]
    if side > INPUT_RESOLUTION:
        return F.interpolate(images, size=INPUT_RESOLUTION, mode="area")
    if side < INPUT_RESOLUTION:
        return F.interpolate(images, size=INPUT_RESOLUTION, mode="bilinear", align_corners=False)
    return images


class AttributeNet(nn.Module):
    """Six 3x3 conv layers (64 -> 8 px), a 2x2 average pool that keeps coarse layout (yaw, tilt),
    a 128-d feature layer and one head per factor (`FACTORS` order): a scalar regression in
    [-1, 1] (the factor's range mapped linearly) for continuous factors, logits otherwise.

    Args:
        widths: channels at 64, 32, 16 and 8 px.
        feature_dim: size of the penultimate feature vector.
    """

    def __init__(self, widths: Sequence[int] = WIDTHS, feature_dim: int = FEATURE_DIM) -> None:
        super().__init__()
        if len(widths) != 4:
            raise ValueError(f"widths must list 4 channel counts (64, 32, 16, 8 px), got {widths}")
        self.widths, self.feature_dim = tuple(int(c) for c in widths), int(feature_dim)
        # The factors the heads predict, for generic metrics that must not know the data set.
        self.factors: tuple[Factor, ...] = tuple(FACTORS)
        a, b, c, d = self.widths
        self.body = nn.Sequential(
            *_conv(3, a, 1),
            *_conv(a, b, 2),
            *_conv(b, b, 1),
            *_conv(b, c, 2),
            *_conv(c, c, 1),
            *_conv(c, d, 2),
        )
        self.feature = nn.Linear(4 * d, feature_dim)
        self.heads = nn.Linear(feature_dim, sum(_head_size(f) for f in FACTORS))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Images [N, 3, R, R] in [-1, 1] -> penultimate features [N, feature_dim] (after ReLU)."""
        x = self.body(resize_for_attributes(images.to(self.feature.weight.dtype)))
        return F.relu(self.feature(F.adaptive_avg_pool2d(x, 2).flatten(1)))

    def raw_heads(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        """Features -> {factor: [N] normalised regression or [N, C] logits}."""
        out, start = {}, 0
        flat = self.heads(features)
        for f in FACTORS:
            size = _head_size(f)
            out[f.name] = (
                flat[:, start] if f.kind == "continuous" else flat[:, start : start + size]
            )
            start += size
        return out

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.raw_heads(self.features(images))

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch_size: int = 256) -> dict[str, np.ndarray]:
        """Per factor: continuous values in the factor's own units [N], class probabilities
        [N, C] for categorical and binary factors (float64 numpy)."""
        parts: list[dict[str, torch.Tensor]] = []
        for chunk in images.split(batch_size):
            parts.append(self.raw_heads(self.features(chunk.to(self.feature.weight.device))))
        out = {}
        for f in FACTORS:
            raw = torch.cat([p[f.name] for p in parts]).double().cpu()
            out[f.name] = (
                denormalise(f, raw) if f.kind == "continuous" else raw.softmax(-1)
            ).numpy()
        return out


def normalise(factor: Factor, values: torch.Tensor) -> torch.Tensor:
    """Continuous factor values -> [-1, 1] over [low, high]."""
    return (values - factor.low) / (factor.high - factor.low) * 2.0 - 1.0


def denormalise(factor: Factor, values: torch.Tensor) -> torch.Tensor:
    return (values + 1.0) / 2.0 * (factor.high - factor.low) + factor.low


def uint8_to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> float [N, 3, H, W] in [-1, 1] (the model's convention)."""
    return uint8_to_model(images, channels_last=True)


def attribute_loss(
    net: AttributeNet, images: torch.Tensor, labels: dict[str, torch.Tensor]
) -> torch.Tensor:
    """Sum over factors of MSE (continuous, normalised) and cross-entropy (categorical)."""
    heads, loss = net(images), images.new_zeros(())
    for f in FACTORS:
        if f.kind == "continuous":
            loss = loss + F.mse_loss(heads[f.name], normalise(f, labels[f.name].float()))
        else:
            loss = loss + F.cross_entropy(heads[f.name], labels[f.name].long())
    return loss


def _augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A 32 px round trip plus N(0, 0.03) noise on the first quarter of the batch."""
    k = images.shape[0] // 4
    low = F.interpolate(
        F.interpolate(images[:k], size=32, mode="area"),
        size=64,
        mode="bilinear",
        align_corners=False,
    )
    low = low + 0.03 * torch.randn(low.shape, generator=generator)
    return torch.cat([low, images[k:]])


def factor_scores(
    predictions: dict[str, np.ndarray], labels: dict[str, np.ndarray]
) -> dict[str, dict]:
    """Held-out quality per factor: accuracy (and chance = majority-class rate) for categorical
    factors; R², MAE and Pearson r for continuous ones."""
    scores: dict[str, dict] = {}
    for f in FACTORS:
        y, p = np.asarray(labels[f.name]), predictions[f.name]
        if f.kind == "continuous":
            r2 = 1.0 - np.mean((p - y) ** 2) / max(np.var(y), 1e-12)
            corr = float(np.corrcoef(p, y)[0, 1]) if np.std(p) > 0 and np.std(y) > 0 else 0.0
            scores[f.name] = {
                "kind": f.kind,
                "r2": float(r2),
                "mae": float(np.mean(np.abs(p - y))),
                "pearson": corr,
            }
        else:
            chance = float(np.bincount(y, minlength=f.num_classes).max() / len(y))
            scores[f.name] = {
                "kind": f.kind,
                "accuracy": float(np.mean(p.argmax(1) == y)),
                "chance": chance,
            }
    return scores


def train_attribute_net(
    num_images: int = 40_000,
    steps: int = 2_400,
    batch_size: int = 64,
    seed: int = 0,
    lr: float = 2e-3,
    heldout_images: int = 2_000,
    progress: bool | Callable[[int, float], None] = False,
) -> tuple[AttributeNet, dict]:
    """Train an `AttributeNet` on CPU from `SyntheticFaces(TRAIN_SEED)` at 64 px.

    Args:
        num_images: training images rendered once and kept in memory (uint8).
        steps: Adam steps (one-cycle cosine learning rate).
        batch_size: images per step.
        seed: seed for initialisation, batch order and augmentation.
        lr: peak learning rate.
        heldout_images: images from `SyntheticFaces(HELDOUT_SEED)` used for the returned scores.
        progress: True for a tqdm bar, or a callback `(step, loss)`.

    Returns:
        (net in eval mode, metrics dict with per-factor held-out scores and training facts).
    """
    start = time.time()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    images, labels = SyntheticFaces(TRAIN_SEED, INPUT_RESOLUTION, num_images).batch(
        range(num_images)
    )
    images_t = torch.from_numpy(images)
    labels_t = {k: torch.from_numpy(v) for k, v in labels.items()}
    net = AttributeNet().train()
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=steps, pct_start=0.15
    )
    for step in _steps(steps, progress):
        index = torch.randint(num_images, (batch_size,), generator=generator)
        batch = _augment(uint8_to_tensor(images_t[index].numpy()), generator)
        loss = attribute_loss(net, batch, {k: v[index] for k, v in labels_t.items()})
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if callable(progress):
            progress(step, float(loss))
    net.eval()
    metrics = evaluate_attribute_net(net, heldout_images)
    metrics["train"] = {
        "num_images": num_images,
        "steps": steps,
        "batch_size": batch_size,
        "seed": seed,
        "lr": lr,
        "data_seed": TRAIN_SEED,
        "seconds": round(time.time() - start, 1),
        "threads": torch.get_num_threads(),
        "final_loss": loss.item(),
    }
    return net, metrics


def _steps(steps: int, progress: bool | Callable) -> Sequence[int]:
    if progress is True:
        from tqdm.auto import tqdm

        return tqdm(range(steps), desc="attribute net", unit="step")
    return range(steps)


def evaluate_attribute_net(
    net: AttributeNet, num_images: int = 2_000, seed: int = HELDOUT_SEED
) -> dict:
    """Per-factor scores of `net` on `num_images` faces from `SyntheticFaces(seed)` at 64 px."""
    images, labels = SyntheticFaces(seed, INPUT_RESOLUTION, num_images).batch(range(num_images))
    predictions = net.eval().predict(uint8_to_tensor(images))
    return {
        "heldout": {
            "data_seed": seed,
            "num_images": num_images,
            "factors": factor_scores(predictions, labels),
        },
        "num_parameters": sum(p.numel() for p in net.parameters()),
        "input_resolution": INPUT_RESOLUTION,
        "feature_dim": net.feature_dim,
    }


def save_attribute_net(
    net: AttributeNet, path: str | Path = DEFAULT_WEIGHTS, metrics: dict | None = None
) -> Path:
    """Write the weights (fp32 safetensors, architecture in the metadata) and `<stem>.json`."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.detach().float().contiguous() if v.is_floating_point() else v
        for k, v in net.state_dict().items()
    }
    meta = {"widths": json.dumps(list(net.widths)), "feature_dim": str(net.feature_dim)}
    save_file(state, str(path), metadata=meta)
    if metrics is not None:
        path.with_suffix(".json").write_text(json.dumps(metrics, indent=2) + "\n")
    return path


def load_attribute_net(
    path: str | Path | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> AttributeNet:
    """Load the shipped (or a given) attribute net, strictly, in eval mode."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path) if path is not None else DEFAULT_WEIGHTS
    if not path.is_file():
        raise FileNotFoundError(
            f"no attribute-net weights at {path}; train them with "
            f"`python -m alae_hf.evaluation.attributes --out {path}`"
        )
    with safe_open(str(path), framework="pt") as handle:
        meta = handle.metadata() or {}
    net = AttributeNet(
        json.loads(meta.get("widths", json.dumps(WIDTHS))),
        int(meta.get("feature_dim", FEATURE_DIM)),
    )
    net.load_state_dict(load_file(str(path)), strict=True)
    return net.to(device=device, dtype=dtype).eval().requires_grad_(False)


def load_attribute_metrics(path: str | Path | None = None) -> dict:
    """The JSON written next to the weights by `save_attribute_net` ({} if absent)."""
    json_path = (Path(path) if path is not None else DEFAULT_WEIGHTS).with_suffix(".json")
    return json.loads(json_path.read_text()) if json_path.is_file() else {}


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: `python -m alae_hf.evaluation.attributes --out alae_hf/assets/attribute_net.safetensors`."""
    p = argparse.ArgumentParser(description="Train the synthetic-faces attribute network on CPU.")
    p.add_argument("--out", default=str(DEFAULT_WEIGHTS))
    p.add_argument("--num-images", type=int, default=40_000)
    p.add_argument("--steps", type=int, default=2_400)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    net, metrics = train_attribute_net(args.num_images, args.steps, seed=args.seed, progress=True)
    save_attribute_net(net, args.out, metrics)
    print(json.dumps(metrics["heldout"]["factors"], indent=1))


if __name__ == "__main__":
    main()
