"""Figures of a training run, drawn with PIL (no plotting library): the logged losses
(`losses.png`, written by every run at each checkpoint and at its end) and a learning curve
(metrics vs images seen; `tools/make_default.py` draws the bundled default's)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

LOSS_TAGS = ("loss_d", "loss_g", "loss_ae")


def panel(
    title: str,
    points: list[tuple[int, float]],
    size: tuple[int, int] = (360, 240),
    raw: bool = False,
) -> Image.Image:
    """A line plot; GAN losses are clipped to their 1st-99th percentile and smoothed, `raw`
    points are not."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    steps = [s for s, _ in points]
    values = sorted(v for _, v in points)
    low, high = (
        (values[0], values[-1])
        if raw
        else (values[int(0.01 * len(values))], values[int(0.99 * (len(values) - 1))])
    )
    span_s, span_v = max(steps[-1] - steps[0], 1), max(high - low, 1e-9)

    def to_xy(s: float, v: float) -> tuple[float, float]:
        v = min(max(v, low), high)
        return (
            40 + (s - steps[0]) / span_s * (size[0] - 50),
            size[1] - 30 - (v - low) / span_v * (size[1] - 60),
        )

    window = 0 if raw else max(1, len(points) // 100)  # moving average: GAN losses are noisy
    smooth = [
        sum(v for _, v in points[max(0, i - window) : i + 1])
        / len(points[max(0, i - window) : i + 1])
        for i in range(len(points))
    ]
    line = [to_xy(s, v) for (s, _), v in zip(points, smooth)]
    draw.line(line if len(line) > 1 else line * 2, fill=(30, 90, 200), width=2)
    draw.rectangle([40, 30, size[0] - 10, size[1] - 30], outline="grey")
    draw.text((45, 8), f"{title.split('/')[-1]}  (steps {steps[0]}-{steps[-1]})", fill="black")
    draw.text((2, 30), f"{high:.2f}", fill="black")
    draw.text((2, size[1] - 40), f"{low:.2f}", fill="black")
    return image


def side_by_side(panels: Sequence[Image.Image], path: Path) -> None:
    figure = Image.new("RGB", (sum(p.width for p in panels), panels[0].height), "white")
    for i, part in enumerate(panels):
        figure.paste(part, (i * part.width, 0))
    figure.save(path)


def logged_losses(run_folder: Path) -> dict[str, list[tuple[int, float]]]:
    """The losses a run logged to TensorBoard (`--report_to tensorboard`, the default) under
    `run_folder/logs`, by tag; empty without logs or without the tensorboard package."""
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        return {}
    files = sorted(Path(run_folder).glob("logs/**/events.out.tfevents.*"))
    if not files:
        return {}
    acc = EventAccumulator(str(files[-1].parent))
    acc.Reload()
    tags = [t for t in acc.Tags()["scalars"] if t.split("/")[-1] in LOSS_TAGS]
    return {t: [(e.step, e.value) for e in acc.Scalars(t)] for t in tags}


def loss_curves(run_folder: Path, path: Path) -> bool:
    """Plot the run's logged losses into `path`, one panel per loss; False if none are logged."""
    losses = {t: p for t, p in logged_losses(run_folder).items() if p}
    if not losses:
        return False
    side_by_side([panel(t, p) for t, p in losses.items()], path)
    return True


def learning_curve(curve: list[dict], path: Path) -> None:
    """FD-attr, reconstruction PSNR and reciprocity vs images seen, side by side."""
    keys = ("fd_attr", "psnr", "reciprocity")
    points = {k: [(e["images_seen"], e[k]) for e in curve] for k in keys}
    side_by_side([panel(f"{k} vs images seen", points[k], raw=True) for k in keys], path)
