"""Unsupervised discovery of interpretable directions by training (Voynov & Babenko, ICML 2020).

"Unsupervised Discovery of Interpretable Directions in the GAN Latent Space"
(anvoynov/GANLatentDiscovery `latent_deformator.py`, `latent_shift_predictor.py`,
`trainer.py`; Voynov & Babenko, ICML 2020). A direction matrix A (K unit-norm columns, or
orthonormal columns through a QR parametrisation) and a reconstructor R are trained jointly on
a frozen StyleALAE: for w = F(z), a direction k and a shift ε, R sees the pair
(G(w+), G(w+ + ε·s·A_k on the chosen styles)) and must predict k (cross-entropy) and ε
(L1, weight 0.25), so A learns directions whose effects are easy to tell apart.

Differences from upstream, on purpose: shifts are added in W on a layer range (upstream uses
z, or w on every layer for StyleGAN2); ε ~ U[-6, 6] with |ε| >= 0.5 as upstream, scaled by s,
the RMS per-coordinate std of w, so the same range suits any mapping network; R is a small
strided CNN (upstream ResNet-18) on images average-pooled to at most `image_size` px; the
same noise maps are used for both images of a pair. The result is the same `Directions`
type as SeFa and GANSpace (σ measured on fresh samples, signs canonicalised).

    python -m alae_hf.editing.learned --model DIR --steps 20000 --out voynov_coarse \
        --num-directions 32 --layers coarse --batch-size 32 --device cuda
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from ..latent.directions import Directions
from ..latent.spectral import (
    Progress,
    canonical_signs,
    latent_moments,
    model_fingerprint,
    projection_sigma,
)
from ..latent.styles import LayerSpec, layer_range

if TYPE_CHECKING:
    from ..models.base import ALAEModel

SHIFT_LOSS_WEIGHT = 0.25  # upstream `label_weight` 1.0, `shift_weight` 0.25


class DirectionMatrix(nn.Module):
    """A = [a_1 … a_K] in W, [Z, K]: unit-norm columns ("unit") or orthonormal ones ("ortho",
    the Q of a QR decomposition with sign(diag R) fixed positive so it is unique)."""

    def __init__(
        self, latent_size: int, num_directions: int, parametrization: str = "ortho"
    ) -> None:
        super().__init__()
        if parametrization not in ("ortho", "unit"):
            raise ValueError(f"parametrization must be 'ortho' or 'unit', got {parametrization!r}")
        if parametrization == "ortho" and num_directions > latent_size:
            raise ValueError(
                f"'ortho' allows at most latent_size={latent_size} directions, got {num_directions}"
            )
        self.parametrization = parametrization
        self.raw = nn.Parameter(torch.randn(latent_size, num_directions))

    def forward(self) -> torch.Tensor:
        if self.parametrization == "unit":
            return self.raw / self.raw.norm(dim=0, keepdim=True).clamp_min(1e-12)
        q, r = torch.linalg.qr(self.raw)
        sign = torch.sign(torch.diagonal(r))
        return q * torch.where(sign == 0, torch.ones_like(sign), sign)


class Reconstructor(nn.Module):
    """R: an image pair [N, C, H, W] x 2 -> (direction logits [N, K], shift [N]).

    Strided 3x3 convs (width doubling to `max_width`) down to 4x4, global average pooling,
    then two linear heads, as upstream's two-headed ResNet.
    """

    def __init__(
        self,
        channels: int,
        num_directions: int,
        resolution: int,
        width: int = 32,
        max_width: int = 256,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(2 * channels, width, 3, padding=1), nn.LeakyReLU(0.2)]
        cin = width
        while resolution > 4:
            cout = min(2 * cin, max_width)
            layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.LeakyReLU(0.2)]
            cin, resolution = cout, resolution // 2
        self.features = nn.Sequential(*layers)
        self.direction = nn.Linear(cin, num_directions)
        self.shift = nn.Linear(cin, 1)

    def forward(
        self, original: torch.Tensor, shifted: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.features(torch.cat([original, shifted], dim=1)).mean(dim=(2, 3))
        return self.direction(h), self.shift(h)[:, 0]


class _Pairs:
    """Draws training pairs from the frozen model: (x, x_shifted, k, ε)."""

    def __init__(
        self,
        model: ALAEModel,
        layers: list[int],
        w_scale: float,
        image_size: int,
        shift_range: tuple[float, float],
    ) -> None:
        self.model, self.w_scale, self.shift_range = model, w_scale, shift_range
        self.mask = torch.zeros(model.num_styles, 1, device=model.device, dtype=model.dtype)
        self.mask[layers] = 1.0
        self.size = min(image_size, model.arch.resolution)

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()  # R trains in float32 whatever the model's dtype
        return x if x.shape[-1] == self.size else F.adaptive_avg_pool2d(x, self.size)

    def draw(self, a: torch.Tensor, batch: int, gen: torch.Generator):
        model, device = self.model, self.mask.device
        k = torch.randint(a.shape[1], (batch,), generator=gen, device=device)
        low, high = self.shift_range
        eps = (torch.rand(batch, generator=gen, device=device) * 2 - 1) * high
        eps = torch.where(eps < 0, eps.clamp(max=-low), eps.clamp(min=low))
        z = torch.randn(
            batch, model.arch.latent_size, generator=gen, device=device, dtype=self.mask.dtype
        )
        noise = model.make_noise(batch, gen)
        with torch.no_grad():
            w_plus = model.to_w_plus(model.map(z))
            original = self._pool(model.synthesize(w_plus, noise=noise))
        shift = (a.T[k] * (eps * self.w_scale)[:, None]).to(w_plus.dtype)
        shifted = self._pool(model.synthesize(w_plus + self.mask * shift[:, None, :], noise=noise))
        return original, shifted, k, eps


def _loss(r: Reconstructor, batch: tuple) -> tuple[torch.Tensor, float]:
    original, shifted, k, eps = batch
    logits, eps_hat = r(original, shifted)
    loss = F.cross_entropy(logits, k) + SHIFT_LOSS_WEIGHT * (eps_hat - eps).abs().mean()
    return loss, (logits.argmax(1) == k).float().mean().item()


def _evaluate(
    pairs: _Pairs, a: torch.Tensor, r: Reconstructor, batch: int, seed: int, batches: int = 4
) -> float:
    """Reconstructor classification accuracy on fresh pairs (the paper's RCA)."""
    gen = torch.Generator(device=pairs.mask.device).manual_seed(seed)
    with torch.no_grad():
        return sum(_loss(r, pairs.draw(a, batch, gen))[1] for _ in range(batches)) / batches


def _init_networks(
    model: ALAEModel, num_directions: int, parametrization: str, size: int, seed: int
) -> tuple[DirectionMatrix, Reconstructor]:
    """A and R initialised from `seed` without touching the global RNG state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        deformer = DirectionMatrix(model.arch.latent_size, num_directions, parametrization)
        r = Reconstructor(model.arch.channels, num_directions, size)
    return deformer.to(model.device), r.to(model.device)


def train_voynov(
    model: ALAEModel,
    num_directions: int = 32,
    steps: int = 10_000,
    batch_size: int = 32,
    layers: LayerSpec = "all",
    lr: float = 1e-4,
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: Progress | None = None,
    parametrization: str = "ortho",
    image_size: int = 64,
    shift_range: tuple[float, float] = (0.5, 6.0),
    n_sigma_samples: int = 10_000,
) -> Directions:
    """Learn K directions in W with a reconstructor on the frozen `model` (Voynov & Babenko 2020).

    Args:
        model: the generator to explore; its weights are not changed (its requires_grad flags
            are restored afterwards). It is moved to `device` if one is given.
        num_directions: K (>= 2).
        steps, batch_size: optimisation steps and pairs per step (upstream: 1e5 steps of 32).
        layers: styles the shifts are applied to (and the result's default layers).
        lr: Adam learning rate for A and R (upstream 1e-4).
        seed: seeds A's and R's initialisation, the training stream and the σ samples.
        device: where to train (default: the model's device).
        progress: `progress(fraction, message)`, called every step.
        parametrization: "ortho" (orthonormal columns, K <= Z) or "unit" (unit columns).
        image_size, shift_range: R's input size cap (average pooling); (min |ε|, max |ε|) in
            units of the RMS std of w.
        n_sigma_samples: fresh mapped samples for σ.
    """
    model = model.to(device) if device is not None else model
    indices = layer_range(model, layers)
    if steps < 1 or batch_size < 1 or num_directions < 2:
        raise ValueError(
            f"need steps >= 1, batch_size >= 1 and num_directions >= 2, got {steps}, {batch_size}, "
            f"{num_directions}"
        )
    _, cov = latent_moments(model, 2_000, seed, 2_000)
    w_scale = math.sqrt(float(torch.diagonal(cov).mean()))
    pairs = _Pairs(model, indices, w_scale, image_size, shift_range)
    deformer, r = _init_networks(model, num_directions, parametrization, pairs.size, seed)
    optimizer = torch.optim.Adam([*deformer.parameters(), *r.parameters()], lr=lr)
    flags = [p.requires_grad for p in model.parameters()]
    model.requires_grad_(False)
    try:
        history = _train(pairs, deformer, r, optimizer, steps, batch_size, seed, progress)
    finally:
        for p, flag in zip(model.parameters(), flags):
            p.requires_grad_(flag)
    with torch.no_grad():
        a = deformer()
    vectors = canonical_signs(a.T.detach().to("cpu", torch.float32))
    sigma = projection_sigma(model, vectors, n_sigma_samples, seed + 2)
    window = max(1, steps // 10)
    provenance = {
        "model": model_fingerprint(
            model, [*model.mapping.parameters(), *model.generator.parameters()]
        ),
        "steps": steps,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "parametrization": parametrization,
        "shift_range": list(shift_range),
        "w_scale": w_scale,
        "image_size": pairs.size,
        "loss_first": sum(history[0][:window]) / window,
        "loss_last": sum(history[0][-window:]) / window,
        "train_accuracy_last": sum(history[1][-window:]) / window,
        "eval_accuracy": _evaluate(pairs, a, r, batch_size, seed + 1),
        "n_sigma_samples": n_sigma_samples,
        "sigma_seed": seed + 2,
    }
    return Directions(vectors, None, sigma, "voynov", indices, provenance)


def _train(
    pairs: _Pairs,
    deformer: DirectionMatrix,
    r: Reconstructor,
    optimizer: torch.optim.Optimizer,
    steps: int,
    batch_size: int,
    seed: int,
    progress: Progress | None,
) -> tuple[list[float], list[float]]:
    gen = torch.Generator(device=pairs.mask.device).manual_seed(seed)
    losses, accuracies = [], []
    for step in range(steps):
        loss, accuracy = _loss(r, pairs.draw(deformer(), batch_size, gen))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        accuracies.append(accuracy)
        if progress is not None:
            progress(
                (step + 1) / steps,
                f"step {step + 1}/{steps}: loss {losses[-1]:.4f}, accuracy {accuracy:.3f}",
            )
    return losses, accuracies


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: train Voynov–Babenko directions for a saved model and write a `Directions` pair."""
    parser = argparse.ArgumentParser(
        prog="python -m alae_hf.editing.learned", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--model", required=True, help="model folder or Hub repo id")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--out", help="write OUT.safetensors + OUT.json")
    parser.add_argument(
        "--save-into-model", metavar="NAME", help="write MODEL/directions/NAME.* (local folder)"
    )
    parser.add_argument("--num-directions", type=int, default=32)
    parser.add_argument(
        "--layers", default="all", help="'all', 'coarse', 'middle', 'fine' or e.g. '0-3'"
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--parametrization", choices=("ortho", "unit"), default="ortho")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)
    if not args.out and not args.save_into_model:
        parser.error("give --out FILE and/or --save-into-model NAME")
    from ..models.style import StyleALAE

    model = StyleALAE.from_pretrained(args.model).eval()
    every = max(1, args.steps // 20)

    def report(fraction: float, message: str) -> None:
        if round(fraction * args.steps) % every == 0:
            print(message, file=sys.stderr, flush=True)

    directions = train_voynov(
        model,
        args.num_directions,
        args.steps,
        args.batch_size,
        args.layers,
        args.lr,
        args.seed,
        args.device,
        report,
        args.parametrization,
    )
    if args.out:
        print(f"wrote {directions.save_to(args.out)}.safetensors/.json")
    if args.save_into_model:
        print(f"wrote {directions.save(args.model, args.save_into_model)}.safetensors/.json")
    print(
        f"reconstructor accuracy {directions.provenance['eval_accuracy']:.3f} (chance {1 / args.num_directions:.3f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
