"""Recipe learning curves on a CPU: short runs of `train_accelerate.py` that differ in one choice,
each checkpoint's EMA model scored on a small evaluation.

    # one run (extra arguments go to train_accelerate.py)
    python tools/recipe_sweep.py train --name base --root RUNS -- --max_train_kimg 12.8 --learning_rate 0.002
    # score every checkpoint of every run, then write the table
    python tools/recipe_sweep.py eval --root RUNS
    python tools/recipe_sweep.py table --root RUNS --out bench/results/recipe_32px.json

Scores per checkpoint (EMA weights, `alae_hf.evaluation` functions, fixed seeds, held-out
synthetic faces): FD in attribute-net features (generated vs real, `--num-samples` each, and the
real-vs-real floor at the same size), reconstruction PSNR of G(E(x)) on `--num-real` faces, and
latent reciprocity ‖w − E(G(w))‖ / ‖w − w̄‖. Small sizes make FD biased upwards (the floor says
by how much); compare runs at the same size only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

BASE_ARGS = ["--train_data_dir", "synthetic:faces", "--preset", "celeba-hq256", "--resolution", "32",
             "--start_channels", "16", "--max_channels", "128", "--latent_size", "128", "--mapping_layers", "8",
             "--mixed_precision", "no", "--dataloader_num_workers", "0", "--report_to", "none", "--seed", "0"]


def train(name: str, root: Path, extra: list[str], trainer: Path, threads: int = 1, nice: int = 19) -> int:
    """Run `train_accelerate.py` as a user would, on `threads` threads at niceness `nice`, into
    root/name (resumable: pass `--resume_from_checkpoint latest` in `extra`)."""
    out = root / name
    out.mkdir(parents=True, exist_ok=True)
    args = BASE_ARGS + ["--output_dir", str(out)] + extra
    (out / "recipe.json").write_text(json.dumps({"name": name, "args": args}))
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    with open(out / "train.log", "a") as log:
        return subprocess.call(["nice", "-n", str(nice), sys.executable, str(trainer), *args], cwd=trainer.parent,
                               env=env, stdout=log, stderr=subprocess.STDOUT)


def score(model_dir: Path, num_samples: int, num_real: int, seed: int = 0) -> dict:
    """Small-size FD-attr, reconstruction PSNR and reciprocity of one saved model."""
    from alae_hf import StyleALAE
    from alae_hf.evaluation.attributes import load_attribute_net
    from alae_hf.evaluation.evaluate import synthetic_real
    from alae_hf.evaluation.metrics import (
        describe_images,
        encode_reconstruct,
        fd_features,
        generated_samples,
        latent_reciprocity,
    )

    model = StyleALAE.from_pretrained(model_dir).eval().requires_grad_(False)
    net = load_attribute_net()
    res, start = model.arch.resolution, 70_000
    real_a, _ = synthetic_real("synthetic:faces", res, start, num_samples)
    real_b, _ = synthetic_real("synthetic:faces", res, start + num_samples, num_samples)
    gen = generated_samples(model, net, num_samples, seed, 32, num_real, 32, False)
    feats_a, feats_b = describe_images(net, real_a)[0], describe_images(net, real_b)[0]
    _, recon = encode_reconstruct(model, real_a[:num_real], 32, seed, False)
    mse = float(np.mean((real_a[:num_real].astype(np.float64) / 255 - recon.astype(np.float64) / 255) ** 2))
    return {"fd_attr": fd_features(gen["features"], feats_a), "fd_floor": fd_features(feats_b, feats_a),
            "psnr": 10 * np.log10(1 / mse), "reciprocity": latent_reciprocity(gen["w"], gen["w_rec"])["relative"]}


def evaluate_root(root: Path, num_samples: int, num_real: int, min_gap: int = 0,
                  weights: tuple[str, ...] = ("ema",)) -> None:
    """Score every finished checkpoint not yet scored, skipping one less than `min_gap` images
    after the last scored one. Results in RUN/curve.json (EMA weights) and RUN/curve_model.json
    (live weights: with the official EMA half-life of 10k images, the EMA of a run shorter than
    a few half-lives still holds the low-resolution stages' weights)."""
    for run in sorted(p for p in root.iterdir() if (p / "recipe.json").exists()):
        for kind in weights:
            path = run / ("curve.json" if kind == "ema" else f"curve_{kind}.json")
            curve = json.loads(path.read_text()) if path.exists() else {}
            for ckpt in sorted(run.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1])):
                if ckpt.name in curve or not (ckpt / "COMPLETE").exists():
                    continue
                state = json.loads((ckpt / "training_state.json").read_text())
                seen = [e["images_seen"] for e in curve.values()]
                if seen and state["images_seen"] - max(seen) < min_gap:
                    continue
                t = time.time()
                entry = {"images_seen": state["images_seen"], "lod": state["lod"],
                         **score(ckpt / kind, num_samples, num_real)}
                entry["eval_seconds"] = round(time.time() - t, 1)
                curve[ckpt.name] = entry
                path.write_text(json.dumps(curve, indent=1))
                print(run.name, kind, ckpt.name, {k: round(float(v), 3) for k, v in entry.items()}, flush=True)


