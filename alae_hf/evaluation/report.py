"""Figures (PIL only) and the markdown report of `python -m alae_hf.evaluation`.

No maths here: every number comes from `alae_hf.evaluation.metrics` / `alae_hf.evaluation.latent_metrics`; this module
draws them (heatmaps of the direction ↔ factor response, image grids, traversal strips) and
writes `report.md` with one row per figure, what it means and its floor or chance level.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..imaging import make_grid

MIN_TILE = 64  # upscale small model outputs (nearest) so figures stay legible


def _font(size: int = 11) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _tiles(images: np.ndarray) -> list[Image.Image]:
    """uint8 [N, H, W, C] -> PIL tiles at least MIN_TILE px wide."""
    tiles = [Image.fromarray(a[:, :, 0] if a.shape[2] == 1 else a) for a in images]
    scale = max(1, -(-MIN_TILE // images.shape[2]))
    return (
        [t.resize((t.width * scale, t.height * scale), Image.NEAREST) for t in tiles]
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
                image.convert("RGB").resize(tile, Image.NEAREST), (label_w + c * (tile[0] + 2), y)
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
def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]


def _summary_rows(m: dict) -> list[list[object]]:
    rows: list[list[object]] = []
    if "fd_attr" in m:
        fd = m["fd_attr"]
        rows.append(
            [
                "FD-attr (generated vs real)",
                fd["fd"],
                fd["floor"],
                "Fréchet distance of attribute-net features; floor = two disjoint real sets",
            ]
        )
    if "reconstruction" in m:
        r = m["reconstruction"]
        rows.append(
            ["Reconstruction MSE ([0, 1] scale)", r["mse"], 0.0, "x vs G(E(x)) on held-out images"]
        )
        rows.append(["Reconstruction PSNR (dB)", r["psnr"], "∞", "10·log10(1/MSE)"])
    if "reciprocity" in m:
        r = m["reciprocity"]
        rows.append(["Latent reciprocity ‖w − E(G(w))‖", r["mean"], 0.0, "mean L2 in W"])
        rows.append(
            [
                "  relative to mean ‖w − w̄‖",
                r["relative"],
                0.0,
                "≥ 1: E(G(w)) no closer than the mean",
            ]
        )
    for key, label in (
        ("w_real", "W, encoded real (exact labels)"),
        ("z_generated", "Z, generated"),
        ("w_generated", "W, generated"),
    ):
        s = m.get("separability", {}).get(key)
        if s:
            rows.append(
                [
                    f"Linear separability, {label}",
                    s["score"],
                    f"1 (chance {s['chance']:.4g})",
                    "2^Σ H(Y|X) in bits over factors; lower is better",
                ]
            )
    for key, p in m.get("ppl", {}).items():
        rows.append(
            [f"PPL {key}", p["ppl"], 0.0, f"attribute-feature path length, ε={p['epsilon']}"]
        )
    return rows


def write_report(metrics: dict, out: str | Path) -> Path:
    """Write `report.md` from the metrics dict produced by `alae_hf.evaluate.evaluate`."""
    lines = [
        f"# Evaluation of `{metrics['model']}`",
        "",
        f"Data: `{metrics['data']}`; device {metrics['device']}; {metrics['seconds']:.0f} s. "
        f"Sizes: {metrics['sizes']}.",
        "",
    ]
    if metrics.get("timings_s"):
        lines += [f"Time per stage (s): {metrics['timings_s']}.", ""]
    lines += ["## Summary", ""]
    lines += _table(["metric", "value", "floor / ideal", "meaning"], _summary_rows(metrics)) + [""]
    lines += _factor_sections(metrics)
    lines += _direction_sections(metrics)
    lines += (
        ["## Skipped or approximated", ""] + [f"- {s}" for s in metrics.get("notes", [])] + [""]
    )
    lines += (
        ["## Figures", ""] + [f"- `{f}`: {d}" for f, d in metrics.get("figures", {}).items()] + [""]
    )
    path = Path(out) / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _factor_sections(m: dict) -> list[str]:
    lines: list[str] = []
    rec = m.get("reconstruction", {})
    if "agreement" in rec:
        lines += [
            "## Reconstruction: factor agreement between x and G(E(x))",
            "",
            "Attribute-net predictions on originals vs reconstructions. 'net on x vs truth' is the "
            "ceiling (the attribute net's own error on real images).",
            "",
        ]
        rows = []
        for name, a in rec["agreement"].items():
            truth = rec.get("vs_labels", {})
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
        lines += _table(
            ["factor", "score", "x vs G(E(x))", "G(E(x)) vs truth", "net on x vs truth"], rows
        ) + [""]
    sep = m.get("separability", {})
    if sep:
        lines += [
            "## Linear separability per factor (2^H(Y|X); 1 = perfectly linear, chance in brackets)",
            "",
            "w_real: E(x) of held-out faces with exact labels (colour factors are linear in pixels, so even "
            "an untrained E separates them); z/w_generated: samples labelled by the attribute net, 50% most "
            "confident kept per task (StyleGAN §4.2). A factor the net never predicts varies has chance 1.",
            "",
        ]
        names = list(next(iter(sep.values()))["factors"])
        rows = [
            [n]
            + [
                f"{s['factors'][n]['separability']:.3g} ({2 ** s['factors'][n]['chance_bits']:.3g})"
                for s in sep.values()
            ]
            for n in names
        ]
        lines += _table(["factor"] + list(sep), rows) + [""]
    return lines


def _direction_sections(m: dict) -> list[str]:
    lines: list[str] = []
    for method, d in m.get("directions", {}).items():
        lines += [
            f"## {method} directions ↔ factors",
            "",
            f"Change of each factor per +1σ along a direction (layers {d['layers']}), from "
            f"{d['num_samples']} samples; heatmap `{d['figure']}`. Isolation = max_j|r_kj| / Σ_j|r_kj| "
            f"(1 = one factor, {1 / len(d['factors']):.2f} = evenly spread).",
            "",
        ]
        rows = [
            [k, d["sigma"][i], d["dominant"][i], d["isolation"][i], d["total_response"][i]]
            for i, k in enumerate(d["indices"])
        ]
        lines += _table(["direction", "σ", "dominant factor", "isolation", "Σ_j |r_kj|"], rows) + [
            ""
        ]
    best = m.get("best_direction_per_factor")
    if best:
        lines += ["## Best direction per factor", ""]
        rows = [
            [f, b["method"], b["direction"], b["response"], b["isolation"]] for f, b in best.items()
        ]
        lines += _table(
            ["factor", "method", "direction", "|response| per σ", "its isolation"], rows
        ) + [""]
    return lines
