"""How well codes predict labels: the scores of the label-classification experiment.

Labelled images become model inputs as the trainer's image-folder loader fits them (`Split`,
`load_split`); codes are scored by held-out accuracy of a k-NN vote (Euclidean, `k` neighbours)
and of a linear probe (multinomial logistic regression on standardised features), one table row
per representation (`classify`, `markdown_table`). Reconstructions are scored by MSE and by how
often a classifier fitted on the train pixels reads G(E(x)) as x's label. The experiment itself
(which representations, the learning curve, the command line) is
`alae_hf.evaluation.latent_classification`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..datasets.labelled import labelled_split
from ..imaging import fit_square, pil_to_tensor

DEFAULT_K = 5


def to_model_input(images: np.ndarray | list, resolution: int, channels: int = 1) -> torch.Tensor:
    """uint8 images [N, H, W] (grey) or PIL images -> [N, C, R, R] in [-1, 1], fitted to a square
    as the trainer's image-folder loader does (`alae_hf.imaging.fit_square`)."""
    from PIL import Image

    if isinstance(images, np.ndarray):
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"expected uint8 images [N, H, W], got {images.dtype} {images.shape}")
        images = [Image.fromarray(x, mode="L") for x in images]
    mode = "RGB" if channels == 3 else "L"
    return torch.stack([pil_to_tensor(fit_square(im.convert(mode), resolution)) for im in images])


@dataclass(frozen=True)
class Split:
    """Train and held-out images in the model's input range [N, C, R, R], with labels."""

    x_train: torch.Tensor
    y_train: np.ndarray
    x_test: torch.Tensor
    y_test: np.ndarray
    classes: tuple[str, ...]


def load_split(
    source: str, resolution: int, channels: int, test_source: str | None = None
) -> Split:
    """`labelled_split` of a source as model inputs."""
    mode = "RGB" if channels == 3 else "L"
    train, test = labelled_split(source, test_source, mode)
    return Split(
        to_model_input(train.images, resolution, channels),
        train.labels,
        to_model_input(test.images, resolution, channels),
        test.labels,
        train.classes,
    )


@torch.no_grad()
def encode_all(encode, x: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """Codes of `x` by `encode` (a model's E), in batches, as float64 numpy [N, Z]."""
    return (
        torch.cat([encode(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
        .double()
        .cpu()
        .numpy()
    )


def pixels(x: torch.Tensor) -> np.ndarray:
    return x.flatten(1).double().cpu().numpy()


def knn_accuracy(
    train: np.ndarray, y_train: np.ndarray, test: np.ndarray, y_test: np.ndarray, k: int = DEFAULT_K
) -> float:
    """Test accuracy of a k-nearest-neighbour vote (Euclidean) fitted on the train codes."""
    from sklearn.neighbors import KNeighborsClassifier

    return float(KNeighborsClassifier(n_neighbors=k).fit(train, y_train).score(test, y_test))


def fit_probe(train: np.ndarray, y_train: np.ndarray):
    """A linear probe: logistic regression on features standardised on train (fitted)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(train, y_train)


def probe_accuracy(
    train: np.ndarray, y_train: np.ndarray, test: np.ndarray, y_test: np.ndarray
) -> float:
    """Test accuracy of the linear probe fitted on the train codes."""
    return float(fit_probe(train, y_train).score(test, y_test))


@dataclass(frozen=True)
class Row:
    """One representation's line of the table."""

    name: str
    dims: int
    knn: float
    probe: float


def classify(
    name: str,
    train: np.ndarray,
    y_train: np.ndarray,
    test: np.ndarray,
    y_test: np.ndarray,
    k: int = DEFAULT_K,
) -> Row:
    return Row(
        name,
        train.shape[1],
        knn_accuracy(train, y_train, test, y_test, k),
        probe_accuracy(train, y_train, test, y_test),
    )


def markdown_table(rows: list[Row], k: int = DEFAULT_K) -> str:
    lines = [
        f"| representation | dims | {k}-NN accuracy | linear-probe accuracy |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {r.name} | {r.dims} | {100 * r.knn:.1f}% | {100 * r.probe:.1f}% |" for r in rows]
    return "\n".join(lines)


def fit_pixel_classifier(data: Split, k: int = DEFAULT_K):
    """The digit classifier that judges reconstructions: the table's k-NN on the train pixels.

    Not the linear probe: its standardisation divides each pixel by its spread over the train
    images, so faint noise in the near-constant border of a reconstruction swamps the digit."""
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=k).fit(pixels(data.x_train), data.y_train)


@torch.no_grad()
def reconstruction_scores(reconstruct, data: Split, pixel_classifier) -> dict[str, float]:
    """Held-out reconstruction MSE (in [-1, 1]) and the share of G(E(x)) that a classifier fitted on
    the train pixels (`fit_pixel_classifier`) labels as x (`label_kept`)."""
    rec = torch.cat(
        [reconstruct(data.x_test[i : i + 256]) for i in range(0, len(data.x_test), 256)]
    )
    return {
        "mse": float((rec - data.x_test).pow(2).mean()),
        "label_kept": float(pixel_classifier.score(pixels(rec), data.y_test)),
    }
