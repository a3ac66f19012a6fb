"""Training throughput of alae_hf (and, optionally, the official code) — a benchmark, not a test.

Times one full ALAE iteration (E+D step with R1, F+G step, latent reciprocity step, EMA) and each
phase alone (forward + backward + optimizer step), exactly as the trainer runs them
(`alae_hf.training.step`, the official LREQAdam), and the cost of the iteration's non-finite guard
(`rollback_capture_ms`: one copy of weights and optimizer state) for the official configs at the batch sizes of
the official code's H100 measurements (bench/NOTES.md), in fp32 and under bf16 autocast, at the full level of
detail with noise on. Counts FLOPs with torch.utils.flop_counter (2 x multiply-adds, backward and
R1's double backward included) and reports utilisation against a peak (--peak_tflops, or a
measured dense matmul rate).

    python bench/train_throughput.py --device cuda                   # mnist, celeba-hq256, ffhq
    python bench/train_throughput.py --device cpu --configs tiny      # sanity run
    ALAE_OFFICIAL_SRC=/path/to/ALAE PYTHONPATH=/path/to/ALAE python bench/train_throughput.py  # also time the official iteration

Writes bench/results/train_throughput_<device>.json and prints a table last.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from common import matmul_peak, official_train_step, timed  # noqa: E402

from alae_hf import StyleALAE, preset  # noqa: E402
from alae_hf.training.ema import EMA  # noqa: E402
from alae_hf.training.optim import make_optimizers  # noqa: E402
from alae_hf.training.step import StepContext, iteration, phases, run_phase  # noqa: E402

CONFIGS = {  # name -> (preset, overrides, batch as in the H100 anchor)
    "mnist": ("mnist", {}, 128),
    "celeba-hq256": ("celeba-hq256", {}, 32),
    "ffhq": ("ffhq", {}, 16),
    "tiny": ("celeba-hq256", dict(resolution=32, start_channels=16, max_channels=64, latent_size=32,
                                  mapping_layers=2), 8),
}
PRECISIONS = ("fp32", "bf16")
PHASES = ("d_step", "g_step", "ae_step")


def build(name: str, device: torch.device) -> StyleALAE:
    base, overrides, _ = CONFIGS[name]
    torch.manual_seed(0)
    return StyleALAE(**preset(base, **overrides).to_dict()).to(device).train()


def alae_steps(model: StyleALAE, batch: int, precision: str, device: torch.device) -> dict:
    """Closures for the three phases and the full iteration: the library's own step
    (`alae_hf.training.step`, what train_accelerate.py runs), single process."""
    lod, blend, res = model.arch.max_lod, 1.0, model.arch.resolution
    reals = torch.rand(batch, model.arch.channels, res, res, device=device) * 2 - 1
    rng, host = torch.Generator(device).manual_seed(0), torch.Generator().manual_seed(0)
    bf16 = precision == "bf16"
    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if bf16 else contextlib.nullcontext
    ctx = StepContext(model, make_optimizers(model, 0.0015), rng, host, torch.amp.GradScaler(device.type, enabled=False),
                      autocast=autocast)
    ema = EMA(model)
    steps = {phase.name: (lambda phase=phase: run_phase(ctx, phase)) for phase in phases(ctx, reals, lod, blend)}

    def one_iteration():
        iteration(ctx, reals, lod, blend)
        ema.update(model, batch)

    # the non-finite guard's copy of weights and optimizer state, part of every iteration
    guard = lambda: ctx.rollback.capture(model, ctx.optimizers)  # noqa: E731
    return {**steps, "iteration": one_iteration, "rollback_capture": guard}


class FlopCount(TorchDispatchMode):
    """FLOPs by torch.utils.flop_counter's per-op formulas, without FlopCounterMode's module
    hooks (they reject the autograd.grad call of R1 with create_graph)."""

    def __init__(self) -> None:
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func._overloadpacket in flop_registry:
            self.flops += flop_registry[func._overloadpacket](*args, **kwargs, out_val=out)
        return out


def gflops(fn) -> float:
    with FlopCount() as counter:
        fn()
    return counter.flops / 1e9


def official_iteration(name: str, batch: int, device: torch.device):
    """One official train_alae.py iteration (LREQAdam, three steps) as a closure, or None
    (`common.official_train_step`, the same closure bench/suite.py times)."""
    return official_train_step(build(name, torch.device("cpu")).arch, batch, device)


def measure(name: str, precision: str, args: argparse.Namespace, device: torch.device, peak: float) -> dict:
    batch = args.batch or CONFIGS[name][2]
    model = build(name, device)
    steps = alae_steps(model, batch, precision, device)
    row = dict(config=name, precision=precision, batch=batch, resolution=model.arch.resolution,
               params_m=sum(p.numel() for p in model.parameters()) / 1e6)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    for key in PHASES + ("iteration",):
        seconds = timed(steps[key], device, args.warmup, args.min_time, args.max_reps, min_reps=2)
        flops = gflops(steps[key]) / batch
        row[f"{key}_img_s"] = batch / seconds
        row[f"{key}_gflop_per_img"] = flops
        row[f"{key}_util"] = flops * batch / seconds / 1e3 / peak
    seconds = timed(steps["rollback_capture"], device, args.warmup, args.min_time, args.max_reps, min_reps=2)
    row["rollback_capture_ms"] = seconds * 1e3
    row["rollback_share"] = seconds * row["iteration_img_s"] / batch  # of one iteration's time
    if device.type == "cuda":
        row["peak_mem_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
    return row


def add_official(rows: list[dict], args: argparse.Namespace, device: torch.device) -> None:
    if not os.environ.get("ALAE_OFFICIAL_SRC"):
        return
    for name in args.configs:
        batch = args.batch or CONFIGS[name][2]
        try:
            step = official_iteration(name, batch, device)
            rate = batch / timed(step, device, 1, args.min_time, max(2, args.max_reps // 5), min_reps=2)
        except Exception as err:  # noqa: BLE001 - report, do not abort the benchmark
            print(f"official {name}: {type(err).__name__}: {err}", flush=True)
            continue
        finally:
            if device.type == "cuda":
                torch.set_default_tensor_type("torch.FloatTensor")
        for row in rows:
            if row["config"] == name:
                row["official_iteration_img_s"] = rate
                row["iteration_speedup"] = row["iteration_img_s"] / rate


def table(head: dict, rows: list[dict]) -> str:
    lines = [f"device: {head['device']}  peak {head['peak_tflops']:.3g} TFLOP/s ({head['peak_source']})  "
             f"torch {head['torch']}",
             f"{'config':13s} {'prec':5s} {'batch':>5s} {'GFLOP/img':>9s} {'iter img/s':>10s} {'util':>6s} "
             f"{'D img/s':>9s} {'G img/s':>9s} {'AE img/s':>9s} {'official':>9s} {'speedup':>8s}"]
    for r in rows:
        official = f"{r['official_iteration_img_s']:9.2f}" if "official_iteration_img_s" in r else f"{'-':>9s}"
        speedup = f"{r['iteration_speedup']:8.2f}" if "iteration_speedup" in r else f"{'-':>8s}"
        lines.append(f"{r['config']:13s} {r['precision']:5s} {r['batch']:5d} {r['iteration_gflop_per_img']:9.2f} "
                     f"{r['iteration_img_s']:10.2f} {r['iteration_util']:6.1%} {r['d_step_img_s']:9.2f} "
                     f"{r['g_step_img_s']:9.2f} {r['ae_step_img_s']:9.2f} {official} {speedup}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--configs", nargs="+", default=["mnist", "celeba-hq256", "ffhq"], choices=sorted(CONFIGS))
    parser.add_argument("--precisions", nargs="+", default=list(PRECISIONS), choices=PRECISIONS)
    parser.add_argument("--batch", type=int, default=None, help="override the per-config batch")
    parser.add_argument("--peak_tflops", type=float, default=None, help="default: measured matmul rate")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--min_time", type=float, default=2.0, help="seconds timed per measurement (at least 2 reps)")
    parser.add_argument("--max_reps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    peak = args.peak_tflops or matmul_peak(device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    head = dict(device=name, peak_tflops=peak, peak_source="given" if args.peak_tflops else "measured matmul",
                torch=torch.__version__)
    rows = []
    for config in args.configs:
        for precision in args.precisions:
            rows.append(measure(config, precision, args, device, peak))
            print(json.dumps(rows[-1]), flush=True)
    add_official(rows, args, device)
    out = Path(args.out or Path(__file__).parent / "results" / f"train_throughput_{device.type}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([head] + rows, indent=1))
    print(table(head, rows))


if __name__ == "__main__":
    main()
