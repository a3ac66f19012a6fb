"""Procedural cartoon faces whose ten generative factors are known, for training and for
measuring disentanglement and edits without downloading a face data set.

Every image is drawn from ten factors, each sampled independently per image and returned as
labels. Their split into coarse / middle / fine follows the grouping of styles in StyleGAN
(Karras et al. 2019, §3.1 and Fig. 3): coarse styles set pose and face shape, middle styles set
smaller features, fine styles mostly set the colour scheme. Rendering is pure numpy + Pillow:
shapes are polygons in a head frame (rotated by the tilt) drawn on a canvas SUPERSAMPLE times
larger than the output, then box-filtered down (`Image.reduce`) for anti-aliasing.

Sampling is deterministic per `(seed, index)` through `np.random.default_rng([seed, index])`,
so any index can be drawn alone, in any order, by any worker, with the same result.
"""

from __future__ import annotations

import argparse
import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw

MIN_RESOLUTION = 32
MAX_RESOLUTION = 256
# 4x supersampling keeps thin strokes (eyebrows, glasses) clean at 32 px and costs well under the
# 1 ms/image budget at 64 px on one core (see bench/dataset_speed.py).
SUPERSAMPLE = 4
# FFHQ's size, so one "epoch" over the default data set means the same as on real faces.
DEFAULT_LENGTH = 70_000
SPEC_PREFIX = "synthetic:"
Labels = dict[str, float | int]


@dataclass(frozen=True)
class Factor:
    """One generative factor. Continuous factors are uniform on [low, high]; categorical and
    binary ones are uniform integers in [0, num_classes - 1] (num_classes is 0 for continuous)."""

    name: str
    kind: Literal["continuous", "categorical", "binary"]
    num_classes: int
    scale: Literal["coarse", "middle", "fine"]
    low: float
    high: float
    description: str


FACTORS: tuple[Factor, ...] = (
    Factor("yaw", "continuous", 0, "coarse", -1.0, 1.0, "head turn; +1 moves the features right"),
    Factor("tilt", "continuous", 0, "coarse", -1.0, 1.0, "head roll, -15 .. +15 deg clockwise"),
    Factor("face_width", "continuous", 0, "coarse", 0.0, 1.0, "narrow .. wide head"),
    Factor("hair_style", "categorical", 4, "coarse", 0, 3, "0 bald, 1 short, 2 long, 3 spiky"),
    Factor("eye_size", "continuous", 0, "middle", 0.0, 1.0, "small .. large eyes"),
    Factor("smile", "continuous", 0, "middle", -1.0, 1.0, "mouth curvature, -1 frown .. +1 smile"),
    Factor("glasses", "binary", 2, "middle", 0, 1, "0 none, 1 round glasses"),
    Factor("hair_colour", "categorical", 6, "fine", 0, 5, "black, brown, blonde, red, grey, blue"),
    Factor("skin_tone", "continuous", 0, "fine", 0.0, 1.0, "light .. dark along SKIN_PALETTE"),
    Factor("background", "categorical", 6, "fine", 0, 5, "index into BACKGROUND_PALETTE"),
)
FACTOR_NAMES: tuple[str, ...] = tuple(f.name for f in FACTORS)

RGB = tuple[int, int, int]
SKIN_PALETTE: tuple[RGB, ...] = (
    (255, 226, 200),
    (240, 192, 150),
    (214, 160, 105),
    (160, 105, 60),
    (95, 60, 35),
)
HAIR_PALETTE: tuple[RGB, ...] = (
    (30, 26, 26),
    (105, 65, 30),
    (235, 200, 100),
    (200, 75, 25),
    (185, 185, 190),
    (50, 105, 215),
)
# Light pastels plus one dark slate, so that grey and blonde hair still stand out somewhere.
BACKGROUND_PALETTE: tuple[RGB, ...] = (
    (160, 205, 245),
    (165, 225, 180),
    (245, 185, 205),
    (250, 235, 145),
    (195, 175, 235),
    (55, 65, 85),
)
SHIRT, EYE_WHITE, PUPIL = (85, 95, 120), (250, 250, 250), (35, 30, 40)
LIPS, FRAME = (125, 25, 40), (25, 25, 30)
MAX_TILT_DEG = 15.0
_N_POLY = 48
_T = np.linspace(0.0, 2.0 * math.pi, _N_POLY, endpoint=False)
_COS, _SIN = np.cos(_T), np.sin(_T)
_COS.setflags(write=False)
_SIN.setflags(write=False)


