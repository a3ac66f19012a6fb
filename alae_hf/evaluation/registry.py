"""The metric registry of `python -m alae_hf.evaluation`: each metric a function, registered by name.

A metric takes the evaluation's `EvalContext` (`alae_hf.evaluation.context`: the model, the data
and the sample sets, each made once and shared) and returns a `MetricOutput`: a typed result (a
frozen dataclass deriving from `MetricResult`) and optional figures. `evaluate()` runs the names
asked for (`--metrics a,b`; all registered ones by default, in registration order), writes each
result's `json()` into `metrics.json` and renders its `summary_rows()` and `sections()` into
`report.md`. The registry holds pure functions; it is filled when the metric modules are imported.
Modelled on NVlabs stylegan3 `metrics/metric_main.py` (`register_metric`, `calc_metric`).

Adding a metric touches one file, the module that holds its family (image-space metrics in
`alae_hf/evaluation/image_suite.py`, latent-space ones in `alae_hf/evaluation/latent_suite.py`):

    @dataclass(frozen=True)
    class Sharpness(MetricResult):
        key = "sharpness"              # its entry in metrics.json
        value: float

        def summary_rows(self) -> list[list[object]]:
            return [["Sharpness", self.value, "-", "mean Laplacian variance of samples"]]

    @register("sharpness", title="sharpness", stage="sharpness")
    def sharpness(ctx: EvalContext) -> MetricOutput:
        return MetricOutput(Sharpness(laplacian_variance(ctx.generated["images"])))

`needs_attributes=True` marks a metric measured in the synthetic-face attribute net's space: on an
image folder it is skipped, with a note naming its `title`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from PIL import Image

    from .context import EvalContext


class MetricResult:
    """Base of the typed results (frozen dataclasses) that metrics return.

    `key` names its entry in `metrics.json`; `json()` gives the top-level entries it writes (one by
    default; override for several or to drop empty fields); `summary_rows()` gives rows of the
    report's summary table (metric, value, floor / ideal, meaning) and `sections()` the markdown
    lines of its own sections.
    """

    key: ClassVar[str]

    def json(self) -> dict[str, Any]:
        return {self.key: asdict(self)}  # type: ignore[call-overload]  # subclasses are dataclasses

    def summary_rows(self) -> list[list[object]]:
        return []

    def sections(self) -> list[str]:
        return []


@dataclass(frozen=True)
class Figure:
    """A PNG of the report: its file name, what it shows (listed under "Figures") and the image."""

    name: str
    description: str
    image: Image.Image


@dataclass(frozen=True)
class MetricOutput:
    """What a metric returns: its result (None for a figure-only entry) and its figures."""

    result: MetricResult | None = None
    figures: tuple[Figure, ...] = ()


MetricFn = Callable[["EvalContext"], MetricOutput]


@dataclass(frozen=True)
class Metric:
    """A registered metric.

    Args:
        name: its name on the command line (`--metrics name,...`).
        fn: the function, context -> `MetricOutput`.
        title: how notes name it ("FD-attr").
        stage: the `timings_s` entry its time is added to (metrics sharing samples share one).
        needs_attributes: measured in the synthetic-face attribute net's space (skipped on folders).
    """

    name: str
    fn: MetricFn
    title: str
    stage: str
    needs_attributes: bool = False


METRICS: dict[str, Metric] = {}


def register(
    name: str, *, title: str | None = None, stage: str | None = None, needs_attributes: bool = False
) -> Callable[[MetricFn], MetricFn]:
    """Decorator: register `fn` as metric `name` (see the module docstring)."""

    def add(fn: MetricFn) -> MetricFn:
        if name in METRICS:
            raise ValueError(f"metric {name!r} is already registered")
        METRICS[name] = Metric(name, fn, title or name, stage or name, needs_attributes)
        return fn

    return add


def metric_names() -> list[str]:
    """The registered names, in registration order (the default metric set)."""
    return list(METRICS)


def select(names: Sequence[str] | str | None = None) -> list[Metric]:
    """The metrics named (a list or "a,b"; None or "all": every registered one), in registration
    order so that the report reads the same whatever the order asked; an unknown name raises a one-line ValueError that lists the known ones."""
    if names is None or names == "all":
        return list(METRICS.values())
    wanted = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
    wanted = [n for n in wanted if n]
    unknown = [n for n in wanted if n not in METRICS]
    if unknown or not wanted:
        what = f"unknown metric {', '.join(map(repr, unknown))}" if unknown else "no metric named"
        raise ValueError(f"{what}; known: {', '.join(METRICS)}")
    return [m for m in METRICS.values() if m.name in wanted]
