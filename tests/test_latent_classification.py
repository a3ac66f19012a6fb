"""Latent classification on labelled image folders: reading them, refusing bad ones in one line,
the table and the learning curve (`alae_hf.evaluation.latent_classification`, its scores in
`alae_hf.evaluation.probes`)."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from alae_hf import MLPALAE
from alae_hf.datasets.labelled import labelled_split, read_class_folder
from alae_hf.evaluation import latent_classification as lc
from alae_hf.evaluation import probes
from alae_hf.evaluation.plain_autoencoder import BaselineRun, baseline
from alae_hf.models.mlp_networks import MLPConfig

TINY = dict(resolution=16, fc_resolution=12, hidden_size=24, latent_size=6, mapping_layers=2, channels=1)
CLASSES = ("circle", "bar", "cross")


def _glyph(kind: str, rng: np.random.Generator, side: int = 14) -> Image.Image:
    """A noisy grey 14x14 image of one of three easily told shapes (a bar for other names)."""
    y, x = np.mgrid[:side, :side] - side / 2 + rng.normal(0, 0.4, 2)[:, None, None]
    shapes = {"circle": np.abs(np.hypot(x, y) - 4) < 1.2, "bar": np.abs(x) < 1.5,
              "cross": (np.abs(x) < 1.2) | (np.abs(y) < 1.2)}
    shape = shapes.get(kind, shapes["bar"])
    return Image.fromarray(np.clip(shape * 220 + rng.normal(0, 20, shape.shape), 0, 255).astype(np.uint8), "L")


def _folder(root, per_class: int = 10, classes=CLASSES):
    rng = np.random.default_rng(0)
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            _glyph(name, rng).save(root / name / f"{i}.png")
    (root / "labels.csv").write_text("file,label\n")  # beside the classes: not an image of a class
    (root / classes[0] / "notes.txt").write_text("not an image")  # inside a class: skipped and counted
    return root


@pytest.fixture
def tiny_mlp(tmp_path):
    torch.manual_seed(0)
    model = MLPALAE(**TINY).eval()
    model.save_pretrained(tmp_path / "model")
    return tmp_path / "model"


def test_a_labelled_folder_is_read_and_split_stratified(tmp_path):
    data = read_class_folder(_folder(tmp_path / "shapes"))
    assert data.classes == ("bar", "circle", "cross") and len(data.images) == 30 and data.skipped == 1
    assert np.array_equal(np.bincount(data.labels), [10, 10, 10]) and data.images[0].mode == "L"
    train, test = labelled_split(str(tmp_path / "shapes"))
    assert (len(train.labels), len(test.labels)) == (24, 6) and np.array_equal(np.bincount(test.labels), [2, 2, 2])
    again = labelled_split(str(tmp_path / "shapes"))[1]
    assert [np.asarray(a).tobytes() for a in again.images] == [np.asarray(a).tobytes() for a in test.images]
    held_out = _folder(tmp_path / "other", per_class=2, classes=("cross", "bar"))
    train, test = labelled_split(str(tmp_path / "shapes"), str(held_out))
    assert len(train.labels) == 30 and train.classes[test.labels[0]] == "bar"  # relabelled by name


def _bad(root, kind: str):
    if kind == "missing":
        return root / "nowhere"
    root.mkdir()
    if kind == "only text":
        (root / "3").mkdir()
        (root / "3" / "readme.txt").write_text("hi")
    elif kind == "one class":
        _folder(root / "x", per_class=3, classes=("7",))
        return root / "x"
    elif kind == "unreadable":
        _folder(root / "x", per_class=3)
        (root / "x" / "bar" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
        return root / "x"
    elif kind == "tiny class":
        _folder(root / "x", per_class=3)
        for extra in (1, 2):
            (root / "x" / "cross" / f"{extra}.png").unlink()
        return root / "x"
    return root


@pytest.mark.parametrize("kind, message", [
    ("missing", "is not a folder"),
    ("empty", "holds no images in class sub-folders; expected"),
    ("only text", r"holds no images in class sub-folders \(only 1 non-image file\(s\)\)"),
    ("one class", r"has one class \('7'\); classification needs at least two"),
    ("unreadable", r"1 unreadable image\(s\) in .*, e\.g\. bar/broken\.png: "),
    ("tiny class", "class 'cross' of .* has 1 image"),
])
def test_bad_folders_get_one_clear_line(tmp_path, tiny_mlp, capsys, kind, message):
    folder = _bad(tmp_path / "data", kind)
    with pytest.raises(ValueError, match=message):
        labelled_split(str(folder))
    with pytest.raises(SystemExit) as exit_info:  # the CLI: one line, no traceback
        lc.main(["--model", str(tiny_mlp), "--data", str(folder), "--baseline_images", "16"])
    line = str(exit_info.value.code)
    assert line.startswith("error: ") and "\n" not in line and "Traceback" not in capsys.readouterr().err


def test_reconstruction_scores_measure_whether_the_label_survives():
    rng = np.random.default_rng(0)
    images = [_glyph(CLASSES[i % 3], rng) for i in range(60)]
    x = probes.to_model_input(images, 16)
    labels = np.arange(60) % 3
    data = probes.Split(x[:45], labels[:45], x[45:], labels[45:], CLASSES)
    classifier = probes.fit_pixel_classifier(data, k=3)
    exact = probes.reconstruction_scores(lambda t: t, data, classifier)
    assert exact == {"mse": 0.0, "label_kept": 1.0}
    border = torch.zeros_like(data.x_test)
    border[..., :2, :] = torch.randn_like(border[..., :2, :]) * 0.3  # faint noise where the train images are blank
    noisy = probes.reconstruction_scores(lambda t: t + border, data, classifier)
    assert noisy["label_kept"] == 1.0  # the digit still decides, not the border
    blank = probes.reconstruction_scores(lambda t: torch.full_like(t, -1.0), data, classifier)
    assert blank["label_kept"] <= 0.4 and blank["mse"] > 0.1  # one class for all: chance


def test_the_table_on_a_folder_with_a_reusable_baseline(tmp_path, tiny_mlp):
    folder, out = _folder(tmp_path / "shapes"), tmp_path / "report"
    args = ["--model", str(tiny_mlp), "--data", str(folder), "--baseline_images", "64", "--batch_size", "16",
            "--k", "3", "--baseline_folder", str(tmp_path / "ae"), "--out", str(out)]
    lc.main(args)
    report = json.loads((out / "latent_classification.json").read_text())
    names = [r["name"].split(" ")[0] for r in report["rows"]]
    assert names == ["raw", "ALAE", "plain", "untrained"] and report["rows"][0]["dims"] == 256
    assert report["rows"][0]["knn"] == 1.0  # the shapes are easy in pixel space
    assert (report["train_images"], report["test_images"], report["classes"]) == (24, 6, ["bar", "circle", "cross"])
    assert report["baseline"]["images"] == 64 and set(report["reconstruction"]) == {"alae", "plain_autoencoder"}
    assert "| 3-NN accuracy |" in (out / "latent_classification.md").read_text()
    lc.main(args)  # the saved baseline is reused, not retrained: the same numbers
    assert json.loads((out / "latent_classification.json").read_text()) == report


def test_a_saved_baseline_is_only_reused_for_the_same_run(tmp_path):
    x = torch.rand(20, 1, 16, 16) * 2 - 1
    config = MLPConfig(**TINY)
    first, run = baseline(x, config, BaselineRun(3, 4, 0.002, 0), tmp_path)
    second, again = baseline(x, config, BaselineRun(3, 4, 0.002, 0), tmp_path)
    assert again == run and all(torch.equal(a, b) for a, b in zip(first.state_dict().values(),
                                                                   second.state_dict().values()))
    with pytest.raises(ValueError, match="was trained differently"):
        baseline(x, config, BaselineRun(5, 4, 0.002, 0), tmp_path)


def test_learning_curve_scores_each_checkpoint_against_images_seen(tmp_path):
    run = tmp_path / "run"
    for step, images in ((2, 32), (4, 64)):
        torch.manual_seed(step)
        MLPALAE(**TINY).save_pretrained(run / f"checkpoint-{step}" / "ema")
        (run / f"checkpoint-{step}" / "training_state.json").write_text(json.dumps({"images_seen": images}))
        (run / f"checkpoint-{step}" / "COMPLETE").write_text("")
    MLPALAE(**TINY).save_pretrained(run / "checkpoint-6" / "ema")  # interrupted: no COMPLETE marker
    MLPALAE(**TINY).save_pretrained(run)
    (run / "training_summary.json").write_text(json.dumps({"images_seen": 80}))
    assert [i for i, _ in lc.checkpoint_models(run)] == [32, 64, 80]
    assert lc.images_seen(run / "checkpoint-4" / "ema") == 64 and lc.images_seen(tmp_path) is None
    folder = _folder(tmp_path / "shapes")
    lc.main(["--curve", str(run), "--data", str(folder), "--k", "3", "--every", "2", "--out", str(tmp_path / "o")])
    points = json.loads((tmp_path / "o" / "learning_curve.json").read_text())["points"]
    assert [p["images_seen"] for p in points] == [32, 80]  # every 2nd, and the last
    assert all(0 <= p["knn"] <= 1 and p["reconstruction_mse"] > 0 and 0 <= p["reconstruction_label_kept"] <= 1
               for p in points)
