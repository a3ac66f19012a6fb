"""Make the bundled MLP ALAE on handwritten digits (`checkpoints/alae-digits-mlp`) with the trainer
and the library's evaluation: a thin driver, no training loop or metric of its own.

    # 1. train: exactly `train_accelerate.py --architecture mlp --train_data_dir sklearn:digits:train ...`
    OMP_NUM_THREADS=1 python tools/make_digits_default.py train --output_dir runs/digits --max_train_minutes 100
    # (continue a run that stopped on time: the same command with --resume_from_checkpoint latest)
    # 2. assemble: weights (fp16), report/ (samples, reconstructions, interpolations, the
    #    latent-classification table and learning curve of alae_hf.evaluation.latent_classification), card
    python tools/make_digits_default.py assemble --run runs/digits --baseline_folder runs/digits-ae \\
        --out checkpoints/alae-digits-mlp

`assemble` ships the run's final EMA model, or the checkpoint `--step` names; `card --notes FILE`
rewrites the card of an assembled folder (the findings are written by a person, from the report).
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
from pathlib import Path

import torch

import alae_hf
import alae_hf.models.card
from alae_hf.datasets.digits import digits
from alae_hf.evaluation import latent_classification as lc
from alae_hf.evaluation.probes import to_model_input
from alae_hf.imaging import make_grid, tensor_to_pil
from alae_hf.training.options import parse_config
from alae_hf.training.trainer import train

# The recipe of the bundled model: official configs/mnist_fc.yaml (architecture, LREQAdam, betas,
# batch 128, R1 gamma 10, EMA half-life 10k images) with the learning rate raised to 0.004
# (faster early progress in CPU-sized probes; see the card).
RECIPE = ["--architecture", "mlp", "--train_data_dir", "sklearn:digits:train", "--learning_rate", "0.004",
          "--checkpointing_steps", "400", "--report_to", "none"]
TITLE = "MLP ALAE — handwritten digits 32 px (alae_hf bundled example)"


def run_training(extra: list[str]) -> None:
    """The trainer with the recipe; later arguments win (e.g. --output_dir, --max_train_minutes)."""
    print("train_accelerate.py " + " ".join(RECIPE + extra), flush=True)
    train(parse_config(RECIPE + extra))


def chosen_model(run: Path, step: int | None) -> Path:
    """The EMA model of checkpoint-<step>, or the run's final (EMA) model."""
    folder = run / f"checkpoint-{step}" / "ema" if step else run
    if not (folder / "config.json").is_file():
        raise SystemExit(f"error: no model in {folder}")
    return folder


@torch.no_grad()
def figures(model, out: Path) -> None:
    """samples.png (64 seeds, no truncation), reconstructions.png (held-out digits over their G(E(x))),
    interpolations.png (w between encoded held-out digits, and between two seeds' w)."""
    make_grid(tensor_to_pil(model.sample(64, seed=0, truncation_psi=1.0)), columns=16).save(out / "samples.png")
    x = to_model_input(digits("test")[0][:64], model.arch.resolution, model.arch.channels)
    rec = model.reconstruct(x)
    rows = [im for i in range(0, 64, 16) for im in tensor_to_pil(x[i:i + 16]) + tensor_to_pil(rec[i:i + 16])]
    make_grid(rows, columns=16).save(out / "reconstructions.png")
    t = torch.linspace(0, 1, 10)[:, None]
    w = model.encode(x[:12])
    seeds = model.map(model.seed_latents(8, list(range(8))))
    ends = [(w[i], w[i + 1]) for i in range(0, 12, 2)] + [(seeds[i], seeds[i + 1]) for i in range(0, 8, 2)]
    strips = [tensor_to_pil(model.synthesize(torch.lerp(a[None], b[None], t))) for a, b in ends]
    make_grid([im for strip in strips for im in strip], columns=10).save(out / "interpolations.png")


def evaluate(model_dir: Path, run: Path, report: Path, baseline_folder: str | None) -> None:
    """The library's table (baseline with the model's own images seen) and learning curve."""
    common = ["--data", "sklearn:digits", "--out", str(report)]
    lc.main(["--model", str(model_dir), *common] + (["--baseline_folder", baseline_folder] if baseline_folder else []))
    lc.main(["--curve", str(run), *common])


