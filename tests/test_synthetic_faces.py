"""Tests for the procedural faces data set: determinism, label ranges, that every factor is visible
and sampled independently, resolution checks, export and the training-data spec."""

import csv
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from alae_hf.datasets import synthetic_faces as sf
from alae_hf.datasets.synthetic_faces import FACTOR_NAMES, FACTORS, SyntheticFaces, render

# A face with hair, so that hair colour shows on more than the eyebrows.
BASE = dict(yaw=0.0, tilt=0.0, face_width=0.5, hair_style=1, eye_size=0.5, smile=0.0, glasses=0,
            hair_colour=1, skin_tone=0.5, background=0)


def _changed_fraction(a: Image.Image, b: Image.Image) -> float:
    """Fraction of pixels where some channel differs by more than 16 levels."""
    diff = np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).max(axis=-1)
    return float(np.mean(diff > 16))


def test_same_index_and_seed_give_identical_pixels_in_any_order():
    a, b = SyntheticFaces(seed=3, length=100), SyntheticFaces(seed=3, length=100)
    first = [np.asarray(a[i][0]) for i in (7, 42, 99)]
    second = [np.asarray(b[i][0]) for i in (99, 42, 7)][::-1]
    for x, y in zip(first, second):
        np.testing.assert_array_equal(x, y)
    assert a.sample_factors(42) == b.sample_factors(42)


def test_different_seed_or_index_gives_different_faces():
    a, b = SyntheticFaces(seed=0, length=10), SyntheticFaces(seed=1, length=10)
    for i in range(5):
        assert a.sample_factors(i) != b.sample_factors(i)
        assert not np.array_equal(np.asarray(a[i][0]), np.asarray(b[i][0]))
    assert a.sample_factors(0) != a.sample_factors(1)


