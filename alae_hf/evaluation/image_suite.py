"""The image-space metrics of `python -m alae_hf.evaluation`, registered by name: the sample grid,
FD-attr, reconstruction and latent reciprocity (maths in `alae_hf.evaluation.metrics`).

Each metric is one function over the shared `EvalContext` and returns a typed result that says how
it is written to `metrics.json` and rendered in `report.md` (see `alae_hf.evaluation.registry`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import report as rep
from .context import EvalContext
from .metrics import fd_report, latent_reciprocity, reconstruction_metrics
from .registry import Figure, MetricOutput, MetricResult, register

# The first four share the generated samples (and reconstruction's encodings): one timing stage.
SAMPLES_STAGE = "generation_reconstruction_reciprocity"


@register("samples", title="sample grid", stage=SAMPLES_STAGE)
def samples(ctx: EvalContext) -> MetricOutput:
    """The first 32 generated samples as a grid (a figure, no number)."""
    images = ctx.generated["images"]
    if images is None:
        return MetricOutput()
    grid = rep.sample_grid(images)
    return MetricOutput(
        figures=(Figure("samples.png", "uncurated samples (no truncation, seed noise)", grid),)
    )


@dataclass(frozen=True)
class FDAttr(MetricResult):
    """Fréchet distance of attribute-net features, generated vs held-out real, and its floor."""

    key = "fd_attr"
    fd: float
    floor: float
    num_generated: int
    num_real: int

    def summary_rows(self) -> list[list[object]]:
        meaning = "Fréchet distance of attribute-net features; floor = two disjoint real sets"
        return [["FD-attr (generated vs real)", self.fd, self.floor, meaning]]


@register("fd_attr", title="FD-attr", stage=SAMPLES_STAGE, needs_attributes=True)
def fd_attr(ctx: EvalContext) -> MetricOutput:
    """FD-attr of `num_samples` generated vs real faces; floor: real vs a disjoint real set."""
    real, real_other = ctx.real_features
    r = fd_report(ctx.generated["features"], real, real_other)
    return MetricOutput(
        FDAttr(float(r["fd"]), float(r["floor"]), int(r["num_generated"]), int(r["num_real"]))
    )


@dataclass(frozen=True)
class Reconstruction(MetricResult):
    """x vs G(E(x)) on held-out images (`metrics.reconstruction_metrics`); `agreement` and
    `vs_labels` only with the attribute net (and labels)."""

    key = "reconstruction"
    mse: float
    psnr: float
    psnr_per_image_mean: float
    num_images: int
    agreement: dict[str, dict[str, float]] | None = None
    vs_labels: dict[str, Any] | None = None

    def json(self) -> dict[str, Any]:
        fields = {
            "mse": self.mse,
            "psnr": self.psnr,
            "psnr_per_image_mean": self.psnr_per_image_mean,
            "num_images": self.num_images,
            "agreement": self.agreement,
            "vs_labels": self.vs_labels,
        }
        return {self.key: {k: v for k, v in fields.items() if v is not None}}

    def summary_rows(self) -> list[list[object]]:
        return [
            ["Reconstruction MSE ([0, 1] scale)", self.mse, 0.0, "x vs G(E(x)) on held-out images"],
            ["Reconstruction PSNR (dB)", self.psnr, "∞", "10·log10(1/MSE)"],
        ]

    def sections(self) -> list[str]:
        if self.agreement is None:
            return []
        truth = self.vs_labels or {}
        rows: list[list[object]] = []
        for name, a in self.agreement.items():
            key, tkey = ("accuracy", "accuracy") if "accuracy" in a else ("pearson", "r2")
            rows.append(
                [
                    name,
                    "accuracy" if key == "accuracy" else "Pearson r / R²",
                    a[key],
                    truth.get("reconstruction", {}).get(name, {}).get(tkey, "-"),
                    truth.get("original", {}).get(name, {}).get(tkey, "-"),
                ]
            )
        header = ["factor", "score", "x vs G(E(x))", "G(E(x)) vs truth", "net on x vs truth"]
        return [
            "## Reconstruction: factor agreement between x and G(E(x))",
            "",
            "Attribute-net predictions on originals vs reconstructions. 'net on x vs truth' is the "
            "ceiling (the attribute net's own error on real images).",
            "",
            *rep.table(header, rows),
            "",
        ]


@register("reconstruction", title="reconstruction", stage=SAMPLES_STAGE)
def reconstruction(ctx: EvalContext) -> MetricOutput:
    """MSE/PSNR of x vs G(E(x)) and, on synthetic faces, per-factor agreement."""
    real, (_, recon) = ctx.real, ctx.encoded
    result = Reconstruction(**reconstruction_metrics(ctx.net, real, recon, ctx.real_labels))
    pairs = rep.pairs_figure(real[:16], recon[:16])
    what = "held-out originals (rows 1, 3) over their reconstructions G(E(x))"
    return MetricOutput(result, (Figure("reconstructions.png", what, pairs),))


@dataclass(frozen=True)
class Reciprocity(MetricResult):
    """‖w − E(G(w))‖ (`metrics.latent_reciprocity`)."""

    key = "reciprocity"
    mean: float
    relative: float
    mse_per_dim: float
    w_spread: float
    num_samples: int

    def summary_rows(self) -> list[list[object]]:
        return [
            ["Latent reciprocity ‖w − E(G(w))‖", self.mean, 0.0, "mean L2 in W"],
            [
                "  relative to mean ‖w − w̄‖",
                self.relative,
                0.0,
                "≥ 1: E(G(w)) no closer than the mean",
            ],
        ]


@register("reciprocity", title="latent reciprocity", stage=SAMPLES_STAGE)
def reciprocity(ctx: EvalContext) -> MetricOutput:
    """Latent reciprocity on the first `num_reciprocity` generated samples."""
    r = latent_reciprocity(ctx.generated["w"], ctx.generated["w_rec"])
    return MetricOutput(
        Reciprocity(
            float(r["mean"]),
            float(r["relative"]),
            float(r["mse_per_dim"]),
            float(r["w_spread"]),
            int(r["num_samples"]),
        )
    )
