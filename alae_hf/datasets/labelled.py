"""Labelled images for evaluation: a folder with one sub-folder per class, or scikit-learn's digits.

A labelled folder is torchvision's ImageFolder layout (MNIST exported to PNG, or the folders
`python -m alae_hf.datasets.digits` writes): `DIR/<class>/<image>`, images at any depth under
their class folder, the class being the sub-folder's name. Files directly in `DIR` (such as
`labels.csv`) are not images of a class and are skipped; non-image files inside the class
folders are skipped and counted. Everything else is refused with one line that says what is
wrong: a missing or empty folder, fewer than two classes, an image that cannot be decoded, a
class too small to be split.

`labelled_split` gives the train and held-out images of a source: the fixed split of
`alae_hf.datasets.digits` for `sklearn:digits`, a stratified split with the same fraction and
seed for a folder, or all of one source for training and all of another for testing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..imaging import IMAGE_EXTENSIONS, ImageError, load_image
from .digits import SPLIT_SEED, TEST_FRACTION, digits, is_digits_spec

DIGIT_CLASSES = tuple(str(d) for d in range(10))


@dataclass(frozen=True)
class LabelledImages:
    """Images with integer labels indexing `classes`.

    Args:
        images: 8-bit PIL images ("L" or "RGB", any size).
        labels: int64 [N], each an index into `classes`.
        classes: the class names (sub-folder names; "0".."9" for the digits).
        skipped: non-image files that were passed over.
    """

    images: list[Image.Image]
    labels: np.ndarray
    classes: tuple[str, ...]
    skipped: int = 0

    def subset(self, index: np.ndarray) -> LabelledImages:
        return LabelledImages(
            [self.images[i] for i in index], self.labels[index], self.classes, self.skipped
        )


def _class_files(folder: Path) -> tuple[dict[str, list[Path]], int]:
    """Image files per class sub-folder (sorted), and the count of non-image files skipped."""
    files: dict[str, list[Path]] = {}
    skipped = 0
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        entries = sorted(p for p in sub.rglob("*") if p.is_file() and not p.name.startswith("."))
        images = [p for p in entries if p.suffix.lower() in IMAGE_EXTENSIONS]
        skipped += len(entries) - len(images)
        if images:
            files[sub.name] = images
    return files, skipped


def read_class_folder(folder: str | Path, mode: str = "L") -> LabelledImages:
    """Every image of a labelled folder (`DIR/<class>/...`), decoded in `mode` ("L" or "RGB").

    Raises:
        ValueError: no such folder, no images in class sub-folders, fewer than two classes, or an
            unreadable image (the first one is named, with the count).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder (expected one sub-folder of images per class)")
    files, skipped = _class_files(folder)
    if not files:
        note = f" (only {skipped} non-image file(s))" if skipped else ""
        raise ValueError(
            f"{folder} holds no images in class sub-folders{note}; expected {folder}/<class>/<image>.png,"
            f" e.g. MNIST exported to PNG"
        )
    if len(files) < 2:
        raise ValueError(
            f"{folder} has one class ({next(iter(files))!r}); classification needs at least two "
            f"class sub-folders"
        )
    images, labels, bad = [], [], []
    for label, paths in enumerate(files.values()):
        for path in paths:
            try:
                images.append(load_image(path, mode=mode))
                labels.append(label)
            except ImageError as err:
                bad.append((path, err))
    if bad:
        first, reason = bad[0]
        raise ValueError(
            f"{len(bad)} unreadable image(s) in {folder}, e.g. {first.relative_to(folder)}: {reason}"
        )
    return LabelledImages(images, np.array(labels, dtype=np.int64), tuple(files), skipped)


def read_labelled(source: str, mode: str = "L") -> LabelledImages:
    """A labelled folder, or a digits spec `sklearn:digits[:train|test|all]` (default `all`)."""
    if is_digits_spec(source):
        split = source.split(":", 2)[2] if source.count(":") >= 2 else "all"
        images, labels = digits(split)
        return LabelledImages(
            [Image.fromarray(x, mode="L").convert(mode) for x in images], labels, DIGIT_CLASSES
        )
    return read_class_folder(source, mode)


def _relabel(data: LabelledImages, classes: tuple[str, ...], source: str) -> LabelledImages:
    """`data` with its labels indexing `classes` (a test set read apart from its train set)."""
    missing = sorted(set(data.classes) - set(classes))
    if missing:
        raise ValueError(f"{source} has classes the training data lacks: {', '.join(missing[:5])}")
    index = {name: i for i, name in enumerate(classes)}
    labels = np.array([index[data.classes[y]] for y in data.labels], dtype=np.int64)
    return LabelledImages(data.images, labels, classes, data.skipped)


def labelled_split(
    source: str, test_source: str | None = None, mode: str = "L"
) -> tuple[LabelledImages, LabelledImages]:
    """(train, held-out test) images of a source.

    Args:
        source: a labelled folder or `sklearn:digits` (its fixed train/test split).
        test_source: a second source held out whole (then all of `source` is the train set).
        mode: "L" (grey) or "RGB".

    Raises:
        ValueError: see `read_class_folder`; also a class with fewer than two images to split.
    """
    if test_source is not None:
        train = read_labelled(source, mode)
        return train, _relabel(read_labelled(test_source, mode), train.classes, test_source)
    if source == "sklearn:digits":
        return read_labelled("sklearn:digits:train", mode), read_labelled(
            "sklearn:digits:test", mode
        )
    data = read_labelled(source, mode)
    counts = np.bincount(data.labels, minlength=len(data.classes))
    if counts.min() < 2:
        small = data.classes[int(counts.argmin())]
        raise ValueError(
            f"class {small!r} of {source} has {counts.min()} image(s); a held-out split needs at least "
            f"2 per class (or give a separate test folder)"
        )
    from sklearn.model_selection import train_test_split

    try:
        train, test = train_test_split(
            np.arange(len(data.labels)),
            test_size=TEST_FRACTION,
            random_state=SPLIT_SEED,
            stratify=data.labels,
        )
    except ValueError as err:  # e.g. fewer held-out images than classes
        raise ValueError(
            f"{source} is too small for a stratified held-out split of {TEST_FRACTION:.0%}: {err}"
        ) from None
    return data.subset(np.sort(train)), data.subset(np.sort(test))
