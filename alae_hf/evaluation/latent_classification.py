"""How useful is the latent space? Label classification from w vs raw pixels vs a plain autoencoder.

The ALAE paper's MNIST experiment (arXiv 2004.04467, Sec. 5; the MLP ALAE of the official
`configs/mnist_fc.yaml`) argues that E's w is a better representation than other autoencoders'
codes, measured by classifying digit labels from the codes. Here, on labelled images (a folder
with one sub-folder per class, or scikit-learn's digits; `alae_hf.datasets.labelled`): encode
the train and held-out images, fit on train, report held-out accuracy of

* k-NN (Euclidean, `k` neighbours) and
* a linear probe (multinomial logistic regression on standardised features),

for raw pixels (the model's input), w = E(x) of the ALAE, z = E(x) of a plain autoencoder with
the same E and G trained on pixel MSE with the same budget and optimizer
(`alae_hf.evaluation.plain_autoencoder`), and, as a control, an untrained E (random
projections already separate easy digits). Besides the table: held-out reconstruction MSE, and
how often a classifier fitted on pixels reads G(E(x)) as x's label (reconstructions that keep
the class). `learning_curve` scores every checkpoint of a training run the same way. The
classifiers, the data split and the scores are `alae_hf.evaluation.probes`.

    python -m alae_hf.evaluation.latent_classification --model checkpoints/alae-digits-mlp
    python -m alae_hf.evaluation.latent_classification --model MODEL --data mnist_png/ --out report/
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..datasets.labelled import read_labelled
from ..models.mlp_networks import FCEncoder
from .plain_autoencoder import BaselineRun, baseline
from .probes import (
    DEFAULT_K,
    Row,
    Split,
    classify,
    encode_all,
    fit_pixel_classifier,
    knn_accuracy,
    load_split,
    markdown_table,
    pixels,
    probe_accuracy,
    reconstruction_scores,
    to_model_input,
)

DEFAULT_SOURCE = "sklearn:digits"


def w_scores(model, data: Split, pixel_classifier, k: int = DEFAULT_K) -> dict[str, float]:
    """One learning-curve point: k-NN and probe accuracy on w, reconstruction MSE and label kept."""
    model = model.eval()
    w_train, w_test = encode_all(model.encode, data.x_train), encode_all(model.encode, data.x_test)
    return {
        "knn": knn_accuracy(w_train, data.y_train, w_test, data.y_test, k),
        "probe": probe_accuracy(w_train, data.y_train, w_test, data.y_test),
        **{
            f"reconstruction_{key}": v
            for key, v in reconstruction_scores(model.reconstruct, data, pixel_classifier).items()
        },
    }


def evaluate(
    model,
    data: Split,
    baseline_run: BaselineRun,
    baseline_x: torch.Tensor | None = None,
    baseline_folder: str | Path | None = None,
    k: int = DEFAULT_K,
) -> tuple[list[Row], dict[str, Any]]:
    """The table for an MLPALAE: raw pixels, ALAE w, the plain autoencoder (trained as `baseline_run`
    says on `baseline_x`, default the train images, or reused from `baseline_folder`), untrained E.
    Returns the rows and the details (sizes, reconstruction scores of both models, the baseline run)."""
    model = model.eval()
    ae, done = baseline(
        data.x_train if baseline_x is None else baseline_x,
        model.arch,
        baseline_run,
        baseline_folder,
    )
    w = [encode_all(model.encode, x) for x in (data.x_train, data.x_test)]
    z = [encode_all(ae.encode, x) for x in (data.x_train, data.x_test)]
    torch.manual_seed(baseline_run.seed)
    untrained = FCEncoder(model.arch).to(
        data.x_train.device
    )  # control: E's architecture before training
    u = [encode_all(untrained, x) for x in (data.x_train, data.x_test)]
    side = model.arch.resolution
    rows = [
        classify(
            f"raw pixels ({side}x{side})",
            pixels(data.x_train),
            data.y_train,
            pixels(data.x_test),
            data.y_test,
            k,
        ),
        classify("ALAE w = E(x)", w[0], data.y_train, w[1], data.y_test, k),
        classify(
            "plain autoencoder z = E(x) (MSE, same E/G, same budget)",
            z[0],
            data.y_train,
            z[1],
            data.y_test,
            k,
        ),
        classify("untrained E (random init), control", u[0], data.y_train, u[1], data.y_test, k),
    ]
    pixel_classifier = fit_pixel_classifier(data, k)
    details = dict(
        k=k,
        classes=list(data.classes),
        train_images=len(data.y_train),
        test_images=len(data.y_test),
        reconstruction={
            "alae": reconstruction_scores(model.reconstruct, data, pixel_classifier),
            "plain_autoencoder": reconstruction_scores(ae, data, pixel_classifier),
        },
        baseline=baseline_summary(done),
    )
    return rows, details


def baseline_summary(done: BaselineRun) -> dict[str, Any]:
    """What the report says of the plain autoencoder's training: its budget, time and final loss
    (the mean of its last 50 steps)."""
    return dict(
        images=done.images,
        steps=done.steps,
        batch_size=done.batch_size,
        learning_rate=done.learning_rate,
        seconds=done.seconds,
        final_loss=float(np.mean(done.losses[-50:])) if done.losses else None,
    )


def images_seen(model_folder: str | Path) -> int | None:
    """`images_seen` of a trainer's final output folder (training_summary.json) or of a checkpoint's
    (training_state.json), None for another folder or a Hub id."""
    folder = Path(model_folder)
    candidates = [folder / "training_summary.json", folder / "training_state.json"]
    if folder.name in ("ema", "model"):  # a checkpoint's copy of the model: the state is beside it
        candidates.append(folder.parent / "training_state.json")
    for state in candidates:
        if state.is_file():
            return json.loads(state.read_text(encoding="utf-8")).get("images_seen")
    return None


def checkpoint_models(run_dir: str | Path) -> list[tuple[int, Path]]:
    """(images seen, EMA model folder) of every complete checkpoint of a `train_accelerate.py` run,
    oldest first, plus the run's final model if it was written."""
    run_dir = Path(run_dir)
    found = []
    for folder in run_dir.glob("checkpoint-*"):
        state = folder / "training_state.json"
        if (folder / "COMPLETE").is_file() and state.is_file():
            found.append((json.loads(state.read_text())["images_seen"], folder / "ema"))
    images = images_seen(run_dir) if (run_dir / "config.json").is_file() else None
    if images is not None and images not in {i for i, _ in found}:
        found.append((images, run_dir))
    return sorted(found)


