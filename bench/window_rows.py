"""The rows of bench/cpu_window.py: training-step variants and 256 px inference, with the roofline."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

import torch
from roofline import annotate, conv_peak, count

from alae_hf import StyleALAE, preset
from alae_hf.training.compiled import compile_networks, images_as, to_channels_last
from alae_hf.training.ema import EMA
from alae_hf.training.optim import make_optimizers
from alae_hf.training.step import StepContext, iteration

VARIANTS = ("eager", "channels_last", "bf16", "compile")
LAZY = 16


def fmt(value: Any, spec: str = ".3g") -> str:
    return "-" if value is None else format(value, spec)


def out_of_time(args, needs_s: float = 0.0) -> bool:
    return time.perf_counter() - args.started > args.budget_s - needs_s


def _model(arch: dict, variant: str) -> StyleALAE:
    torch.manual_seed(0)
    model = StyleALAE(**preset("celeba-hq256", **arch).to_dict())
    return to_channels_last(model) if variant == "channels_last" else model


def _step(arch: dict, batch: int, variant: str) -> Callable[[int], dict[str, float]]:
    """`one(step)`: one iteration of the library's step (+ EMA, logs read once) for `variant`."""
    model = _model(arch, variant).train()
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if variant == "bf16" else None
    ctx = StepContext(model, make_optimizers(model, 0.0015), torch.Generator().manual_seed(0),
                      torch.Generator().manual_seed(0), torch.amp.GradScaler("cpu", enabled=False),
                      r1_interval=LAZY, memory_format=torch.channels_last if variant == "channels_last" else None,
                      **({"autocast": autocast} if autocast else {}))
    ema, lod = EMA(model), model.arch.max_lod
    if variant == "compile":  # after the EMA copy, as the trainer does
        ctx.compiled = compile_networks(model, torch.device("cpu"))
    x = torch.rand(batch, 3, model.arch.resolution, model.arch.resolution,
                   generator=torch.Generator().manual_seed(5)) * 2 - 1

    def one(step: int) -> dict[str, float]:
        stats, finite = iteration(ctx, x, lod, 1.0, step=step)
        if finite:
            ema.update(model, batch)
        return dict(zip(stats, torch.stack([v.float() for v in stats.values()]).tolist()))

    return one


def _seconds(fn: Callable[[], Any], reps: int) -> float:
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - start) / reps


def _loss_error(stats: dict[str, float], reference: dict[str, float]) -> float:
    keys = [k for k in reference if k.startswith("loss")]
    return max(abs(stats[k] - reference[k]) / max(abs(reference[k]), 1e-6) for k in keys)


def train_rows(arch: dict, batch: int, native_bf16: bool, args, head: dict, variants=VARIANTS) -> list[dict]:
    """Eager fp32 first (the reference and the roofline's FLOPs, kept in `head`), then the others."""
    rows: list[dict] = []
    reps = 1 if args.tiny else 3
    for variant in variants:
        row: dict[str, Any] = dict(measure="train", variant=f"{variant} b{batch}", batch=batch)
        reason = ("--skip" if variant in args.skip else
                  "no native bf16 on this CPU (emulated: ~10x slower)" if variant == "bf16" and not native_bf16 else
                  "time budget" if out_of_time(args, 150 if variant == "compile" else 30) else None)
        if reason:
            rows.append(dict(row, skipped=reason))
            continue
        try:
            one = _step(arch, batch, variant)
            start = time.perf_counter()
            first = one(1)  # plain (no R1): for compile, the compile of every graph it runs
            first_s = time.perf_counter() - start
            one(0)  # R1 (eager under --compile): warm
            plain, with_r1 = _seconds(partial(one, 1), reps), _seconds(partial(one, 0), max(1, reps - 1))
        except Exception as err:  # noqa: BLE001 - a variant that fails is reported, not fatal
            rows.append(dict(row, failed=f"{type(err).__name__}: {str(err)[:200]}"))
            continue
        if variant == "eager":
            head["reference_losses"], head["eager_plain_s"] = first, plain
            one_flops = {k: count(partial(one, k)) for k in (1, 0)}
            head["train_gflop_per_img"] = {"plain": one_flops[1].flops / batch / 1e9,
                                           "r1": one_flops[0].flops / batch / 1e9}
            head["conv_gflop_s_train"], head["conv_where_train"] = conv_peak(one_flops[0].convs)
        reference, eager_plain, flops = head["reference_losses"], head["eager_plain_s"], head["train_gflop_per_img"]
        lazy_s = (with_r1 + (LAZY - 1) * plain) / LAZY
        row.update(ours_img_s=batch / with_r1, lazy16_img_s=batch / lazy_s, plain_s=plain, r1_s=with_r1,
                   first_call_s=first_s, error_vs_fp32=_loss_error(first, reference))
        if variant == "compile":
            row["compile_s"] = first_s - plain
            gain = eager_plain - plain if eager_plain else 0.0
            row["break_even_steps"] = row["compile_s"] / gain if gain > 0 else None
        peaks = {"matmul": head["matmul_gflop_s"], "conv": head.get("conv_gflop_s_train")}
        annotate(row, flops["r1"], peaks)  # R1 every step
        row["lazy16_gflop_s"] = (flops["r1"] + (LAZY - 1) * flops["plain"]) / LAZY * row["lazy16_img_s"]
        row["lazy16_pct_matmul"] = 100 * row["lazy16_gflop_s"] / head["matmul_gflop_s"]
        rows.append(row)
        print(row, flush=True)
    return rows


