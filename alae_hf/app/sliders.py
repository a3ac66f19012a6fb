"""What each edit slider does and how far it goes, for one direction set on one model.

Labels: the factor a direction mainly moves and by how much per σ, read from the model's
evaluation report (`report/metrics.json`, written by `python -m alae_hf.evaluate`: its
`directions.<method>` entry holds the attribute net's response of every direction to every
factor, and the share of the direction's effect that goes to its dominant factor). The report
measures the sets on all styles; for a set it did not measure (coarse, middle or fine styles) of a
model it evaluated on synthetic faces, the same measurement (`direction_response`, 32 samples) is
made here, once per set. A direction neither measured (one past the report's first few, a model
without such a report) says "not measured". Sliders are sorted by measured effect, strongest
first; unmeasured ones follow in their own order.

Range: where the edited latent stays inside what the mapping network produces. For each
direction, the σ-normalised coordinate ⟨w − mean, v⟩ / σ of mapped samples is measured and the
slider goes as far from the mean as the 0.5–99.5 % quantiles reach (rounded to 0.1σ, at least
1σ, at most the server's limit), instead of a fixed ±5σ: past that, images come from latents the
generator never saw in training. Computed once per direction set (the `Studio` caches it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..latent.directions import Directions
from ..latent.spectral import mapped_samples

Progress = Callable[[float, str], None]

QUANTILE = 0.005  # the range covers the central 99 % of mapped latents along the direction
RANGE_SAMPLES = 10_000  # mapped samples used to measure it (F only: cheap)
MIN_RANGE = 1.0
EFFECT_SAMPLES = (
    32  # samples per direction for effects measured here (the evaluation report's number)
)


@dataclass
class SliderSet:
    """A direction set as sliders: slider i drives direction `order[i]`, is labelled `labels[i]`
    and ranges over ±`limits[i]` σ."""

    directions: Directions
    order: list[int]
    labels: list[str]
    limits: list[float]
    measured: bool
    source: str = ""  # where the effects come from: the report, or measured here

    def limit(self, index: int, beyond: float) -> float:
        """How far (±σ) slider `index` reaches: its direction's range, `beyond` past the set."""
        return self.limits[index] if index < len(self.limits) else beyond

    def alphas(self, values: list[float]) -> dict[int, float]:
        """Slider values -> {direction index: α} for `apply_directions`."""
        return {self.order[i]: v for i, v in enumerate(values) if i < len(self.order)}


def report_effects(folder: Path | None, directions: Directions) -> dict[int, dict[str, Any]]:
    """{direction index: {factor, response (signed, per σ), share, total}} from the model's
    evaluation report, for the directions it measured; {} when it has none for this set."""
    path = None if folder is None else Path(folder) / "report" / "metrics.json"
    if path is None or not path.is_file():
        return {}
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
        entry = metrics.get("directions", {}).get(directions.method)
        kinds = {
            name: f.get("kind")
            for name, f in metrics.get("attribute_net", {}).get("factors", {}).items()
        }
    except (OSError, ValueError, AttributeError):
        return {}
    if not isinstance(entry, dict) or entry.get("layers") != directions.layers:
        return {}
    effects = {}
    for row, index in enumerate(entry.get("indices", [])):
        if index >= directions.num_directions or not _same_sigma(
            entry["sigma"][row], directions.sigma[index]
        ):
            return {}  # the report measured another set of this method (e.g. recomputed directions)
        factor = entry["dominant"][row]
        column = entry["factors"].index(factor)
        effects[index] = {
            "factor": factor,
            "response": float(entry["response_mean"][row][column]),
            "signed": kinds.get(factor, "continuous") == "continuous",
            "share": float(entry["isolation"][row]),
            "total": float(entry["total_response"][row]),
        }
    return effects


def measurable(folder: Path | None) -> bool:
    """Whether the model's report evaluated it on synthetic faces, whose factors the shipped
    attribute net reads (so its directions' effects can be measured here)."""
    path = None if folder is None else Path(folder) / "report" / "metrics.json"
    try:
        data = (
            json.loads(path.read_text(encoding="utf-8")).get("data", "")
            if path and path.is_file()
            else ""
        )
    except (OSError, ValueError, AttributeError):
        return False
    return isinstance(data, str) and data.startswith("synthetic:faces")