def learning_curve(
    run_dir: str | Path, data: Split, k: int = DEFAULT_K, every: int = 1
) -> list[dict[str, Any]]:
    """`w_scores` of every `every`-th checkpoint of a run (and its last), against images seen."""
    from ..models.loading import load

    models = checkpoint_models(run_dir)
    if not models:
        raise ValueError(f"{run_dir} holds no complete checkpoint-* folders or final model")
    chosen = models[::every] + ([models[-1]] if (len(models) - 1) % every else [])
    pixel_classifier = fit_pixel_classifier(data, k)
    return [
        {"images_seen": images, **w_scores(load(path), data, pixel_classifier, k)}
        for images, path in chosen
    ]


def curve_table(points: list[dict[str, Any]], k: int = DEFAULT_K) -> str:
    lines = [
        f"| images seen | {k}-NN on w | probe on w | reconstruction MSE | G(E(x)) keeps the label |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {p['images_seen']:,} | {100 * p['knn']:.1f}% | {100 * p['probe']:.1f}% | "
        f"{p['reconstruction_mse']:.3f} | {100 * p['reconstruction_label_kept']:.1f}% |"
        for p in points
    ]
    return "\n".join(lines)


# ---- the command line --------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Label classification from an MLP ALAE's w vs pixels vs a plain "
        "autoencoder, on held-out labelled images."
    )
    p.add_argument("--model", help="MLPALAE folder or Hub repo id (the table)")
    p.add_argument(
        "--curve",
        metavar="RUN_DIR",
        help="a train_accelerate.py output folder: score w and "
        "reconstructions of each checkpoint's EMA model against images seen (no baseline)",
    )
    p.add_argument(
        "--every", type=int, default=1, help="with --curve: every N-th checkpoint (and the last)"
    )
    p.add_argument(
        "--data",
        default=DEFAULT_SOURCE,
        help="a folder with one sub-folder of images per class "
        "(split 80/20, stratified, fixed seed) or sklearn:digits (its fixed split)",
    )
    p.add_argument(
        "--test_data",
        default=None,
        help="a labelled folder held out whole (then all of --data trains)",
    )
    add_baseline_arguments(p)
    p.add_argument("--k", type=int, default=DEFAULT_K)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument(
        "--out",
        default=None,
        help="folder for latent_classification.{md,json} (or learning_curve.*)",
    )
    return p


