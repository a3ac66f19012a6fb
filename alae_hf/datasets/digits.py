"""Real handwritten digits offline: scikit-learn's `load_digits` laid out like MNIST.

scikit-learn ships the UCI optical-recognition digits (1,797 images of 8x8, 17 grey levels,
labels 0-9). Each image is scaled to 0-255, resized to 20x20 and centred in a 28x28 frame,
MNIST's layout (a digit in a 20x20 box, 4 pixels of margin), so a model trained on these
reads MNIST itself unchanged and the same image-folder data path serves both.

The split is fixed and stratified (`SPLITS`): `train` for training, `test` held out for
evaluation (e.g. `alae_hf.evaluation.latent_classification`).

    python -m alae_hf.datasets.digits --out digits/            # the train split as PNGs
    python -m alae_hf.datasets.digits --out digits_test/ --split test

The folder holds one sub-folder per label (`0/ ... 9/`, torchvision's ImageFolder layout) and
`labels.csv` (`file,label`); `train_accelerate.py --train_data_dir digits/` reads it as any
image folder. Without a folder, the data spec `sklearn:digits[:train|test|all]` names a split
in memory (`is_digits_spec`, `digits_spec_images`).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
from PIL import Image

SIDE = 28  # MNIST's frame
BOX = 20  # MNIST's digit box inside it
TEST_FRACTION = 0.2
SPLIT_SEED = 0
SPLITS = ("train", "test", "all")
SPEC_PREFIX = "sklearn:digits"


def digits(split: str = "train", side: int = SIDE) -> tuple[np.ndarray, np.ndarray]:
    """The digits of one split as uint8 images [N, side, side] (0 = background) and int64 labels [N].

    Args:
        split: `train` (1,437 images), `test` (360, held out) or `all` (1,797).
        side: frame size (the digit box scales with it: 20/28 of the side).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if not isinstance(side, int) or not 8 <= side <= 256:
        raise ValueError(f"side must be an integer in [8, 256], got {side!r}")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    images = np.stack([_frame(x, side) for x in data.images])
    labels = data.target.astype(np.int64)
    if split == "all":
        return images, labels
    index = np.arange(len(labels))
    train, test = train_test_split(
        index, test_size=TEST_FRACTION, random_state=SPLIT_SEED, stratify=labels
    )
    chosen = np.sort(train if split == "train" else test)
    return images[chosen], labels[chosen]


def _frame(image8: np.ndarray, side: int) -> np.ndarray:
    """One 8x8 image with values 0-16 -> uint8 [side, side], the digit resized into the centre box."""
    box = round(side * BOX / SIDE)
    small = Image.fromarray(np.round(image8 * (255.0 / 16.0)).astype(np.uint8), mode="L")
    digit = np.asarray(small.resize((box, box), resample=Image.Resampling.BICUBIC))
    out = np.zeros((side, side), dtype=np.uint8)
    start = (side - box) // 2
    out[start : start + box, start : start + box] = digit
    return out


def is_digits_spec(spec: object) -> bool:
    """True for `sklearn:digits` and `sklearn:digits:<split>`."""
    return isinstance(spec, str) and (spec == SPEC_PREFIX or spec.startswith(SPEC_PREFIX + ":"))


def digits_spec_images(spec: str, side: int = SIDE) -> list[Image.Image]:
    """The split a spec names (default `train`) as 8-bit grey PIL images."""
    if not is_digits_spec(spec):
        raise ValueError(f"expected '{SPEC_PREFIX}[:train|test|all]', got {spec!r}")
    split = spec[len(SPEC_PREFIX) + 1 :] or "train"
    return [Image.fromarray(x, mode="L") for x in digits(split, side)[0]]


def write_folder(out: str | Path, split: str = "train", side: int = SIDE) -> int:
    """Write a split as PNGs in `out/<label>/<index>.png` plus `out/labels.csv`; returns the count."""
    images, labels = digits(split, side)
    out = Path(out)
    for label in range(10):
        (out / str(label)).mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (image, label) in enumerate(zip(images, labels)):
        name = f"{label}/{i:04d}.png"
        Image.fromarray(image, mode="L").save(out / name)
        rows.append((name, int(label)))
    with open(out / "labels.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("file", "label"))
        writer.writerows(rows)
    return len(rows)


def read_labels(folder: str | Path) -> tuple[list[Path], np.ndarray]:
    """The files and labels a `labels.csv` lists (paths resolved against the folder)."""
    folder = Path(folder)
    path = folder / "labels.csv"
    if not path.is_file():
        raise ValueError(
            f"{folder} has no labels.csv (write one with python -m alae_hf.datasets.digits)"
        )
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [folder / r["file"] for r in rows], np.array(
        [int(r["label"]) for r in rows], dtype=np.int64
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description="Write scikit-learn's handwritten digits as an MNIST-like image folder."
    )
    p.add_argument("--out", required=True, help="folder to write (created)")
    p.add_argument("--split", default="train", choices=SPLITS)
    p.add_argument("--side", type=int, default=SIDE, help="image side (default 28, MNIST's)")
    args = p.parse_args(argv)
    try:
        count = write_folder(args.out, args.split, args.side)
    except (ValueError, OSError) as err:
        sys.exit(f"error: {err}")
    print(f"wrote {count} {args.split} digits ({args.side}x{args.side}) to {args.out}")


if __name__ == "__main__":
    main()
