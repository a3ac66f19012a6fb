"""How useful is the latent space? Digit classification from w vs raw pixels vs a plain autoencoder.

The ALAE paper's MNIST experiment (the MLP ALAE, official `configs/mnist_fc.yaml`) argues that
E's w is a better representation than other autoencoders' codes, measured by classifying digit
labels from the codes. Here: encode the labelled train and held-out test split, fit on train,
report test accuracy of

* k-NN (Euclidean, `k` neighbours) and
* a linear probe (multinomial logistic regression on standardised features),

for raw pixels, w = E(x) of the ALAE, and z = E(x) of a plain
autoencoder with the same E and G (`PlainAutoencoder`: same layers and sizes, pixel MSE only,
no F, no D) trained with the same budget (steps x batch, optimizer); plus, as a control, an
untrained E (random projections already separate easy digits).

    python -m alae_hf.evaluation.latent_classification --model checkpoints/alae-digits-mlp \\
        --baseline_steps 1000 --out report/
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..imaging import fit_square, uint8_to_model
from ..mlp_networks import FCEncoder, FCGenerator, MLPConfig

DEFAULT_K = 5


def to_model_input(images: np.ndarray, resolution: int, channels: int = 1) -> torch.Tensor:
    """uint8 images [N, H, W] (grey) -> [N, C, R, R] in [-1, 1], resized as the trainer's image
    folder loader does (`alae_hf.imaging.fit_square`)."""
    from PIL import Image

    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"expected uint8 images [N, H, W], got {images.dtype} {images.shape}")
    fitted = np.stack([np.asarray(fit_square(Image.fromarray(x, mode="L"), resolution)) for x in images])
    x = uint8_to_model(torch.from_numpy(fitted))[:, None]
    return x.expand(-1, channels, -1, -1).contiguous()


class PlainAutoencoder(nn.Module):
    """The baseline: the MLP ALAE's E and G (same layers, sizes, init), trained on pixel MSE only."""

    def __init__(self, config: MLPConfig) -> None:
        super().__init__()
        self.arch = config
        self.encoder = FCEncoder(config)
        self.generator = FCGenerator(config)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.generator(self.encoder(x), x.shape[-1])


