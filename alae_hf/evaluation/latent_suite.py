"""The latent-space metrics of `python -m alae_hf.evaluation`, registered by name: linear
separability, SeFa/GANSpace direction ↔ factor response (with the best direction per factor and
its traversal) and perceptual path length (maths in `alae_hf.evaluation.latent_metrics`).

Each metric is one function over the shared `EvalContext` and returns a typed result that says how
it is written to `metrics.json` and rendered in `report.md` (see `alae_hf.evaluation.registry`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..datasets.synthetic_faces import FACTOR_NAMES, FACTORS
from . import report as rep
from .context import EvalContext, lpips_distance
from .latent_metrics import (
    best_per_factor,
    direction_response,
    isolation,
    linear_separability,
    path_length,
)
from .registry import Figure, MetricOutput, MetricResult, register

if TYPE_CHECKING:
    from ..latent.directions import Directions

TRAVERSAL_ALPHAS = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
SEPARABILITY_SPACES = {
    "w_real": "W, encoded real (exact labels)",
    "z_generated": "Z, generated",
    "w_generated": "W, generated",
}


# ---- linear separability ----------------------------------------------------------------------
@dataclass(frozen=True)
class Separability(MetricResult):
    """`latent_metrics.linear_separability` per space (see `SEPARABILITY_SPACES`)."""

    key = "separability"
    spaces: dict[str, dict[str, Any]]

    def json(self) -> dict[str, Any]:
        return {self.key: self.spaces}

    def summary_rows(self) -> list[list[object]]:
        rows: list[list[object]] = []
        for key, label in SEPARABILITY_SPACES.items():
            s = self.spaces.get(key)
            if s:
                rows.append(
                    [
                        f"Linear separability, {label}",
                        s["score"],
                        f"1 (chance {s['chance']:.4g})",
                        "2^Σ H(Y|X) in bits over factors; lower is better",
                    ]
                )
        return rows

    def sections(self) -> list[str]:
        names = list(next(iter(self.spaces.values()))["factors"])
        rows: list[list[object]] = [
            [n]
            + [
                f"{s['factors'][n]['separability']:.3g} ({2 ** s['factors'][n]['chance_bits']:.3g})"
                for s in self.spaces.values()
            ]
            for n in names
        ]
        return [
            "## Linear separability per factor (2^H(Y|X); 1 = perfectly linear, chance in brackets)",
            "",
            "w_real: E(x) of held-out faces with exact labels (colour factors are linear in pixels, so even "
            "an untrained E separates them); z/w_generated: samples labelled by the attribute net, 50% most "
            "confident kept per task (StyleGAN §4.2). A factor the net never predicts varies has chance 1.",
            "",
            *rep.table(["factor", *self.spaces], rows),
            "",
        ]


@register("separability", stage="separability", needs_attributes=True)
def separability(ctx: EvalContext) -> MetricOutput:
    """Linear separability of E(x) of held-out faces (exact labels) and of z, w of generated
    samples (attribute-net labels)."""
    gen, seed = ctx.generated, ctx.sizes.seed
    w_real, labels = ctx.encoded[0], ctx.real_labels or {}
    spaces = {
        "w_real": linear_separability(w_real, labels, FACTORS, seed=seed),
        "z_generated": linear_separability(gen["z"], gen["predictions"], FACTORS, seed=seed),
        "w_generated": linear_separability(gen["w"], gen["predictions"], FACTORS, seed=seed),
    }
    return MetricOutput(Separability(spaces))


# ---- directions ↔ factors ---------------------------------------------------------------------
@dataclass(frozen=True)
class DirectionSet:
    """One method's directions and their response matrix (rows: directions, columns: factors)."""

    indices: list[int]
    layers: list[int]
    sigma: list[float]
    num_samples: int
    factors: list[str]
    response_mean: list[list[float]]
    response_mean_abs: list[list[float]]
    isolation: list[float]
    dominant: list[str]
    total_response: list[float]
    figure: str


@dataclass(frozen=True)
class BestDirection:
    """The direction that moves a factor most (per σ), across methods."""

    method: str
    direction: int
    response: float
    isolation: float


@dataclass(frozen=True)
class DirectionResponse(MetricResult):
    """SeFa and GANSpace responses (`directions`) and the best direction per factor."""

    key = "directions"
    methods: dict[str, DirectionSet]
    best: dict[str, BestDirection]

    def json(self) -> dict[str, Any]:
        return {
            self.key: {k: asdict(d) for k, d in self.methods.items()},
            "best_direction_per_factor": {k: asdict(b) for k, b in self.best.items()},
        }

    def sections(self) -> list[str]:
        lines: list[str] = []
        for method, d in self.methods.items():
            lines += [
                f"## {method} directions ↔ factors",
                "",
                f"Change of each factor per +1σ along a direction (layers {d.layers}), from "
                f"{d.num_samples} samples; heatmap `{d.figure}`. Isolation = max_j|r_kj| / Σ_j|r_kj| "
                f"(1 = one factor, {1 / len(d.factors):.2f} = evenly spread).",
                "",
            ]
            rows: list[list[object]] = [
                [k, d.sigma[i], d.dominant[i], d.isolation[i], d.total_response[i]]
                for i, k in enumerate(d.indices)
            ]
            header = ["direction", "σ", "dominant factor", "isolation", "Σ_j |r_kj|"]
            lines += [*rep.table(header, rows), ""]
        if self.best:
            lines += ["## Best direction per factor", ""]
            rows = [
                [f, b.method, b.direction, b.response, b.isolation] for f, b in self.best.items()
            ]
            header = ["factor", "method", "direction", "|response| per σ", "its isolation"]
            lines += [*rep.table(header, rows), ""]
        return lines