def _infer_ops(model: StyleALAE, batch: int, variant: str) -> dict[str, Callable[[], torch.Tensor]]:
    arch, lod = model.arch, model.arch.max_lod
    z = torch.randn(batch, arch.latent_size, generator=torch.Generator().manual_seed(1))
    x = torch.rand(batch, 3, arch.resolution, arch.resolution, generator=torch.Generator().manual_seed(2)) * 2 - 1
    x = images_as(x, torch.channels_last if variant == "channels_last" else None)

    def gen():
        return model.synthesize(model.truncate(model.map(z)), noise=3, lod=lod)

    def enc():
        return model.discriminate(model.encode(x))

    def rec():
        return model.synthesize(model.encode(x), noise=4, lod=lod)

    return {"gen": gen, "enc": enc, "rec": rec}


def infer_rows(arch: dict, batch: int, args, head: dict) -> list[dict]:
    """gen / enc / rec at 256 px, one thread, fp32 and channels_last."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rows: list[dict] = []
    reference: dict[str, torch.Tensor] = {}
    try:
        for variant in ("eager", "channels_last"):
            if out_of_time(args, 40):
                rows.append(dict(measure="infer", variant=variant, skipped="time budget"))
                continue
            model = _model(arch, variant).eval()
            with torch.no_grad():
                for name, fn in _infer_ops(model, batch, variant).items():
                    out = fn()  # warm (and the reference)
                    row: dict[str, Any] = dict(measure=f"{name} 256", variant=f"{variant} b{batch} 1t", batch=batch)
                    if variant == "eager":
                        reference[name] = out
                        counted = count(fn)
                        head[f"conv_gflop_s_{name}"], _ = conv_peak(counted.convs, top=4)
                        head[f"gflop_per_img_{name}"] = counted.flops / batch / 1e9
                    ref = reference[name].float()
                    row["error_vs_fp32"] = float((out.float() - ref).norm() / ref.norm())
                    row["ours_img_s"] = batch / _seconds(fn, 1 if args.tiny else 2)
                    annotate(row, head[f"gflop_per_img_{name}"],
                             {"matmul": head["matmul_gflop_s"] / threads, "conv": head[f"conv_gflop_s_{name}"]})
                    rows.append(row)
                    print(row, flush=True)
    finally:
        torch.set_num_threads(threads)
    return rows


def recommendation(rows: list[dict], native_bf16: bool) -> str:
    """The fastest lazy-R1 training variant whose losses equal eager fp32's (1e-4), and bf16's figure."""
    done = [r for r in rows if r["measure"] == "train" and r.get("lazy16_img_s")]
    if not done:
        return "recommendation: no training rows measured"
    same = [r for r in done if not r["variant"].startswith("bf16") and (r.get("error_vs_fp32") or 0) <= 1e-4]
    best = max(same or done, key=lambda r: r["lazy16_img_s"])
    bf16 = next((r for r in done if r["variant"].startswith("bf16")), None)
    text = f"recommendation (fp32, same losses): {best['variant']} at {best['lazy16_img_s']:.3g} img/s with lazy R1"
    if bf16:
        text += (f"; bf16 autocast (native on this CPU) {bf16['lazy16_img_s']:.3g} img/s, losses "
                 f"{bf16['error_vs_fp32']:.1e} off fp32")
    elif not native_bf16:
        text += "; bf16 not measured: this CPU has no native bfloat16"
    return text
