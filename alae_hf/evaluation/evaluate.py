"""Evaluate a model folder: `python -m alae_hf.evaluation --model DIR --out report/` (or `alae-eval`).

Any alae_hf model (`alae_hf.load`) with RGB output on synthetic faces, any model on an image
folder. The metrics are those of `alae_hf.evaluation.registry` (`--metrics a,b`, default all);
each is one function over a shared `EvalContext` that makes the samples once.

Writes `metrics.json`, `report.md` and PNGs (samples, reconstruction pairs, direction ↔ factor
heatmaps for SeFa and GANSpace, traversals of the best direction per factor). With
`--data synthetic:faces[:seed=S,length=L]` (the default) every registered metric
(`alae_hf.evaluation.image_suite`, `alae_hf.evaluation.latent_suite`) is computed, with
held-out faces (indices L, L+1, ... of the training spec, never seen in training) as the real
data. With `--data DIR` (a model trained on other
images) only the applicable ones are: reconstruction MSE/PSNR on images from DIR and latent
reciprocity; attribute-net metrics would measure synthetic-face factors that DIR lacks.

Default sizes (a random-init 64 px model, 7.7M parameters, runs in a few minutes on CPU):
2,000 generated and 2 x 2,000 real images for FD-attr; 1,000 held-out real images for
reconstruction and W separability; 500 samples for reciprocity; 500 pairs per PPL variant
(Z/W x full/end); 8 directions per method, each scored on 32 samples; GANSpace PCA on 20,000
mapped samples. The paper-scale protocol (50k FID, 100k PPL) is reachable through the flags.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from . import image_suite, latent_suite  # noqa: F401  (importing them registers their metrics)
from . import report as rep
from .context import (
    EvalContext,
    folder_images,
    lpips_distance,
    offline_weight_notes,
    synthetic_real,
)
from .registry import Metric, MetricResult, select
from .sizes import EvalSizes

# Names that scripts and tools import from here.
__all__ = [
    "EvalSizes",
    "evaluate",
    "folder_images",
    "lpips_distance",
    "offline_weight_notes",
    "run_metrics",
    "synthetic_real",
]


def evaluate(
    model_path: str,
    out: str | Path,
    data: str = "synthetic:faces",
    sizes: EvalSizes = EvalSizes(),
    device: str = "cpu",
    attribute_net: str | None = None,
    progress: bool = True,
    metrics: Sequence[str] | str | None = None,
) -> dict[str, Any]:
    """Run the evaluation and write metrics.json, report.md and the figures into `out`.

    Args:
        model_path: a model folder or Hub id (`alae_hf.load`: StyleALAE or MLPALAE).
        out: the report folder (created).
        data: `synthetic:faces[:seed=S,length=L]` or an image folder (module docstring).
        sizes: sample counts and seed.
        device: torch device.
        attribute_net: attribute-net weights (None: the shipped ones).
        progress: show tqdm bars.
        metrics: registered metric names (a list or "a,b"); None: all of them.

    Returns:
        The dict written to metrics.json.
    """
    from ..models.loading import load

    chosen = select(metrics)  # an unknown name fails before the model loads
    start = time.time()
    out = Path(out)
    model = load(model_path)
    model.to(device)  # type: ignore[arg-type]  # diffusers wraps `ModelMixin.to`; mypy reads it unbound
    model.eval().requires_grad_(False)
    ctx = EvalContext(model, data, sizes, out, attribute_net, progress)
    if ctx.synthetic and model.arch.channels != 3:
        raise ValueError(
            f"synthetic faces are RGB; this model has {model.arch.channels} channel(s)"
        )
    out.mkdir(parents=True, exist_ok=True)
    m: dict[str, Any] = {
        "model": str(model_path),
        "data": data,
        "device": str(device),
        "sizes": asdict(sizes),
        "notes": offline_weight_notes(),
        "figures": {},
    }
    m["notes"].append(
        "Generated samples use no truncation and no style mixing (the official FID script mixes "
        "with p = 0.9); PPL images are not face-cropped (the attribute net sees whole images)."
    )
    if ctx.synthetic:
        m["attribute_net"] = ctx.attribute_net_metrics()
    else:
        skipped = [metric.title for metric in chosen if metric.needs_attributes]
        chosen = [metric for metric in chosen if not metric.needs_attributes]
        if skipped:
            m["notes"].append(
                f"{data} has no synthetic-face labels: {_join(skipped)} (all in the synthetic-face "
                "attribute net's space) are skipped as not meaningful."
            )
    results = run_metrics(ctx, chosen, m)
    m["seconds"] = time.time() - start
    (out / "metrics.json").write_text(
        json.dumps(m, indent=2, default=_json_default) + "\n", encoding="utf-8"
    )
    rep.write_report(m, results, out)
    return m


def run_metrics(
    ctx: EvalContext, chosen: Sequence[Metric], m: dict[str, Any]
) -> list[MetricResult]:
    """Run `chosen` in order on `ctx`: each result's entries go into `m`, its figures into
    `ctx.out` (listed in `m["figures"]`) and the time of each stage into `m["timings_s"]`."""
    results: list[MetricResult] = []
    stage, stage_start = "", 0.0
    for metric in chosen:
        if metric.stage != stage:
            _close_stage(m, stage, stage_start)
            stage, stage_start = metric.stage, time.time()
        output = metric.fn(ctx)
        if output.result is not None:
            m.update(output.result.json())
            results.append(output.result)
        for figure in output.figures:
            figure.image.save(ctx.out / figure.name)
            m["figures"][figure.name] = figure.description
    _close_stage(m, stage, stage_start)
    return results


def _close_stage(m: dict[str, Any], stage: str, start: float) -> None:
    if stage:
        timings = m.setdefault("timings_s", {})
        timings[stage] = round(timings.get(stage, 0.0) + time.time() - start, 1)


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _json_default(value: object) -> object:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


if __name__ == "__main__":  # the command line lives in alae_hf/evaluation/__main__.py
    raise SystemExit(
        "run `python -m alae_hf.evaluation --model DIR --out report/` (or `alae-eval`)"
    )