def test_item_is_render_of_its_factors_and_batch_matches_items():
    ds = SyntheticFaces(seed=5, resolution=48, length=20)
    image, labels = ds[4]
    assert labels == ds.sample_factors(4)
    np.testing.assert_array_equal(np.asarray(image), np.asarray(render(labels, 48)))
    images, batch_labels = ds.batch([4, 9, 4])
    assert images.shape == (3, 48, 48, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(images[0], np.asarray(image))
    np.testing.assert_array_equal(images[0], images[2])
    for f in FACTORS:
        assert batch_labels[f.name].dtype == (np.float32 if f.kind == "continuous" else np.int64)
        assert batch_labels[f.name][1] == pytest.approx(ds.sample_factors(9)[f.name], rel=1e-6)


def test_labels_stay_within_documented_ranges_and_cover_them():
    ds = SyntheticFaces(seed=0, length=600)
    samples = [ds.sample_factors(i) for i in range(600)]
    assert all(set(s) == set(FACTOR_NAMES) for s in samples)
    for f in FACTORS:
        values = np.array([s[f.name] for s in samples])
        assert values.min() >= f.low and values.max() <= f.high, f.name
        if f.kind == "continuous":
            margin = 0.05 * (f.high - f.low)
            assert values.min() < f.low + margin and values.max() > f.high - margin, f.name
        else:
            assert all(isinstance(s[f.name], int) for s in samples), f.name
            assert set(values.tolist()) == set(range(f.num_classes)), f.name


def test_factor_table_is_consistent():
    assert len(FACTORS) >= 8 and len(set(FACTOR_NAMES)) == len(FACTORS)
    assert {f.scale for f in FACTORS} == {"coarse", "middle", "fine"}
    for f in FACTORS:
        if f.kind == "continuous":
            assert f.num_classes == 0 and f.low < f.high
        else:
            assert (f.low, f.high) == (0, f.num_classes - 1)
            assert f.num_classes == 2 if f.kind == "binary" else f.num_classes > 2


@pytest.mark.parametrize("factor", FACTORS, ids=lambda f: f.name)
def test_each_factor_alone_visibly_changes_the_image(factor):
    lo, hi = (factor.low, factor.high) if factor.kind == "continuous" else (0, 1)
    a = render({**BASE, factor.name: lo}, 64)
    b = render({**BASE, factor.name: hi}, 64)
    assert _changed_fraction(a, b) > 0.005, factor.name


@pytest.mark.parametrize("name", ["hair_style", "hair_colour", "background"])
def test_every_class_of_a_categorical_factor_looks_different(name):
    f = next(f for f in FACTORS if f.name == name)
    images = [render({**BASE, name: k}, 64) for k in range(f.num_classes)]
    for a, b in combinations(images, 2):
        assert _changed_fraction(a, b) > 0.005


def test_factors_are_sampled_independently():
    ds = SyntheticFaces(seed=11, length=2000)
    samples = [ds.sample_factors(i) for i in range(2000)]
    table = np.array([[s[k] for k in FACTOR_NAMES] for s in samples], dtype=np.float64)
    corr = np.corrcoef(table, rowvar=False)
    off_diagonal = np.abs(corr[~np.eye(len(FACTORS), dtype=bool)])
    assert off_diagonal.max() < 0.1, off_diagonal.max()


@pytest.mark.parametrize("resolution", [31, 257, 0, 64.0, True, "64"])
def test_resolution_outside_allowed_range_raises(resolution):
    with pytest.raises(ValueError, match=r"\[32, 256\]"):
        SyntheticFaces(resolution=resolution)
    with pytest.raises(ValueError, match=r"\[32, 256\]"):
        render(BASE, resolution)


def test_render_rejects_missing_or_out_of_range_factors():
    with pytest.raises(ValueError, match="missing factor 'smile'"):
        render({k: v for k, v in BASE.items() if k != "smile"}, 64)
    with pytest.raises(ValueError, match="smile"):
        render({**BASE, "smile": 1.5}, 64)
    with pytest.raises(ValueError, match="hair_style"):
        render({**BASE, "hair_style": 4}, 64)


@pytest.mark.parametrize("resolution", [32, 48, 256])
def test_output_is_rgb_uint8_of_requested_size(resolution):
    image, _ = SyntheticFaces(resolution=resolution, length=1)[0]
    assert image.mode == "RGB" and image.size == (resolution, resolution)
    array = np.asarray(image)
    assert array.dtype == np.uint8 and array.shape == (resolution, resolution, 3)


def test_indexing_bounds_and_negative_indices():
    ds = SyntheticFaces(length=4)
    assert len(ds) == 4 and ds.sample_factors(-1) == ds.sample_factors(3)
    with pytest.raises(IndexError):
        ds[4]
    with pytest.raises(ValueError, match="seed"):
        SyntheticFaces(seed=-1)


def test_export_writes_pngs_and_matching_labels(tmp_path):
    csv_path = sf.export_image_folder(tmp_path / "out", 3, seed=2, resolution=32)
    pngs = sorted((tmp_path / "out").rglob("*.png"))
    assert len(pngs) == 3 and all(p.parent.name == "00000" for p in pngs)
    with open(csv_path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3 and list(rows[0]) == ["filename", *FACTOR_NAMES]
    ds = SyntheticFaces(seed=2, resolution=32, length=3)
    for i, row in enumerate(rows):
        image, labels = ds[i]
        saved = Image.open(tmp_path / "out" / row["filename"])
        np.testing.assert_array_equal(np.asarray(saved), np.asarray(image))
        for f in FACTORS:
            assert float(row[f.name]) == pytest.approx(labels[f.name])


def test_cli_exports(tmp_path):
    sf.main(["--out", str(tmp_path), "--num-images", "2", "--resolution", "40", "--seed", "1"])
    assert len(list(tmp_path.rglob("*.png"))) == 2 and (tmp_path / "labels.csv").exists()
    assert sf.image_path(1234) == "00001/00001234.png"


def test_synthetic_spec_parsing():
    assert sf.is_synthetic_spec("synthetic:faces") and not sf.is_synthetic_spec("/data/ffhq")
    assert sf.parse_spec("synthetic:faces") == {}
    assert sf.parse_spec("synthetic:faces:seed=3,length=100") == {"seed": 3, "length": 100}
    assert len(SyntheticFaces(resolution=32, **sf.parse_spec("synthetic:faces:length=7"))) == 7
    for bad in ("synthetic:cats", "synthetic:faces:seed=-1", "synthetic:faces:size=3", "/data"):
        with pytest.raises(ValueError):
            sf.parse_spec(bad)


def test_module_works_without_torch():
    path = Path(sf.__file__)
    code = (
        "import sys, importlib.util; sys.modules['torch'] = None\n"
        f"spec = importlib.util.spec_from_file_location('faces', {str(path)!r})\n"
        "m = sys.modules['faces'] = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "assert m.SyntheticFaces(length=1)[0][0].size == (64, 64)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
