"""Assemble the bundled default checkpoint from a trained EMA folder.

    python tools/make_default.py --source RUN/checkpoint-N/ema --run RUN --out checkpoints/alae-synthetic-faces-64

Copies the weights, precomputes SeFa (all / coarse / middle / fine) and GANSpace directions into
`directions/`, runs `alae_hf.evaluation.evaluate` into `report/`, draws a sample grid and the training loss
curves, and writes the model card (YAML metadata + the evaluation report).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from alae_hf import StyleALAE
from alae_hf.card import model_card
from alae_hf.editing.edits import ganspace, sefa
from alae_hf.evaluation.evaluate import EvalSizes, evaluate
from alae_hf.imaging import make_grid, tensor_to_pil


def directions(model: StyleALAE, out: Path, ganspace_samples: int) -> list[str]:
    names = []
    for spec in ("all", "coarse", "middle", "fine"):
        name = "sefa" if spec == "all" else f"sefa_{spec}"
        sefa(model, layers=spec).save(out, name)
        names.append(name)
    ganspace(model, n_samples=ganspace_samples, n_components=64, seed=0).save(out, "ganspace")
    return names + ["ganspace"]


def loss_curves(run: Path, path: Path) -> bool:
    """Plot the logged losses (TensorBoard scalars) with PIL; False if no logs are found."""
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        return False
    files = sorted(run.glob("logs/**/events.out.tfevents.*"))
    if not files:
        return False
    acc = EventAccumulator(str(files[-1].parent))
    acc.Reload()
    tags = [t for t in acc.Tags()["scalars"] if t.split("/")[-1] in ("loss_d", "loss_g", "loss_ae")]
    panels = [_panel(t, [(e.step, e.value) for e in acc.Scalars(t)]) for t in tags]
    if not panels:
        return False
    figure = Image.new("RGB", (sum(p.width for p in panels), panels[0].height), "white")
    for i, panel in enumerate(panels):
        figure.paste(panel, (i * panel.width, 0))
    figure.save(path)
    return True


def _panel(title: str, points: list[tuple[int, float]], size: tuple[int, int] = (360, 240)) -> Image.Image:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    steps = [s for s, _ in points]
    values = sorted(v for _, v in points)
    low, high = values[int(0.01 * len(values))], values[int(0.99 * (len(values) - 1))]  # clip outliers
    span_s, span_v = max(steps[-1] - steps[0], 1), max(high - low, 1e-9)
    to_xy = lambda s, v: (40 + (s - steps[0]) / span_s * (size[0] - 50),  # noqa: E731
                          size[1] - 30 - (min(max(v, low), high) - low) / span_v * (size[1] - 60))
    window = max(1, len(points) // 100)  # moving average: GAN losses are noisy
    smooth = [sum(v for _, v in points[max(0, i - window):i + 1]) / len(points[max(0, i - window):i + 1])
              for i in range(len(points))]
    draw.line([to_xy(s, v) for (s, _), v in zip(points, smooth)], fill=(30, 90, 200), width=2)
    draw.rectangle([40, 30, size[0] - 10, size[1] - 30], outline="grey")
    draw.text((45, 8), f"{title.split('/')[-1]}  (steps {steps[0]}-{steps[-1]})", fill="black")
    draw.text((2, 30), f"{high:.2f}", fill="black")
    draw.text((2, size[1] - 40), f"{low:.2f}", fill="black")
    return image


def card(model: StyleALAE, out: Path, run: Path, names: list[str], has_curves: bool) -> str:
    state = json.loads((run / "training_state.json").read_text()) if (run / "training_state.json").exists() else {}
    report = (out / "report" / "report.md").read_text()
    report = report.replace("](", "](report/")  # figure links relative to the model folder
    training = f"""
## Training

Trained with `train_accelerate.py` on `synthetic:faces` (procedural faces with 10 known factors,
`alae_hf.datasets.synthetic_faces`) on a 2-core CPU, progressive growing from 4 px (6 kimg per
level, 3 kimg fade-in), batch 32, Adam(0, 0.99) lr 0.002, R1 γ = 10, style mixing 0.9, EMA
half-life 10k images. Images seen: {state.get('images_seen', 'see training_state.json')}.
**This is a CPU interim model**: far fewer images than a GAN needs, so samples are blurry
compared with the data; it exists so the app and the measurements work offline.

![samples](samples.png)
{"![losses](losses.png)" if has_curves else ""}

Precomputed directions in `directions/`: {", ".join(f"`{n}`" for n in names)}.

## Evaluation (`python -m alae_hf.evaluation.evaluate --model . --out report`)

{report}
"""
    return model_card(model.arch, title="StyleALAE — synthetic faces 64 px (alae_hf default)",
                      description="The default checkpoint bundled with alae_hf: a StyleALAE trained on procedural "
                                  "cartoon faces whose generative factors are known, so edits can be measured.",
                      license="apache-2.0", extra_sections=training)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="save_pretrained folder of the EMA model")
    parser.add_argument("--run", required=True, help="the training output_dir (logs, training state)")
    parser.add_argument("--out", default="checkpoints/alae-synthetic-faces-64")
    parser.add_argument("--ganspace-samples", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="tiny sample counts (a smoke test of this script)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out, run = Path(args.out), Path(args.run)
    if out.exists():
        shutil.rmtree(out)
    model = StyleALAE.from_pretrained(args.source).eval()
    model.save_pretrained(out)
    state = Path(args.source).parent / "training_state.json"
    if state.exists():
        shutil.copy(state, out / "training_state.json")
    names = directions(model, out, 5_000 if args.quick else args.ganspace_samples)
    make_grid(tensor_to_pil(model.sample(32, seed=0)), columns=8).save(out / "samples.png")
    has_curves = loss_curves(run, out / "losses.png")
    sizes = EvalSizes(num_samples=200, num_real=200, num_reciprocity=50, num_ppl=50, num_response=8,
                      ganspace_samples=2_000) if args.quick else EvalSizes()
    evaluate(str(out), out / "report", sizes=sizes)
    (out / "README.md").write_text(card(model, out, out, names, has_curves))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
