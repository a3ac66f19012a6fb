"""The evaluation's metric registry: a metric registered anywhere is run by name and rendered in
the report, an unknown name is one line that lists the known ones, and both ALAEs are evaluated
through `alae_hf.load`. Tiny models on a folder of random images (no attribute net), CPU."""

import json
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image

from alae_hf.evaluation import registry
from alae_hf.evaluation.__main__ import main
from alae_hf.evaluation.evaluate import EvalSizes, evaluate
from alae_hf.evaluation.registry import Figure, MetricOutput, MetricResult, register, select

SIZES = EvalSizes(num_real=4, num_reciprocity=4, batch_size=4)
DEFAULT_SET = [
    "samples",
    "fd_attr",
    "reconstruction",
    "reciprocity",
    "separability",
    "directions",
    "ppl",
]


@pytest.fixture
def toy_registry(monkeypatch):
    """A copy of the registry for the test to add to; the real one is left as it was."""
    monkeypatch.setattr(registry, "METRICS", dict(registry.METRICS))
    return registry


@dataclass(frozen=True)
class MeanPixel(MetricResult):
    key = "toy_mean_pixel"
    value: float
    num_images: int

    def summary_rows(self):
        return [["Toy mean pixel", self.value, "-", "mean uint8 value of the real images"]]

    def sections(self):
        return ["## Toy section", "", f"{self.num_images} images", ""]


def _folder(tmp_path, channels=3):
    (tmp_path / "data").mkdir()
    shape = (20, 24, 3) if channels == 3 else (20, 24)
    for i in range(4):
        pixels = np.random.default_rng(i).integers(0, 255, shape, dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / "data" / f"{i}.png")
    return str(tmp_path / "data")


def test_the_default_set_is_every_builtin_metric_in_order():
    assert [m.name for m in select(None)] == DEFAULT_SET == [m.name for m in select("all")]
    assert [m.name for m in select("ppl,fd_attr")] == ["fd_attr", "ppl"]  # registry order
    assert {m.name for m in select(None) if m.needs_attributes} == {
        "fd_attr",
        "separability",
        "directions",
        "ppl",
    }


def test_a_metric_registered_in_a_test_is_run_by_name_and_rendered(
    toy_registry, tiny_model, tmp_path
):
    seen = []

    @register("toy", title="toy metric")
    def toy(ctx):
        seen.append(ctx.real.shape)
        image = Image.new("RGB", (8, 8), "red")
        return MetricOutput(
            MeanPixel(float(ctx.real.mean()), len(ctx.real)),
            (Figure("toy.png", "a red square", image),),
        )

    assert "toy" in registry.metric_names()
    tiny_model.save_pretrained(tmp_path / "model")
    data = _folder(tmp_path)
    m = evaluate(
        str(tmp_path / "model"),
        tmp_path / "out",
        data,
        SIZES,
        progress=False,
        metrics="toy,reciprocity",
    )
    assert len(seen) == 1 and seen[0][0] == 4
    assert m["toy_mean_pixel"]["num_images"] == 4 and 0 < m["toy_mean_pixel"]["value"] < 255
    assert "reciprocity" in m and "reconstruction" not in m  # only the names asked for
    assert m["figures"] == {"toy.png": "a red square"} and (tmp_path / "out" / "toy.png").is_file()
    assert (
        json.loads((tmp_path / "out" / "metrics.json").read_text())["toy_mean_pixel"]
        == m["toy_mean_pixel"]
    )
    report = (tmp_path / "out" / "report.md").read_text()
    assert (
        "| Toy mean pixel |" in report
        and "## Toy section" in report
        and "`toy.png`: a red square" in report
    )
    # registration order, not the order asked for: the toy was registered after the built-ins
    assert report.index("Latent reciprocity") < report.index("Toy mean pixel")


def test_an_unknown_metric_name_is_one_line_listing_the_known_ones(tmp_path, capsys):
    with pytest.raises(ValueError, match=r"unknown metric 'nope'; known: samples, fd_attr, .*ppl$"):
        evaluate("no-such-model", tmp_path / "out", metrics="fd_attr,nope")
    assert not (tmp_path / "out").exists()  # refused before anything ran
    with pytest.raises(SystemExit) as exit_info:  # the command line, in this process
        main(["--model", "no-such-model", "--out", str(tmp_path / "out"), "--metrics", "nope"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"alae-eval: error: unknown metric 'nope'; known: {', '.join(DEFAULT_SET)}"
    ]


def test_an_mlp_alae_is_evaluated_through_load(tmp_path):
    from alae_hf import MLPALAE

    MLPALAE(
        resolution=8, fc_resolution=8, hidden_size=16, latent_size=4, mapping_layers=2
    ).save_pretrained(tmp_path / "model")
    data = _folder(tmp_path, channels=1)
    m = evaluate(str(tmp_path / "model"), tmp_path / "out", data, SIZES, progress=False)
    assert m["reconstruction"]["num_images"] == 4 and m["reciprocity"]["num_samples"] == 4
    assert not {"fd_attr", "separability", "ppl", "directions"} & set(m)
    assert "FD-attr, separability, direction response and PPL" in " ".join(m["notes"])
    with pytest.raises(ValueError, match="synthetic faces are RGB; this model has 1 channel"):
        evaluate(str(tmp_path / "model"), tmp_path / "out2", sizes=SIZES, progress=False)