def assemble(args: argparse.Namespace) -> None:
    run, out = Path(args.run), Path(args.out)
    source = chosen_model(run, args.step)
    model = alae_hf.load(source).eval()
    images = lc.images_seen(source)
    out.mkdir(parents=True, exist_ok=True)
    copy.deepcopy(model).half().save_pretrained(out)  # fp16 file: half the size; loads into fp32
    config = json.loads((out / "config.json").read_text())
    config.pop("_name_or_path", None)  # where it was loaded from on this machine: nothing a user can open
    (out / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    (out / "training_summary.json").write_text(json.dumps(dict(images_seen=images, source=source.relative_to(run).as_posix(),
                                                               cpu_minutes=args.cpu_minutes), indent=1))
    report = out / "report"
    if report.exists():
        shutil.rmtree(report)
    report.mkdir()
    figures(alae_hf.load(out).eval(), report)  # what ships is what is measured: the fp16 weights
    evaluate(out, run, report, args.baseline_folder)
    write_card(out, args.notes)
    print(f"assembled {out} from {source} ({images:,} images)")


def write_card(out: Path, notes_file: str | None) -> None:
    """README.md from the folder's weights, training_summary.json and report/, plus the notes."""
    notes = Path(notes_file).read_text(encoding="utf-8") if notes_file else ""
    arch = alae_hf.load(out).arch
    card = alae_hf.models.card.mlp_model_card(arch, title=TITLE, extra_sections=card_sections(out, notes))
    (out / "README.md").write_text(card, encoding="utf-8")


def card_sections(out: Path, notes: str) -> str:
    """The card's training recipe, figures, table, learning curve and the notes on the paper's claim."""
    table = json.loads((out / "report" / "latent_classification.json").read_text())
    summary = json.loads((out / "training_summary.json").read_text())
    images, cpu_minutes = summary["images_seen"], summary.get("cpu_minutes")
    rec = table["reconstruction"]
    cpu = f", about {cpu_minutes:.0f} CPU-minutes of one thread" if cpu_minutes else ""
    kept = "; ".join(f"{name.replace('_', ' ')}: MSE {r['mse']:.3f}, label kept {100 * r['label_kept']:.1f}%"
                     for name, r in rec.items())
    md = (out / "report" / "latent_classification.md").read_text().strip()
    curve = (out / "report" / "learning_curve.md").read_text().strip()
    return f"""
## Training

Made by the project's trainer (the official LREQAdam, non-finite rollback, checkpoints):

```bash
python train_accelerate.py {" ".join(RECIPE)} --output_dir runs/digits
```

({images:,} images seen, {images / table["train_images"]:.0f} epochs of the {table["train_images"]:,} train
digits{cpu}; `tools/make_digits_default.py train` runs exactly this, `assemble` makes this folder.) The data are
scikit-learn's 8x8 handwritten digits upscaled into MNIST's 28x28 layout (`alae_hf.datasets.digits`),
not MNIST. Architecture and optimizer: official `configs/mnist_fc.yaml`, except the learning rate
(0.004 instead of 0.002) and `resize_mode="{alae_hf.load(out).arch.resize_mode}"` (see `alae_hf.models.mlp_networks`).
Weights are stored in fp16 (they load into fp32); the figures and the table are of these weights,
the learning curve of the run's fp32 checkpoints.

![samples](report/samples.png)

Samples (seeds 0-63, no truncation).

![reconstructions](report/reconstructions.png)

Held-out test digits (odd rows) and their reconstructions G(E(x)) (even rows).

![interpolations](report/interpolations.png)

Rows 1-6: G on the straight line in w between two encoded held-out digits; rows 7-10: between the w
of two seeds.

## Latent classification (held-out digits)

`python -m alae_hf.evaluation.latent_classification --model checkpoints/alae-digits-mlp`: fit on the
{table["train_images"]:,} train digits' codes, scored on the {table["test_images"]} held-out ones. The plain
autoencoder has the same E and G and is trained on pixel MSE with the same images seen
({table["baseline"]["images"]:,}), batch and optimizer; the untrained E is a control.

{md}

Held-out reconstructions ({kept}); "label kept" is how often the table's {table["k"]}-NN on the train
pixels reads G(E(x)) as x's label.

## Learning curve (this run's checkpoints, EMA weights)

{curve}

{notes}"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("train", help="train_accelerate.py with the recipe; other trainer arguments pass through")
    a = sub.add_parser("assemble", help="weights, report and learning curve from a finished run")
    a.add_argument("--run", required=True, help="the train run's --output_dir")
    a.add_argument("--step", type=int, default=None, help="ship checkpoint-<step>/ema (default: the final model)")
    a.add_argument("--out", default="checkpoints/alae-digits-mlp")
    a.add_argument("--baseline_folder", default=None, help="where the plain autoencoder is saved or reused")
    a.add_argument("--cpu_minutes", type=float, default=None, help="the run's CPU time, for the record")
    a.add_argument("--notes", default=None, help="a markdown file: the card's findings (what holds, what not)")
    c = sub.add_parser("card", help="rewrite README.md of an assembled folder (e.g. with new notes)")
    c.add_argument("--out", default="checkpoints/alae-digits-mlp")
    c.add_argument("--notes", default=None, help="a markdown file: the card's findings")
    args, extra = p.parse_known_args()
    if args.command == "train":
        return run_training(extra)
    if extra:
        p.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "card":
        return write_card(Path(args.out), args.notes)
    assemble(args)


if __name__ == "__main__":
    main()