def measure_effects(
    model: Any, directions: Directions, indices: list[int], progress: Progress | None = None
) -> dict[int, dict[str, Any]]:
    """`report_effects`' entries for `indices`, measured now as the evaluation does
    (`alae_hf.evaluation.latent_metrics.direction_response`: attribute-net change per ±1σ move of
    EFFECT_SAMPLES samples; the dominant factor's share of the total as isolation)."""
    from ..evaluation.attributes import load_attribute_net
    from ..evaluation.latent_metrics import direction_response, isolation

    net = load_attribute_net(device=model.device)
    kinds = {f.name: f.kind for f in net.factors}
    effects = {}
    for done, index in enumerate(indices):
        if progress is not None:
            progress(
                done / len(indices), f"measuring the effect of {directions.method} {index + 1}"
            )
        r = direction_response(model, net, directions, indices=[index], n=EFFECT_SAMPLES)
        share, dominant = isolation(r["mean_abs"])
        factor = r["factors"][dominant[0]]
        effects[index] = {
            "factor": factor,
            "response": float(r["mean"][0][dominant[0]]),
            "signed": kinds.get(factor, "continuous") == "continuous",
            "share": float(share[0]),
            "total": float(r["mean_abs"][0].sum()),
        }
    return effects


def _same_sigma(reported: float, ours: torch.Tensor) -> bool:
    """The report may have recomputed the set with fewer samples (GANSpace: 20k vs 100k): same
    directions up to sampling noise, σ within 2 %; a genuinely different set differs far more."""
    return math.isclose(float(reported), float(ours), rel_tol=0.02, abs_tol=1e-6)


def label(method_label: str, index: int, effect: dict[str, Any] | None, limit: float) -> str:
    """'SeFa 2 · smile +0.41 per σ (29% of its effect) · ±2.5σ' (a continuous factor, in its
    normalised units), 'SeFa 1 · hair colour changes 0.41 per σ (...)' (a categorical one: total
    variation of the class probabilities), or '... · effect not measured · ±2.5σ'."""
    if effect is None:
        return f"{method_label} {index + 1} · effect not measured · ±{limit:g}σ"
    factor = effect["factor"].replace("_", " ")
    amount = (
        f"{effect['response']:+.2f}"
        if effect.get("signed", True)
        else f"changes {effect['response']:.2f}"
    )
    return f"{method_label} {index + 1} · {factor} {amount} per σ ({effect['share']:.0%} of its effect) · ±{limit:g}σ"


@torch.no_grad()
def latent_limits(
    model: Any,
    directions: Directions,
    indices: list[int],
    max_alpha: float,
    n_samples: int = RANGE_SAMPLES,
    seed: int = 0,
) -> list[float]:
    """Per direction in `indices`: how far (in σ) from the mean the mapped latents reach along it
    (the smaller of the two quantile distances), rounded down to 0.1σ, in [MIN_RANGE, max_alpha]."""
    vectors = directions.vectors[indices].to(model.device, torch.float64)
    sigma = directions.sigma[indices].to(model.device, torch.float64).clamp_min(1e-12)
    coords = torch.cat([(w.double() @ vectors.T) for w in mapped_samples(model, n_samples, seed)])
    coords = (coords - coords.mean(0)) / sigma
    low, high = torch.quantile(coords, QUANTILE, dim=0), torch.quantile(coords, 1 - QUANTILE, dim=0)
    reach = torch.minimum(-low, high).clamp_min(0).cpu().tolist()
    return [min(max_alpha, max(MIN_RANGE, math.floor(r * 10) / 10)) for r in reach]


def slider_set(
    model: Any,
    folder: Path | None,
    directions: Directions,
    method_label: str,
    count: int,
    max_alpha: float,
    n_samples: int = RANGE_SAMPLES,
    progress: Progress | None = None,
) -> SliderSet:
    """The first `count` sliders of a direction set: sorted by measured effect, labelled, ranged.
    Effects come from the model's report, else (a model evaluated on synthetic faces) are measured
    now for the set's first `count` directions."""
    effects, source = report_effects(folder, directions), "the model's evaluation report"
    if not effects and measurable(folder) and getattr(model.arch, "channels", 0) == 3:
        first = list(range(min(count, directions.num_directions)))
        effects = measure_effects(model, directions, first, progress)
        source = (
            f"measured here with the shipped attribute net ({EFFECT_SAMPLES} samples per direction)"
        )
    measured = sorted(effects, key=lambda k: -effects[k]["total"])
    rest = [k for k in range(directions.num_directions) if k not in effects]
    order = (measured + rest)[:count]
    limits = latent_limits(model, directions, order, max_alpha, n_samples)
    labels = [label(method_label, k, effects.get(k), limit) for k, limit in zip(order, limits)]
    return SliderSet(directions, order, labels, limits, bool(effects), source if effects else "")
