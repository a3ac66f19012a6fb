"""Encoder-only vs encoder-initialised inversion (`alae_hf.editing.invert`) on the bundled default.

    python bench/inversion.py                       # writes bench/results/inversion.json
    python bench/inversion.py --faces 8 --steps 0 50 --timing-images 1 --out /tmp/inv.json

Images:
- held-out synthetic faces: indices L, L+1, ... of the training spec `synthetic:faces` (L = its
  length, 70,000), the same held-out rule as `alae_hf.evaluation.evaluate`;
- real photos shipped inside installed pip packages (no download): scikit-learn's
  `datasets/images/{china,flower}.jpg` and gradio's `media_assets/images/*.jp*g` (cheetah,
  lion, tower, groot) when gradio is installed; centre-cropped and box-resized to 64 px.

Quality (PSNR on uint8 images and per-factor agreement, both from
`alae_hf.evaluation.metrics.reconstruction_metrics`) is measured on one batched call per step
count: `invert` treats every image independently (tests/test_inversion.py checks it), so
batching changes the time, not the result. Time per image is measured separately on single
images (batch 1, as the app runs), with 1 and then 2 torch threads. Reconstructions are decoded
without noise (deterministic), so the encoder-only PSNR is higher than the evaluation report's
(which decodes with noise on, as the official demos do).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
from alae_hf import StyleALAE  # noqa: E402
from alae_hf.editing.inversion import invert  # noqa: E402
from alae_hf.evaluation.attributes import load_attribute_net  # noqa: E402
from alae_hf.evaluation.evaluate import synthetic_real  # noqa: E402
from alae_hf.evaluation.metrics import reconstruction_metrics, to_uint8  # noqa: E402
from alae_hf.imaging import to_model_tensor  # noqa: E402

DEFAULT_MODEL = ROOT / "checkpoints" / "alae-synthetic-faces-64"
HELDOUT_START = 70_000  # length of the default's training spec `synthetic:faces`


def package_photos() -> list[tuple[str, Path]]:
    """(name, path) of real photos that installed packages ship."""
    found = []
    for package, folder, pattern in (("sklearn", "datasets/images", "*.jpg"),
                                     ("gradio", "media_assets/images", "*.jp*g")):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        base = Path(list(spec.submodule_search_locations)[0]) / folder
        found += [(f"{package}/{p.name}", p) for p in sorted(base.glob(pattern))]
    return found


def quality(model, net, x: torch.Tensor, steps: list[int], labels=None, **kw) -> dict:
    originals = to_uint8(x)
    out = {}
    for n in steps:
        r = invert(model, x, steps=n, feature_net=net, **kw)
        m = reconstruction_metrics(net, originals, to_uint8(r.reconstruction), labels)
        out[str(n)] = {"psnr": m["psnr"], "psnr_per_image": r.psnr_after, "agreement": m["agreement"],
                       "final_loss": r.losses[-1], "loss_curve": r.losses[:: max(1, n // 25)]}
        if labels is not None:
            out[str(n)]["vs_labels"] = m["vs_labels"]["reconstruction"]
    return out


def timing(model, net, x: torch.Tensor, steps: list[int], threads: int, **kw) -> dict:
    torch.set_num_threads(threads)
    invert(model, x[:1], steps=2, feature_net=net, **kw)  # warm-up
    out = {}
    for n in steps:
        times, cpu = [], []
        for i in range(x.shape[0]):
            start, start_cpu = time.perf_counter(), time.process_time()
            invert(model, x[i:i + 1], steps=n, feature_net=net, **kw)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        # CPU seconds / threads approximates the wall time on an idle machine (the load only
        # adds waiting); both are kept.
        out[str(n)] = {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
                       "median_cpu_s": statistics.median(cpu), "images": len(times),
                       "load_average_1min": os.getloadavg()[0]}
    return out


def summary(agreement: dict) -> dict:
    """Mean categorical accuracy and mean continuous Pearson r over the factors."""
    acc = [v["accuracy"] for v in agreement.values() if "accuracy" in v]
    r = [v["pearson"] for v in agreement.values() if "pearson" in v]
    return {"mean_accuracy": float(np.mean(acc)), "mean_pearson": float(np.mean(r))}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=str(DEFAULT_MODEL))
    p.add_argument("--faces", type=int, default=32, help="held-out synthetic faces for quality")
    p.add_argument("--steps", type=int, nargs="+", default=[0, 25, 50, 100])
    p.add_argument("--timing-steps", type=int, nargs="+", default=[0, 25, 50, 100])
    p.add_argument("--timing-images", type=int, default=3, help="single-image runs per step count and thread count")
    p.add_argument("--threads", type=int, nargs="*", default=[1, 2], help="none: skip the timing")
    p.add_argument("--skip-quality", action="store_true", help="timing only")
    p.add_argument("--space", default="w+")
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--feature-weight", type=float, default=None)
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "inversion.json"))
    args = p.parse_args(argv)

    torch.set_num_threads(1)
    model = StyleALAE.from_pretrained(args.model).eval()
    net = load_attribute_net()
    kw = {"space": args.space}
    kw.update({"lr": args.lr} if args.lr is not None else {})
    kw.update({"feature_weight": args.feature_weight} if args.feature_weight is not None else {})

    faces, labels = synthetic_real("synthetic:faces", model.arch.resolution, HELDOUT_START, args.faces)
    x_faces = torch.from_numpy(faces).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    photos = package_photos()
    x_photos = torch.cat([to_model_tensor(path, model.arch.resolution) for _, path in photos])

    start, load_start = time.time(), os.getloadavg()
    result = {
        "model": Path(args.model).name, "settings": {**kw, "lr": kw.get("lr", "default"),
                                                       "feature_weight": kw.get("feature_weight", "default")},
        "data": {"faces": f"synthetic:faces held-out indices {HELDOUT_START}..{HELDOUT_START + args.faces - 1}",
                 "photos": [name for name, _ in photos]},
        "quality": {} if args.skip_quality else {"faces": quality(model, net, x_faces, args.steps, labels, **kw),
                                                  "photos": quality(model, net, x_photos, args.steps, **kw)},
    }
    result["timing"] = {f"{t}_threads": timing(model, net, x_faces[:args.timing_images], args.timing_steps, t, **kw)
                        for t in args.threads}
    result["load_average_1_5_15_at_start"] = load_start
    result["machine"] = {"cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
                         "torch": torch.__version__, "load_average_1_5_15_at_end": os.getloadavg(),
                         "note": "shared 2-core machine with other jobs running: wall times are under load; "
                                 "median_cpu_s is the process's CPU time"}
    result["seconds"] = round(time.time() - start, 1)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print_table(result)
    return result


def print_table(result: dict) -> None:
    print(f"settings: {result['settings']}")
    print(f"{'set':7} {'steps':>5} {'PSNR dB':>8} {'gain':>6} {'acc':>6} {'pearson':>7}")
    for name, rows in result["quality"].items():
        base = rows[next(iter(rows))]["psnr"]
        for n, row in rows.items():
            s = summary(row["agreement"])
            print(f"{name:7} {n:>5} {row['psnr']:8.2f} {row['psnr'] - base:+6.2f} {s['mean_accuracy']:6.3f} "
                  f"{s['mean_pearson']:7.3f}")
    for threads, rows in result["timing"].items():
        print(f"time per image, {threads} (wall / CPU): "
              + ", ".join(f"{n} steps {v['median_s']:.2f} / {v['median_cpu_s']:.2f} s" for n, v in rows.items()))


if __name__ == "__main__":
    main()