# ---- factors ---------------------------------------------------------------------------------
def check_resolution(resolution: int) -> int:
    """Return `resolution` if it is an int in [MIN_RESOLUTION, MAX_RESOLUTION], else raise."""
    if (
        isinstance(resolution, bool)
        or not isinstance(resolution, (int, np.integer))
        or not (MIN_RESOLUTION <= resolution <= MAX_RESOLUTION)
    ):
        raise ValueError(
            f"resolution must be an integer in [{MIN_RESOLUTION}, {MAX_RESOLUTION}], got {resolution!r}"
        )
    return int(resolution)


def sample_factors_from(rng: np.random.Generator) -> Labels:
    """Draw every factor independently from `rng`, in FACTORS order (the order is part of the
    data set's definition: changing it changes every image)."""
    out: Labels = {}
    for f in FACTORS:
        if f.kind == "continuous":
            out[f.name] = float(rng.uniform(f.low, f.high))
        else:
            out[f.name] = int(rng.integers(f.num_classes))
    return out


def check_factors(factors: Mapping[str, float | int]) -> None:
    """Raise ValueError if a factor is missing or outside its documented range."""
    for f in FACTORS:
        if f.name not in factors:
            raise ValueError(f"missing factor {f.name!r}; expected all of {FACTOR_NAMES}")
        v = factors[f.name]
        if not f.low <= v <= f.high or (f.kind != "continuous" and v != int(v)):
            what = "a number" if f.kind == "continuous" else "an integer"
            raise ValueError(f"factor {f.name!r} must be {what} in [{f.low}, {f.high}], got {v!r}")


def _skin(tone: float) -> RGB:
    """Piecewise-linear colour along SKIN_PALETTE, so skin tone is a continuous factor."""
    x = tone * (len(SKIN_PALETTE) - 1)
    i = min(int(x), len(SKIN_PALETTE) - 2)
    a, b, t = SKIN_PALETTE[i], SKIN_PALETTE[i + 1], x - i
    return tuple(round(p + (q - p) * t) for p, q in zip(a, b))  # type: ignore[return-value]


def _shade(rgb: RGB, k: float) -> RGB:
    return tuple(round(c * k) for c in rgb)  # type: ignore[return-value]