def add_baseline_arguments(p: argparse.ArgumentParser) -> None:
    """The plain autoencoder's options: its training images, where it is kept, its optimizer."""
    p.add_argument(
        "--baseline_images",
        type=int,
        default=None,
        help="images the plain autoencoder trains on "
        "(default: the model's own images_seen from its training_state.json, else 128000)",
    )
    p.add_argument(
        "--baseline_data",
        default=None,
        help="the plain autoencoder's training images, a folder or "
        "a data spec such as sklearn:digits:train (default: the --data train split); give the ALAE's",
    )
    p.add_argument(
        "--baseline_folder",
        default=None,
        help="reuse the plain autoencoder saved here, or save it here",
    )
    p.add_argument("--batch_size", type=int, default=128, help="the plain autoencoder's batch")
    p.add_argument(
        "--learning_rate", type=float, default=0.002, help="the plain autoencoder's (LREQAdam)"
    )
    p.add_argument("--seed", type=int, default=0)


def baseline_images_x(spec: str | None, resolution: int, channels: int) -> torch.Tensor | None:
    """The plain autoencoder's training images from a folder or data spec (None: the train split)."""
    if spec is None:
        return None
    from ..datasets.digits import digits_spec_images, is_digits_spec

    images = digits_spec_images(spec) if is_digits_spec(spec) else read_labelled(spec).images
    return to_model_input(images, resolution, channels)


def _write(out: str | None, stem: str, markdown: str, payload: Any) -> None:
    if out:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{stem}.md").write_text(markdown + "\n", encoding="utf-8")
        (folder / f"{stem}.json").write_text(json.dumps(payload, indent=2), encoding="utf-8")


def _run(args: argparse.Namespace) -> tuple[str, str, Any]:
    """The table or the learning curve the arguments ask for: (file stem, markdown, JSON payload)."""
    from ..models.mlp import MLPALAE

    if (args.model is None) == (args.curve is None):
        raise ValueError(
            "give --model (the table) or --curve RUN_DIR (the learning curve), one of them"
        )
    if args.k < 1 or args.every < 1 or args.batch_size < 1:
        raise ValueError("--k, --every and --batch_size must be >= 1")
    models = checkpoint_models(args.curve) if args.curve else [(None, args.model)]
    if not models:
        raise ValueError(f"{args.curve} holds no complete checkpoint-* folders or final model")
    model = MLPALAE.from_pretrained(models[-1][1])  # another class's folder: a ValueError naming it
    res, ch = model.arch.resolution, model.arch.channels
    data = load_split(args.data, res, ch, args.test_data)
    if args.curve:
        points = learning_curve(args.curve, data, args.k, args.every)
        return (
            "learning_curve",
            curve_table(points, args.k),
            dict(k=args.k, data=args.data, points=points),
        )
    total = args.baseline_images or images_seen(args.model) or 128_000
    run = BaselineRun(-(-total // args.batch_size), args.batch_size, args.learning_rate, args.seed)
    rows, details = evaluate(
        model,
        data,
        run,
        baseline_images_x(args.baseline_data, res, ch),
        args.baseline_folder,
        args.k,
    )
    return (
        "latent_classification",
        markdown_table(rows, args.k),
        dict(rows=[r.__dict__ for r in rows], **details),
    )


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        stem, markdown, payload = _run(args)
    except (OSError, ValueError) as err:
        sys.exit(f"error: {err}")
    print(markdown)
    if stem == "latent_classification":
        rec = payload["reconstruction"]
        print(
            "\nheld-out reconstruction (MSE in [-1, 1]; label kept by a pixel classifier): "
            + "; ".join(
                f"{name} {r['mse']:.3f}, {100 * r['label_kept']:.1f}%" for name, r in rec.items()
            )
        )
    _write(args.out, stem, markdown, payload)


if __name__ == "__main__":
    main()
