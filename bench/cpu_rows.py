"""The CPU rows of `bench/suite.py --device cpu` (without --quick): what training on a CPU costs.

Rows, each beside the official code in the same run when ALAE_OFFICIAL_SRC is set:

- trainer: the real trainer (`train_accelerate.py` as a user runs it: data, EMA, logs, rollback
  copy, checkpoint writes off) on `synthetic:faces` at the bundled default's architecture (64 px,
  S16/M128/Z128, mapping 8, full resolution, batch 32), all cores, `--r1_interval 16`, bf16 where
  the CPU has native bfloat16 (else fp32, said so), its rate from its own TensorBoard wall
  times after 3 warm-up steps over 16 more (so one R1 step in the window, as in 16 steps of the
  run); beside `step.iteration` at the same settings in this process.
- train: `step.iteration` at the same shape, fp32, R1 every step (the official algorithm), and
  with lazy R1 (k = 16), beside the official `train_alae.py` iteration (R1 every step).
  A lazy-R1 iteration's time is the mean of one R1 iteration and k-1 plain ones, timed apart.
- gen / enc / rec: fp32, one thread, at 64 px (the default's architecture, batch 32) and 256 px
  (celeba-hq256, batch 4), beside the official `Model.generate` / `encode` / decode.
- roofline (bench/roofline.py): each row's GFLOP per image counted once, its achieved GFLOP/s and
  % of two peaks measured in the same run at the row's thread count: a 2048² fp32 matmul, and
  the best forward rate of the row's own largest convolutions.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from roofline import annotate, conv_peak, count, matmul_peak

from alae_hf import StyleALAE, preset
from alae_hf.training.compiled import cpp_compiler
from alae_hf.training.startup import cpu_has_native_bf16

ROOT = Path(__file__).resolve().parents[1]
DEFAULT64 = dict(resolution=64, start_channels=16, max_channels=128, latent_size=128, mapping_layers=8)
LAZY = 16


def _lazy_step(model: StyleALAE, batch: int, precision: str, r1_interval: int,
               reals: Callable[[], torch.Tensor]) -> Callable[[int], dict[str, float]]:
    """`iteration(step)` of the library's step (EMA and log read as `trainer.one_step` does)."""
    from alae_hf.training.ema import EMA
    from alae_hf.training.optim import make_optimizers
    from alae_hf.training.step import StepContext, iteration

    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if precision == "bf16" else contextlib.nullcontext
    ctx = StepContext(model, make_optimizers(model, 0.0015), torch.Generator().manual_seed(0),
                      torch.Generator().manual_seed(0), torch.amp.GradScaler("cpu", enabled=False),
                      autocast=autocast, r1_interval=r1_interval)
    ema, lod = EMA(model), model.arch.max_lod

    def one(step: int) -> dict[str, float]:
        stats, finite = iteration(ctx, reals(), lod, 1.0, step=step)
        if finite:
            ema.update(model, batch)
        values = torch.stack([v.float() for v in stats.values()]).tolist() if stats else []
        return dict(zip(stats, values))

    return one


def step_rate(batch: int, precision: str, r1_interval: int, timed: Callable, args) -> float:
    """Images/s of `step.iteration` at the default's shape; lazy R1 as (1 R1 + k-1 plain) / k."""
    torch.manual_seed(0)
    model = StyleALAE(**preset("celeba-hq256", **DEFAULT64).to_dict()).train()
    x = torch.rand(batch, 3, 64, 64) * 2 - 1
    one = _lazy_step(model, batch, precision, r1_interval, lambda: x)
    device = torch.device("cpu")
    with_r1 = timed(lambda: one(0), device, 1, args.min_time, 4, min_reps=2)
    if r1_interval == 1:
        return batch / with_r1
    plain = timed(lambda: one(1), device, 1, args.min_time, 4, min_reps=2)
    return batch / ((with_r1 + (r1_interval - 1) * plain) / r1_interval)


def trainer_rate(batch: int, precision: str, r1_interval: int, threads: int, steps: int, warmup: int,
                 extra: tuple[str, ...] = ()) -> float:
    """Images/s of the real trainer (a subprocess, `threads` intra-op threads) after `warmup` steps
    (with `--compile` the warm-up steps hold the compile: the rate is the steady state's)."""
    from cpu_cores import MODEL, steady_rate

    model = [a for a in MODEL if a != "no"]  # MODEL ends with --mixed_precision no
    model[model.index("--mixed_precision") + 1:model.index("--mixed_precision") + 1] = [precision]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), HF_HUB_OFFLINE="1")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, str(ROOT / "train_accelerate.py"), *model, "--output_dir", tmp, "--max_train_steps",
               str(steps), "--train_batch_size", str(batch), "--r1_interval", str(r1_interval), "--seed", "0", *extra]
        done = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode:
            raise RuntimeError(f"trainer exited {done.returncode}: {done.stderr[-1500:]}")
        return steady_rate(Path(tmp), warmup)[0] * batch


