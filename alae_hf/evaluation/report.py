"""Figures (PIL only) and the markdown report of `python -m alae_hf.evaluation`.

No maths here: every number comes from `alae_hf.evaluation.metrics` / `alae_hf.evaluation.latent_metrics`; this module
draws them (heatmaps of the direction ↔ factor response, image grids, traversal strips) and
writes `report.md` from the results the registered metrics return (`alae_hf.evaluation.registry`:
each result renders its own summary rows, with floor or chance level, and sections).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..imaging import make_grid

if TYPE_CHECKING:
    from .registry import MetricResult

MIN_TILE = 64  # upscale small model outputs (nearest) so figures stay legible


def _font(size: int = 11) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _tiles(images: np.ndarray) -> list[Image.Image]:
    """uint8 [N, H, W, C] -> PIL tiles at least MIN_TILE px wide."""
    tiles = [Image.fromarray(a[:, :, 0] if a.shape[2] == 1 else a) for a in images]
    scale = max(1, -(-MIN_TILE // images.shape[2]))
    return (
        [t.resize((t.width * scale, t.height * scale), Image.Resampling.NEAREST) for t in tiles]
        if scale > 1
        else tiles
    )


def sample_grid(images: np.ndarray, columns: int = 8) -> Image.Image:
    """A grid of uint8 images [N, H, W, C]."""
    return make_grid(_tiles(images), columns=min(columns, len(images)))


def pairs_figure(
    originals: np.ndarray, reconstructions: np.ndarray, columns: int = 8
) -> Image.Image:
    """Rows of `columns` originals, each followed by a row of their reconstructions."""
    rows: list[Image.Image] = []
    a, b = _tiles(originals), _tiles(reconstructions)
    for i in range(0, len(a), columns):
        rows += a[i : i + columns] + [Image.new("RGB", a[0].size, "white")] * (
            columns - len(a[i : i + columns])
        )
        rows += b[i : i + columns] + [Image.new("RGB", a[0].size, "white")] * (
            columns - len(b[i : i + columns])
        )
    return make_grid(rows, columns=columns)


def labelled_rows(
    rows: Sequence[Sequence[Image.Image]], labels: Sequence[str], header: str = ""
) -> Image.Image:
    """Stack image rows (e.g. traversals) with a text label at the left of each row."""
    tile = rows[0][0].size
    scale = max(1, -(-MIN_TILE // tile[0]))
    tile = (tile[0] * scale, tile[1] * scale)
    label_w, top = 230, 22 if header else 0
    width = label_w + max(len(r) for r in rows) * (tile[0] + 2)
    canvas = Image.new("RGB", (width, top + len(rows) * (tile[1] + 2)), "white")
    draw = ImageDraw.Draw(canvas)
    if header:
        draw.text((4, 4), header, fill="black", font=_font(12))
    for r, (row, label) in enumerate(zip(rows, labels)):
        y = top + r * (tile[1] + 2)
        draw.text((4, y + tile[1] // 2 - 6), label, fill="black", font=_font())
        for c, image in enumerate(row):
            canvas.paste(
                image.convert("RGB").resize(tile, Image.Resampling.NEAREST),
                (label_w + c * (tile[0] + 2), y),
            )
    return canvas


def _colour(value: float, scale: float) -> tuple[int, int, int]:
    """Diverging white -> red (positive) / blue (negative)."""
    t = 0.0 if scale <= 0 else max(-1.0, min(1.0, value / scale))
    fade = round(255 * (1 - abs(t)))
    return (255, fade, fade) if t >= 0 else (fade, fade, 255)


def heatmap(
    matrix: np.ndarray,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    title: str,
    cell: int = 48,
) -> Image.Image:
    """A [K, F] response matrix as a coloured table with values, row and (rotated) column labels."""
    matrix = np.asarray(matrix, np.float64)
    scale = float(np.abs(matrix).max()) if matrix.size else 0.0
    left, top = 150, 110
    canvas = Image.new(
        "RGB", (left + cell * matrix.shape[1] + 10, top + cell * matrix.shape[0] + 30), "white"
    )
    draw = ImageDraw.Draw(canvas)
    draw.text((4, 4), title, fill="black", font=_font(12))
    for j, name in enumerate(col_labels):
        label = Image.new("RGB", (top - 24, 14), "white")
        ImageDraw.Draw(label).text((0, 0), name, fill="black", font=_font())
        canvas.paste(label.rotate(90, expand=True), (left + j * cell + cell // 2 - 7, 22))
    for i, name in enumerate(row_labels):
        y = top + i * cell
        draw.text((4, y + cell // 2 - 6), name, fill="black", font=_font())
        for j in range(matrix.shape[1]):
            x, v = left + j * cell, matrix[i, j]
            draw.rectangle(
                (x, y, x + cell - 1, y + cell - 1), fill=_colour(v, scale), outline=(200, 200, 200)
            )
            draw.text((x + 3, y + cell // 2 - 6), f"{v:+.3f}", fill="black", font=_font(10))
    draw.text(
        (4, top + cell * matrix.shape[0] + 8),
        f"colour scale: ±{scale:.3g} (red +, blue -)",
        fill="black",
        font=_font(10),
    )
    return canvas


# ---- markdown ---------------------------------------------------------------------------------
def fmt(value: object) -> str:
    """A table cell: floats to 4 significant digits, anything else as str()."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """Markdown lines of a table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]


def write_report(metrics: dict[str, Any], results: Sequence[MetricResult], out: str | Path) -> Path:
    """Write `report.md`: the header facts of `metrics` (the dict `alae_hf.evaluation.evaluate`
    writes to metrics.json: model, data, device, seconds, sizes, timings, notes, figures) and what
    each metric's result renders (its summary rows, then its sections, in the order run)."""
    lines = [
        f"# Evaluation of `{metrics['model']}`",
        "",
        f"Data: `{metrics['data']}`; device {metrics['device']}; {metrics['seconds']:.0f} s. "
        f"Sizes: {metrics['sizes']}.",
        "",
    ]
    if metrics.get("timings_s"):
        lines += [f"Time per stage (s): {metrics['timings_s']}.", ""]
    summary = [row for r in results for row in r.summary_rows()]
    lines += ["## Summary", ""]
    lines += table(["metric", "value", "floor / ideal", "meaning"], summary) + [""]
    lines += [line for r in results for line in r.sections()]
    lines += (
        ["## Skipped or approximated", ""] + [f"- {s}" for s in metrics.get("notes", [])] + [""]
    )
    lines += (
        ["## Figures", ""] + [f"- `{f}`: {d}" for f, d in metrics.get("figures", {}).items()] + [""]
    )
    path = Path(out) / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