@register("directions", title="direction response", stage="directions", needs_attributes=True)
def directions(ctx: EvalContext) -> MetricOutput:
    """SeFa and GANSpace on all styles: response matrices, heatmaps, isolation, the best
    direction per factor and its traversal."""
    from ..latent.spectral import ganspace, sefa

    model, sz, net = ctx.model, ctx.sizes, ctx.require_net()
    k = min(sz.num_directions, model.arch.latent_size)
    sets = {
        "sefa": sefa(model, "all", num_directions=k, seed=sz.seed),
        "ganspace": ganspace(model, n_samples=sz.ganspace_samples, n_components=k, seed=sz.seed),
    }
    methods: dict[str, DirectionSet] = {}
    figures: list[Figure] = []
    for method, d in sets.items():
        r = direction_response(
            model,
            net,
            d,
            n=sz.num_response,
            seed=sz.seed,
            batch_size=sz.batch_size,
            progress=ctx.progress,
        )
        share, dominant = isolation(r["mean_abs"])
        name = f"response_{method}.png"
        rows = [f"{method} {i} (sigma {float(d.sigma[i]):.2f})" for i in r["indices"]]
        title = f"{method}: factor change per +1 sigma (styles {d.layers[0]}-{d.layers[-1]})"
        what = f"{method} direction ↔ factor response (signed; categorical = total variation)"
        figures.append(Figure(name, what, rep.heatmap(r["mean"], rows, r["factors"], title)))
        methods[method] = DirectionSet(
            indices=r["indices"],
            layers=d.layers,
            sigma=d.sigma.tolist(),
            num_samples=r["num_samples"],
            factors=r["factors"],
            response_mean=r["mean"].tolist(),
            response_mean_abs=r["mean_abs"].tolist(),
            isolation=share.tolist(),
            dominant=[r["factors"][j] for j in dominant],
            total_response=r["mean_abs"].sum(1).tolist(),
            figure=name,
        )
    best = _best_per_factor(methods)
    figures.append(_traversals(ctx, sets, best))
    return MetricOutput(DirectionResponse(methods, best), tuple(figures))


def _best_per_factor(methods: dict[str, DirectionSet]) -> dict[str, BestDirection]:
    best: dict[str, BestDirection] = {}
    for method, d in methods.items():
        rows, values = best_per_factor(np.asarray(d.response_mean_abs))
        for j, name in enumerate(d.factors):
            if name not in best or values[j] > best[name].response:
                best[name] = BestDirection(
                    method, d.indices[rows[j]], float(values[j]), d.isolation[rows[j]]
                )
    return best


def _traversals(
    ctx: EvalContext, sets: dict[str, Directions], best: dict[str, BestDirection]
) -> Figure:
    from ..latent.ops import render, sweep

    model, seed = ctx.model, ctx.sizes.seed
    w_plus = model.to_w_plus(model.map(model.seed_latents(1, seed)))
    rows, labels = [], []
    for name in FACTOR_NAMES:
        b = best[name]
        frames = sweep(w_plus, sets[b.method], b.direction, TRAVERSAL_ALPHAS)[:, 0]
        rows.append(render(model, frames, noise=seed))
        labels.append(f"{name}: {b.method} {b.direction} ({b.response:.3f}/sigma)")
    header = (
        "best direction per factor; alpha = "
        + ", ".join(f"{a:+g}" for a in TRAVERSAL_ALPHAS)
        + " sigma"
    )
    return Figure(
        "traversals.png",
        "traversal of the best direction per factor (-3σ .. +3σ)",
        rep.labelled_rows(rows, labels, header),
    )


# ---- perceptual path length -------------------------------------------------------------------
@dataclass(frozen=True)
class PathLengths(MetricResult):
    """`latent_metrics.path_length` per variant ("z_full", "z_end", "w_full", "w_end")."""

    key = "ppl"
    variants: dict[str, dict[str, Any]]

    def json(self) -> dict[str, Any]:
        return {self.key: self.variants}

    def summary_rows(self) -> list[list[object]]:
        return [
            [f"PPL {key}", p["ppl"], 0.0, f"attribute-feature path length, ε={p['epsilon']}"]
            for key, p in self.variants.items()
        ]


@register("ppl", title="PPL", stage="ppl", needs_attributes=True)
def ppl(ctx: EvalContext) -> MetricOutput:
    """Perceptual path length in Z and W, full paths and end points (LPIPS when on disk)."""
    model, sz = ctx.model, ctx.sizes
    distance = lpips_distance(model.device)
    variants = {
        f"{space}_{sampling}": path_length(
            model,
            ctx.require_net(),
            sz.num_ppl,
            space,
            sampling,
            seed=sz.seed,
            batch_size=sz.batch_size,
            progress=ctx.progress,
            distance=distance,
        )
        for space in ("z", "w")
        for sampling in ("full", "end")
    }
    return MetricOutput(PathLengths(variants))