def train_rows(args, timed: Callable, official_step: Callable, restore: Callable) -> list[dict]:
    """The trainer and training-iteration rows (all cores)."""
    batch, threads = 32, torch.get_num_threads()
    fast = "bf16" if cpu_has_native_bf16() else "no"
    compiled = cpp_compiler() is not None
    config = f"64px S16/M128/Z128 b{batch} {threads}t"
    rows: list[dict] = []
    # the recommended CPU flags: lazy R1, native bf16 where the CPU has it, --compile where it can
    trainer = trainer_rate(batch, fast, LAZY, threads, args.trainer_steps, warmup=3 + 2 * compiled,
                           extra=("--compile",) if compiled else ())
    step = step_rate(batch, "bf16" if fast == "bf16" else "fp32", LAZY, timed, args)
    notes = ([] if fast == "bf16" else ["no native bf16 on this CPU: fp32"]) + (
        ["step.iteration eager (the trainer compiled)"] if compiled else ["no C++ compiler: eager"])
    rows.append(dict(measure="trainer", config=config, variant=f"{fast} r1/{LAZY}" + " compile" * compiled,
                     batch=batch, ours_img_s=trainer, step_img_s=step, trainer_vs_step=trainer / step,
                     note="; ".join(notes)))
    official = None
    if args.official:
        arch = preset("celeba-hq256", **DEFAULT64)
        try:
            fn = official_step(arch, batch, torch.device("cpu"))
            official = None if fn is None else batch / timed(fn, torch.device("cpu"), 1, args.min_time, 3, min_reps=2)
        finally:
            restore()
    variants = [("fp32", 1), ("fp32", LAZY)] + ([("bf16", LAZY)] if fast == "bf16" else [])
    for precision, k in variants:
        rows.append(dict(measure="train", config=config, variant=f"{precision} r1/{k}", batch=batch,
                         ours_img_s=step_rate(batch, precision, k, timed, args), official_img_s=official))
    train_roofline(rows, batch)
    for row in rows:
        print(json.dumps(row), flush=True)
    return rows


def train_roofline(rows: list[dict], batch: int) -> None:
    """GFLOP/s and % of peak of the train/trainer rows: one R1 and one plain iteration counted."""
    torch.manual_seed(0)
    model = StyleALAE(**preset("celeba-hq256", **DEFAULT64).to_dict()).train()
    x = torch.rand(batch, 3, 64, 64) * 2 - 1
    one = _lazy_step(model, batch, "fp32", LAZY, lambda: x)
    r1, plain = count(lambda: one(0)), count(lambda: one(1))
    per_img = {k: (r1.flops + (k - 1) * plain.flops) / k / batch / 1e9 for k in (1, LAZY)}
    conv, where = conv_peak(r1.convs)
    peaks = {"matmul": matmul_peak(), "conv": conv}
    for row in rows:
        annotate(row, per_img[int(row["variant"].split("r1/")[1].split()[0])], peaks)
        row.update(peak_matmul_gflop_s=peaks["matmul"], peak_conv_gflop_s=conv, peak_conv_at=where)


def inference_roofline(rows: list[dict], spec: tuple) -> None:
    """GFLOP/s and % of peak (one thread) of one spec's gen/enc/rec rows."""
    from suite import build, inference_ops

    fns = inference_ops(build(spec, torch.device("cpu")).eval(), "fp32", spec[2], torch.device("cpu"))
    matmul = matmul_peak()
    for row in rows:
        counted = count(fns[row["measure"]])
        conv, where = conv_peak(counted.convs, top=4)
        annotate(row, counted.flops / spec[2] / 1e9, {"matmul": matmul, "conv": conv})
        row.update(peak_matmul_gflop_s=matmul, peak_conv_gflop_s=conv, peak_conv_at=where)


def inference_rows(args, inference: Callable) -> list[dict]:
    """gen / enc / rec at 64 px and 256 px, fp32, one thread (`inference` is suite.inference_rows)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    saved = args.variants
    args.variants = ["fp32"]
    try:
        rows: list[dict] = []
        for spec in (("celeba-hq256", DEFAULT64, 32), ("celeba-hq256", {}, 4)):
            measured = inference(spec, ("gen", "enc", "rec"), torch.device("cpu"), args)
            inference_roofline([r for r in measured if r.get("ours_img_s")], spec)
            rows += measured
        for row in rows:
            row["config"] += " 1t"
        return rows
    finally:
        args.variants = saved
        torch.set_num_threads(threads)


def summary(rows: list[dict]) -> list[str]:
    """The trainer's ratio to its step, in words (the table shows img/s and ratios to the official)."""
    lines = []
    for r in rows:
        if r.get("measure") == "trainer" and "step_img_s" in r:
            lines.append(f"trainer {r['ours_img_s']:.3g} img/s = {r['trainer_vs_step']:.0%} of step.iteration "
                         f"({r['step_img_s']:.3g} img/s) at {r['variant']}. {r.get('note', '')}".rstrip())
    return lines