def settings(args: list[str]) -> str:
    """The run's own arguments, without the bookkeeping ones."""
    skip = {"--output_dir", "--max_train_kimg", "--checkpointing_steps"}
    keep, i = [], 0
    while i < len(args):
        if args[i] in skip:
            i += 2
            continue
        keep.append(args[i].lstrip("-"))
        i += 1
    return " ".join(keep)


def summary_table(runs: dict, points: tuple[int, ...] = (6400, 9600, 12800)) -> str:
    """One row per run: the EMA weights' FD at `points` and its mean over them (FD of one
    checkpoint is noisy), the EMA's PSNR and reciprocity averaged over the same points, and the
    live weights' mean FD."""
    head = " | ".join(f"FD {p / 1000:g}k" for p in points)
    lines = [f"| run | settings | {head} | FD mean | PSNR dB | reciprocity | live FD mean |",
             "|---|---|" + "---|" * (len(points) + 4)]

    def mean(curve: dict, key: str) -> str:
        values = [curve[p][key] for p in points if p in curve]
        return f"{np.mean(values):.{2 if key != 'fd_attr' else 0}f}" if values else "—"

    for name, r in runs.items():
        live = {e["images_seen"]: e for e in r["curve_live"]}
        ema = {e["images_seen"]: e for e in r["curve"]}
        fds = [f"{ema[p]['fd_attr']:.0f}" if p in ema else "—" for p in points]
        cells = [name, r["settings"], *fds, mean(ema, "fd_attr"), mean(ema, "psnr"), mean(ema, "reciprocity"),
                 mean(live, "fd_attr")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table(root: Path, out: Path, sizes: dict, points: tuple[int, ...]) -> None:
    runs = {}
    for run in sorted(p for p in root.iterdir() if (p / "curve.json").exists()):
        recipe = json.loads((run / "recipe.json").read_text())
        curves = {kind: sorted(json.loads((run / name).read_text()).values(), key=lambda e: e["images_seen"])
                  for kind, name in (("ema", "curve.json"), ("model", "curve_model.json")) if (run / name).exists()}
        args = recipe["args"][len(BASE_ARGS):]
        runs[run.name] = {"args": args, "settings": settings(args),
                          "curve": curves["ema"], "curve_live": curves.get("model", [])}
    text = summary_table(runs, points)
    out.write_text(json.dumps({"model": "32 px, start_channels 16, max_channels 128, latent 128, mapping 8, "
                                        "R1 10, Adam(0, 0.99), seed 0 unless given",
                               "eval_sizes": sizes, "table": text, "runs": runs}, indent=1) + "\n")
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--name", required=True)
    t.add_argument("--root", type=Path, required=True)
    t.add_argument("--trainer", type=Path, default=Path(__file__).resolve().parents[1] / "train_accelerate.py")
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--nice", type=int, default=19)
    t.add_argument("extra", nargs=argparse.REMAINDER)
    for name in ("eval", "table"):
        s = sub.add_parser(name)
        s.add_argument("--root", type=Path, required=True)
        s.add_argument("--num-samples", type=int, default=500)
        s.add_argument("--num-real", type=int, default=200)
        s.add_argument("--min-gap", type=int, default=0, help="eval: images between scored checkpoints")
        s.add_argument("--weights", nargs="+", default=["ema"], choices=("ema", "model"), help="eval: which to score")
        s.add_argument("--out", type=Path, default=Path("bench/results/recipe_32px.json"))
        s.add_argument("--points", type=int, nargs="+", default=[6400, 9600, 12800],
                       help="table: images seen at which to show FD (the last two are averaged)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.command == "train":
        extra = args.extra[1:] if args.extra[:1] == ["--"] else args.extra
        raise SystemExit(train(args.name, args.root, extra, args.trainer, args.threads, args.nice))
    if args.command == "eval":
        evaluate_root(args.root, args.num_samples, args.num_real, args.min_gap, tuple(args.weights))
    else:
        table(args.root, args.out, {"num_samples": args.num_samples, "num_real": args.num_real}, tuple(args.points))


if __name__ == "__main__":
    main()