def train_plain_autoencoder(x: torch.Tensor, config: MLPConfig, steps: int, batch_size: int = 128,
                            learning_rate: float = 0.002, seed: int = 0) -> tuple[PlainAutoencoder, list[float]]:
    """Train the baseline on images `x` [N, C, R, R] in [-1, 1] with the ALAE trainer's Adam
    (betas 0, 0.99); returns it (eval mode) and the loss per step."""
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be >= 1, got {steps} and {batch_size}")
    torch.manual_seed(seed)
    model = PlainAutoencoder(config).to(x.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate, betas=(0.0, 0.99), eps=1e-8)
    rng = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(steps):
        batch = x[torch.randint(len(x), (batch_size,), generator=rng)]
        loss = (model(batch) - batch).pow(2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return model.eval(), losses


@torch.no_grad()
def encode_all(encode, x: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """Codes of `x` by `encode` (a model's E), in batches, as float64 numpy [N, Z]."""
    return torch.cat([encode(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]).double().cpu().numpy()


def knn_accuracy(train: np.ndarray, y_train: np.ndarray, test: np.ndarray, y_test: np.ndarray,
                 k: int = DEFAULT_K) -> float:
    """Test accuracy of a k-nearest-neighbour vote (Euclidean) fitted on the train codes."""
    from sklearn.neighbors import KNeighborsClassifier

    return float(KNeighborsClassifier(n_neighbors=k).fit(train, y_train).score(test, y_test))


def probe_accuracy(train: np.ndarray, y_train: np.ndarray, test: np.ndarray, y_test: np.ndarray) -> float:
    """Test accuracy of a linear probe: logistic regression on features standardised on train."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    return float(probe.fit(train, y_train).score(test, y_test))


@dataclass(frozen=True)
class Row:
    """One representation's line of the table."""

    name: str
    dims: int
    knn: float
    probe: float


def classify(name: str, train: np.ndarray, y_train: np.ndarray, test: np.ndarray, y_test: np.ndarray,
             k: int = DEFAULT_K) -> Row:
    return Row(name, train.shape[1], knn_accuracy(train, y_train, test, y_test, k),
               probe_accuracy(train, y_train, test, y_test))


def markdown_table(rows: list[Row], k: int = DEFAULT_K) -> str:
    lines = [f"| representation | dims | {k}-NN accuracy | linear-probe accuracy |", "| --- | --- | --- | --- |"]
    lines += [f"| {r.name} | {r.dims} | {100 * r.knn:.1f}% | {100 * r.probe:.1f}% |" for r in rows]
    return "\n".join(lines)


def evaluate(model, steps: int, batch_size: int = 128, learning_rate: float = 0.002, k: int = DEFAULT_K,
             seed: int = 0, baseline: tuple[PlainAutoencoder, list[float], float] | None = None
             ) -> tuple[list[Row], dict]:
    """The table for an MLPALAE on the digits split (train codes fit, test codes scored), training
    the plain autoencoder baseline for `steps` x `batch_size` unless `baseline` (the model, its
    losses and its training seconds, trained alike) is given. Returns rows and details."""
    from ..datasets.digits import digits

    (train_u8, y_train), (test_u8, y_test) = digits("train"), digits("test")
    res, ch = model.arch.resolution, model.arch.channels
    x_train, x_test = to_model_input(train_u8, res, ch), to_model_input(test_u8, res, ch)
    if baseline is None:
        start = time.perf_counter()
        baseline, losses = train_plain_autoencoder(x_train, model.arch, steps, batch_size, learning_rate, seed)
        seconds = time.perf_counter() - start
    else:
        baseline, losses, seconds = baseline
    pixels = (train_u8.reshape(len(train_u8), -1) / 255.0, test_u8.reshape(len(test_u8), -1) / 255.0)
    model = model.eval()
    rows = [
        classify("raw pixels (28x28)", pixels[0], y_train, pixels[1], y_test, k),
        classify("ALAE w = E(x)", encode_all(model.encode, x_train), y_train, encode_all(model.encode, x_test),
                 y_test, k),
        classify("plain autoencoder z = E(x) (MSE, same E/G, same budget)", encode_all(baseline.encode, x_train),
                 y_train, encode_all(baseline.encode, x_test), y_test, k),
    ]
    torch.manual_seed(seed)
    untrained = FCEncoder(model.arch).to(x_train.device)  # control: what E's architecture gives before training
    rows.append(classify("untrained E (random init), control", encode_all(untrained, x_train), y_train,
                         encode_all(untrained, x_test), y_test, k))
    with torch.no_grad():
        mse = {"alae": float((model.reconstruct(x_test) - x_test).pow(2).mean()),
               "plain_autoencoder": float((baseline(x_test) - x_test).pow(2).mean())}
    details = dict(k=k, train_images=len(y_train), test_images=len(y_test), baseline_steps=steps,
                   baseline_batch=batch_size, baseline_seconds=round(seconds, 1),
                   baseline_final_loss=float(np.mean(losses[-50:])), test_reconstruction_mse=mse)
    return rows, details


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Digit classification from an MLP ALAE's w vs pixels vs a plain AE.")
    p.add_argument("--model", required=True, help="MLPALAE folder or Hub repo id")
    p.add_argument("--baseline_steps", type=int, default=1000, help="plain AE steps (match the ALAE's)")
    p.add_argument("--batch_size", type=int, default=128)
    p.add_argument("--learning_rate", type=float, default=0.002)
    p.add_argument("--k", type=int, default=DEFAULT_K)
    p.add_argument("--out", default=None, help="folder for latent_classification.{md,json}")
    args = p.parse_args(argv)
    from ..mlp import MLPALAE

    try:
        model = MLPALAE.from_pretrained(args.model)  # another class's folder: a ValueError naming it
        rows, details = evaluate(model, args.baseline_steps, args.batch_size, args.learning_rate, args.k)
    except (OSError, ValueError) as err:
        sys.exit(f"error: {err}")
    table = markdown_table(rows, args.k)
    print(table)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "latent_classification.md").write_text(table + "\n", encoding="utf-8")
        payload = dict(rows=[r.__dict__ for r in rows], **details)
        (out / "latent_classification.json").write_text(json.dumps(payload, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