# ---- drawing ---------------------------------------------------------------------------------
def _ellipse(cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    return np.stack([cx + rx * _COS, cy + ry * _SIN], axis=1)


class _Pen:
    """Draws point arrays given in the head frame (origin at the head centre, unit = head
    half-height, y down) after rotating them by the tilt; `plain` skips the rotation."""

    def __init__(self, image: Image.Image, centre: tuple[float, float], unit: float, angle: float):
        self.draw = ImageDraw.Draw(image)
        self.unit = unit * image.width
        c, s = math.cos(angle), math.sin(angle)
        self._m = self.unit * np.array([[c, s], [-s, c]])
        self._t = np.array(centre) * image.width

    def px(self, pts: np.ndarray, plain: bool = False) -> list[float]:
        m = self._m if not plain else self.unit * np.eye(2)
        return (pts @ m + self._t).ravel().tolist()

    def poly(self, pts: np.ndarray, fill: RGB, plain: bool = False) -> None:
        self.draw.polygon(self.px(pts, plain), fill=fill)

    def line(self, pts: np.ndarray, fill: RGB, width: float) -> None:
        self.draw.line(
            self.px(pts), fill=fill, width=max(1, round(width * self.unit)), joint="curve"
        )


def _hair_top(a: float, lift: float, spikes: bool) -> np.ndarray:
    """Outer edge of the hair over the crown, from the left temple to the right temple."""
    t = np.linspace(math.pi - 0.25, 2 * math.pi + 0.25, 25)
    r = np.where(np.arange(25) % 2 == 1, 1.32, 1.06) if spikes else np.full(25, 1.09)
    if spikes:
        r[[0, -1]] = 1.06
    return np.stack([a * r * np.cos(t), r * np.sin(t) - lift], axis=1)


def _fringe(a: float, style: int) -> np.ndarray:
    """Hair over the forehead: crown edge plus a wavy hairline across the forehead."""
    top = _hair_top(a, 0.06, spikes=style == 3)
    x = np.linspace(0.86, -0.86, 9) * a
    depth = -0.42 if style != 2 else -0.36
    y = depth + 0.06 * np.cos(np.linspace(0, 4 * math.pi, 9)) - 0.28 * (x / a) ** 4
    hairline = np.stack([x, y], axis=1)
    temples = np.array([[a * 0.99, 0.05], [-a * 0.99, 0.05]])
    return np.concatenate([top, temples[:1], hairline, temples[1:]])


def _draw_hair_back(pen: _Pen, a: float, style: int, colour: RGB) -> None:
    """Hair behind the head: a cap for short hair, a shoulder-length curtain for long hair."""
    if style == 1:
        pen.poly(_ellipse(0.0, -0.05, a * 1.09, 1.07), colour)
    elif style == 2:
        top = _hair_top(a * 1.04, 0.05, spikes=False)
        sides = np.array([[a * 1.25, 0.9], [a * 1.2, 1.45], [-a * 1.2, 1.45], [-a * 1.25, 0.9]])
        pen.poly(np.concatenate([top, sides]), colour)


def _eye(side: float, a: float, yaw: float) -> tuple[float, float]:
    """Centre x and horizontal foreshortening of the eye on `side` (-1 left, +1 right): yaw
    slides the features across the head and narrows the eye nearer the head's edge."""
    return side * 0.42 * a + 0.36 * a * yaw, 1.0 - 0.4 * max(0.0, side * yaw)


def _draw_face(pen: _Pen, f: Mapping[str, float | int], a: float, skin: RGB, brow: RGB) -> None:
    """Ears, head, eyes, brows, nose and mouth; the nose moves most with yaw (it stands out)."""
    yaw, r = float(f["yaw"]), 0.08 + 0.09 * float(f["eye_size"])
    for side in (-1.0, 1.0):
        pen.poly(_ellipse(side * a * 0.97 - 0.12 * yaw, 0.02, 0.13, 0.21), _shade(skin, 0.9))
    head = _ellipse(0.0, 0.0, a, 1.0)
    head[:, 0] *= 1.0 - 0.14 * np.clip(_SIN, 0.0, None)  # narrower chin: an egg, not an ellipse
    pen.poly(head, skin)
    for side in (-1.0, 1.0):
        ex, squash = _eye(side, a, yaw)
        pen.poly(_ellipse(ex, -0.1, r * squash, r * 0.8), EYE_WHITE)
        pen.poly(_ellipse(ex + 0.35 * r * yaw * squash, -0.1, 0.5 * r * squash, 0.5 * r), PUPIL)
        bx = ex + np.array([-0.13, 0.13]) * squash
        pen.line(np.stack([bx, -0.33 + np.array([0.02, -0.01]) * side], axis=1), brow, 0.06)
    dx = _eye(0.0, a, yaw)[0]
    pen.poly(_ellipse(dx * 1.5, 0.17, 0.07, 0.05), _shade(skin, 0.8))
    x = np.linspace(-0.3, 0.3, 11) * a
    y = 0.46 + 0.13 * float(f["smile"]) * (1.0 - (x / x[-1]) ** 2)
    pen.line(np.stack([x + dx, y], axis=1), LIPS, 0.055)


def _draw_glasses(pen: _Pen, a: float, yaw: float) -> None:
    """Two round rims around the eyes, joined by a bridge between their inner edges."""
    (lx, ls), (rx, rs) = _eye(-1.0, a, yaw), _eye(1.0, a, yaw)
    for x, squash in ((lx, ls), (rx, rs)):
        ring = _ellipse(x, -0.1, 0.2 * squash, 0.17)
        pen.line(np.concatenate([ring, ring[:2]]), FRAME, 0.045)
    pen.line(np.array([[lx + 0.2 * ls, -0.12], [rx - 0.2 * rs, -0.12]]), FRAME, 0.04)


def render(factors: Mapping[str, float | int], resolution: int = 64) -> Image.Image:
    """Draw one face.

    Args:
        factors: a value for every name in FACTOR_NAMES, within the ranges in FACTORS.
        resolution: output side in [MIN_RESOLUTION, MAX_RESOLUTION].

    Returns:
        An RGB PIL image of size (resolution, resolution).
    """
    size = check_resolution(resolution) * SUPERSAMPLE
    check_factors(factors)
    image = Image.new("RGB", (size, size), BACKGROUND_PALETTE[int(factors["background"])])
    yaw, style = float(factors["yaw"]), int(factors["hair_style"])
    hair, skin = HAIR_PALETTE[int(factors["hair_colour"])], _skin(float(factors["skin_tone"]))
    a = 0.66 + 0.22 * float(factors["face_width"])  # head half-width, in head half-heights
    tilt = math.radians(MAX_TILT_DEG) * float(factors["tilt"])
    pen = _Pen(image, (0.5 + 0.04 * yaw, 0.45), 0.3, tilt)
    pen.poly(_ellipse(0.0, 2.05, 1.4, 0.7), SHIRT, plain=True)
    _draw_hair_back(pen, a, style, hair)
    neck = np.array([[-0.3, 0.5], [0.3, 0.5], [0.33, 1.6], [-0.33, 1.6]]) * [a, 1.0]
    pen.poly(neck, _shade(skin, 0.88), plain=True)
    _draw_face(pen, factors, a, skin, _shade(hair, 0.85))
    if style:
        pen.poly(_fringe(a, style), hair)
    if factors["glasses"]:
        _draw_glasses(pen, a, yaw)
    return image.reduce(SUPERSAMPLE)


# ---- data set --------------------------------------------------------------------------------
class SyntheticFaces:
    """Map-style data set of procedural faces; item `i` depends only on `(seed, i)`.

    Usable directly as a `torch.utils.data.Dataset` (it has `__len__` and `__getitem__`), but it
    does not import torch: apply your own transform to the returned PIL image.

    Args:
        seed: non-negative data-set seed; different seeds give different faces for each index.
        resolution: image side in [MIN_RESOLUTION, MAX_RESOLUTION].
        length: number of items (default DEFAULT_LENGTH, FFHQ's size).
    """

    def __init__(self, seed: int = 0, resolution: int = 64, length: int = DEFAULT_LENGTH):
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        if not isinstance(length, (int, np.integer)) or length < 1:
            raise ValueError(f"length must be a positive integer, got {length!r}")
        self.seed, self.resolution, self.length = (
            int(seed),
            check_resolution(resolution),
            int(length),
        )

    def __len__(self) -> int:
        return self.length

    def _index(self, index: int) -> int:
        i = int(index) + self.length if int(index) < 0 else int(index)
        if not 0 <= i < self.length:
            raise IndexError(
                f"index {index} out of range for SyntheticFaces of length {self.length}"
            )
        return i

    def sample_factors(self, index: int) -> Labels:
        """The factors of item `index`, drawn from `np.random.default_rng([seed, index])`."""
        return sample_factors_from(np.random.default_rng([self.seed, self._index(index)]))

    def __getitem__(self, index: int) -> tuple[Image.Image, Labels]:
        factors = self.sample_factors(index)
        return render(factors, self.resolution), factors

    def batch(self, indices: Iterable[int]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Render several items: uint8 images [N, H, W, 3] and one label array per factor
        (float32 for continuous factors, int64 for categorical and binary ones)."""
        items = [self[i] for i in indices]
        empty = np.zeros((0, self.resolution, self.resolution, 3), np.uint8)
        images = np.stack([np.asarray(img) for img, _ in items]) if items else empty
        dtypes = {f.name: np.float32 if f.kind == "continuous" else np.int64 for f in FACTORS}
        labels = {k: np.array([lab[k] for _, lab in items], dt) for k, dt in dtypes.items()}
        return images, labels


# ---- training-data specs ---------------------------------------------------------------------
def is_synthetic_spec(spec: str) -> bool:
    """True if a `--train_data_dir` value names this data set rather than a folder."""
    return isinstance(spec, str) and spec.startswith(SPEC_PREFIX)


def parse_spec(spec: str) -> dict[str, int]:
    """Parse `synthetic:faces[:key=value,...]` into `SyntheticFaces` keyword arguments.

    Keys are `seed` and `length`, e.g. `synthetic:faces:seed=3,length=10000`; the resolution comes
    from the training config: `SyntheticFaces(resolution=r, **parse_spec(spec))`.
    """
    if not is_synthetic_spec(spec):
        raise ValueError(f"expected '{SPEC_PREFIX}faces[:key=value,...]', got {spec!r}")
    name, _, options = spec[len(SPEC_PREFIX) :].partition(":")
    if name != "faces":
        raise ValueError(f"unknown synthetic data set {name!r}; available: 'faces'")
    kwargs: dict[str, int] = {}
    for item in filter(None, options.split(",")):
        key, sep, value = item.partition("=")
        if key not in ("seed", "length") or not sep or not value.strip().isdigit():
            raise ValueError(
                f"bad option {item!r} in {spec!r}; expected seed=<int> or length=<int>"
            )
        kwargs[key] = int(value)
    return kwargs


# ---- export ----------------------------------------------------------------------------------
def image_path(index: int) -> str:
    """Relative path of item `index` in an exported folder: 1000 images per subfolder."""
    return f"{index // 1000:05d}/{index:08d}.png"


def _progress(it: Iterable[int], total: int, show: bool) -> Iterable[int]:
    if not show:
        return it
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return it
    return tqdm(it, total=total, unit="img")


def export_image_folder(
    out_dir: str | Path, n: int, seed: int = 0, resolution: int = 64, progress: bool = False
) -> Path:
    """Write items 0..n-1 as PNGs nested in subfolders of 1000, plus `labels.csv` (a `filename`
    column, relative to `out_dir`, then one column per factor in FACTORS order).

    Returns:
        The path of `labels.csv`.
    """
    ds = SyntheticFaces(seed=seed, resolution=resolution, length=max(int(n), 1))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "labels.csv"
    with csv_path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("filename", *FACTOR_NAMES))
        for i in _progress(range(int(n)), int(n), progress):
            image, labels = ds[i]
            rel = image_path(i)
            (out / rel).parent.mkdir(exist_ok=True)
            image.save(out / rel)
            writer.writerow((rel, *(labels[k] for k in FACTOR_NAMES)))
    return csv_path


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: `python -m alae_hf.datasets.synthetic_faces --out DIR --num-images N`."""
    p = argparse.ArgumentParser(description="Export procedural faces with factor labels.")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--num-images", type=int, required=True)
    p.add_argument("--resolution", type=int, default=64, help=f"{MIN_RESOLUTION}..{MAX_RESOLUTION}")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    path = export_image_folder(args.out, args.num_images, args.seed, args.resolution, progress=True)
    print(f"wrote {args.num_images} images and {path}")


if __name__ == "__main__":
    main()
