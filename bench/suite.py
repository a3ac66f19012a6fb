"""Every speed measurement in one run, the official code side by side — a benchmark, not a test.

    python bench/suite.py --device cuda                        # the whole table, < 8 minutes
    ALAE_OFFICIAL_SRC=/path/to/ALAE PYTHONPATH=/path/to/ALAE python bench/suite.py ...  # with the official code beside it
    python bench/suite.py --device cpu --quick                 # the same suite on tiny configs
    python bench/suite.py --device cpu                         # the CPU training table (bench/cpu_rows.py)

Measures (full / --quick):
- train: one full training iteration of the library's step (`alae_hf.training.step`: D step with
  R1 every step, G step, latent reconstruction step), celeba-hq256 batch 32 / a tiny 32 px model,
  fp32 and bf16, beside the official `train_alae.py` iteration.
- trainer: the same step at the bundled default's shape (64 px, S32/M256/Z256, batch 64, bf16,
  full resolution; quick: 32 px), reals decoded from uint8 on the device as the trainer does,
  plus the synthetic:faces loader's rate (the data ceiling).
- gen / enc / rec: generation celeba-hq256 b32 and ffhq b16, encode and reconstruct at 256²
  (quick: 32 px and 64 px tiny models), fp32, bf16 autocast and torch.compile (fp32 and bf16).
- d_step loss: a probe for the next change, the D step's loss with R1 forward + backward, eager
  vs torch.compile with Dynamo tracing R1's autograd.grad (bf16; its error is vs eager);
  blur R1 probe: the blur's forward + R1 + backward, shifted sums vs two stride-1 average pools.

Every row gets its error against fp32 from the same state and inputs (training: the largest
relative difference of the iteration's losses; inference: RMS and max of the images or w
relative to the fp32 output), and the training rows the kernels and host syncs one iteration
and each phase dispatch (`bench.common.OpCounter`). cuDNN autotuning is off for the training rows
(as the trainer runs) and on for inference (as bench/inference.py). Rows past `--budget_s` are
skipped and said so.
Writes bench/results/suite_<device>[_quick].json and prints one table last.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from common import (  # noqa: E402
    count_ops,
    official_inference,
    official_train_step,
    restore_default_tensor_type,
    sync,
    timed,
)

from alae_hf import StyleALAE, preset  # noqa: E402

APP64 = dict(resolution=64, start_channels=32, max_channels=256, latent_size=256, mapping_layers=8)
TINY32 = dict(resolution=32, start_channels=16, max_channels=64, latent_size=32, mapping_layers=2)
TINY64 = dict(resolution=64, start_channels=8, max_channels=64, latent_size=64, mapping_layers=2)
# name -> (preset, overrides, batch)
FULL = dict(train=("celeba-hq256", {}, 32), trainer=("celeba-hq256", APP64, 64),
            gen=[("celeba-hq256", {}, 32), ("ffhq", {}, 16)], encrec=("celeba-hq256", {}, 32))
QUICK = dict(train=("celeba-hq256", TINY32, 8), trainer=("celeba-hq256", dict(TINY32, latent_size=64), 16),
             gen=[("celeba-hq256", TINY32, 8), ("ffhq", TINY64, 4)], encrec=("celeba-hq256", TINY32, 8))
MEASURES = ("train", "trainer", "gen", "blur", "r1_compile")
VARIANTS = ("fp32", "bf16", "compile", "compile_bf16")  # compile: torch.compile of G and E (inductor)
TARGETS = {"train": 250.0, "trainer": 2000.0}  # img/s (the speed targets); inference targets are 3x official


def label(spec: tuple) -> str:
    base, overrides, batch = spec
    arch = preset(base, **overrides)
    name = base if not overrides else f"{arch.resolution}px S{arch.start_channels}/M{arch.max_channels}/Z{arch.latent_size}"
    return f"{name} b{batch}"


def build(spec: tuple, device: torch.device, seed: int = 0) -> StyleALAE:
    base, overrides, _ = spec
    torch.manual_seed(seed)
    return StyleALAE(**preset(base, **overrides).to_dict()).to(device)


def autocast_for(precision: str, device: torch.device):
    if precision.endswith("bf16"):
        return lambda: torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext


# ---- the library's training step -------------------------------------------------------------
def library_step(model: StyleALAE, batch: int, precision: str, device: torch.device,
                 reals: Callable[[], torch.Tensor], seed: int = 0) -> dict[str, Callable[[], Any]]:
    """Closures for one training iteration of the library's step (`alae_hf.training.step`, what
    train_accelerate.py runs: three phases, w_avg, the non-finite guard) followed, as in
    `trainer.one_step`, by the EMA update and the logs read as floats; and each phase alone.
    Full resolution, blend 1, one process, official optimizers (`make_optimizers`).
    Each closure returns its logs, which the accuracy column compares between precisions.
    """
    from alae_hf.training.ema import EMA
    from alae_hf.training.optim import make_optimizers
    from alae_hf.training.step import StepContext, iteration, phases, run_phase

    lod, blend = model.arch.max_lod, 1.0
    ctx = StepContext(model, make_optimizers(model, 0.0015), torch.Generator(device).manual_seed(seed),
                      torch.Generator().manual_seed(seed), torch.amp.GradScaler(device.type, enabled=False),
                      autocast=autocast_for(precision, device))
    ema = EMA(model)

    def one_iteration() -> dict[str, float]:
        stats, finite = iteration(ctx, reals(), lod, blend)
        if finite:
            ema.update(model, batch)
        values = torch.stack([v.float() for v in stats.values()]).tolist() if stats else []  # as one_step
        return dict(zip(stats, values))

    def one_phase(index: int) -> Callable[[], dict[str, float]]:
        def run() -> dict[str, float]:
            stats, _ = run_phase(ctx, phases(ctx, reals(), lod, blend)[index])
            return {k: float(v) for k, v in stats.items() if v.numel() == 1}
        return run

    return {"iteration": one_iteration, "d_step": one_phase(0), "g_step": one_phase(1), "ae_step": one_phase(2)}


def random_reals(arch, batch: int, device: torch.device) -> Callable[[], torch.Tensor]:
    x = torch.rand(batch, arch.channels, arch.resolution, arch.resolution, device=device) * 2 - 1
    return lambda: x


def face_reals(arch, batch: int, device: torch.device) -> Callable[[], torch.Tensor]:
    """One uint8 batch of synthetic faces in (pinned) host memory, turned into flipped [-1, 1]
    reals on the device per call by the trainer's own `prepare_reals`, as each loaded batch is
    (the loader itself is timed separately)."""
    from alae_hf.training.data import make_dataset, prepare_reals

    dataset = make_dataset("synthetic:faces:length=256", None, arch.resolution, arch.channels)
    images = torch.stack([dataset[i] for i in range(batch)])
    if device.type == "cuda":
        images = images.pin_memory()
    flips = torch.Generator(device).manual_seed(1)
    return lambda: prepare_reals(images, arch.resolution, 1.0, device, flips)


def loader_rate(arch, batch: int, workers: int, seconds: float) -> float:
    """Images/s the synthetic:faces loader delivers at `workers` workers (steady state)."""
    from alae_hf.training.data import make_dataset, make_loader

    dataset = make_dataset("synthetic:faces", None, arch.resolution, arch.channels)
    loader = make_loader(dataset, batch, 0, 0, 0, 1, workers, False)
    for _ in range(max(2, workers)):  # workers started and their first batches ready
        next(loader)
    start, images = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        images += next(loader).shape[0]
    return images / (time.perf_counter() - start)


def loss_error(a: dict[str, float], b: dict[str, float]) -> float:
    """Largest relative difference of the losses two runs of the same iteration logged."""
    keys = [k for k in a if k.startswith("loss")]
    return max(abs(a[k] - b[k]) / max(abs(b[k]), 1e-3) for k in keys)


def train_rows(kind: str, spec: tuple, precisions: tuple[str, ...], device: torch.device, args) -> list[dict]:
    """Rows of one training measure: each precision of the library step, then the official one."""
    _, _, batch = spec
    torch.backends.cudnn.benchmark = False  # as the trainer runs (and the baseline's training rows)
    arch = build(spec, torch.device("cpu")).arch
    make_reals = face_reals if kind == "trainer" else random_reals
    reals = make_reals(arch, batch, device)
    rows, reference_logs = [], None
    for precision in ("fp32",) + tuple(p for p in precisions if p != "fp32"):
        first = library_step(build(spec, device).train(), batch, precision, device, reals)["iteration"]()
        reference_logs = reference_logs or first
        if precision not in precisions:
            continue
        model = build(spec, device).train()
        steps = library_step(model, batch, precision, device, reals)
        row = dict(measure=kind, config=label(spec), variant=precision, batch=batch,
                   error_vs_fp32=loss_error(first, reference_logs))
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        seconds = timed(steps["iteration"], device, args.warmup, args.min_time, args.max_reps, min_reps=2)
        row["ours_img_s"] = batch / seconds
        row["counts"] = {"iteration": count_ops(steps["iteration"])}
        for name in ("d_step", "g_step", "ae_step"):
            if name in steps:
                row[f"{name}_img_s"] = batch / timed(steps[name], device, 1, args.min_time / 2, args.max_reps, 2)
                row["counts"][name] = count_ops(steps[name])
        if device.type == "cuda":
            row["peak_mem_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
        row["target_img_s"] = TARGETS[kind] if not args.quick else None
        rows.append(row)
        print(json.dumps(row), flush=True)
    if kind == "train" and args.official:
        rate = time_official_train(arch, batch, device, args)
        for row in rows:
            row["official_img_s"] = rate
    if kind == "trainer" and args.loader_workers:
        rows.append(dict(measure="trainer data", config=f"synthetic:faces {arch.resolution}px b{batch}",
                         variant=f"{args.loader_workers} workers", batch=batch,
                         ours_img_s=loader_rate(arch, batch, args.loader_workers, args.min_time)))
        print(json.dumps(rows[-1]), flush=True)
    return rows


def time_official_train(arch, batch: int, device: torch.device, args) -> float | None:
    try:
        step = official_train_step(arch, batch, device)
        return None if step is None else batch / timed(step, device, 1, args.min_time, 3, min_reps=2)
    except Exception as err:  # noqa: BLE001 - reported, not fatal
        print(f"official train: {type(err).__name__}: {err}", flush=True)
        return None
    finally:
        restore_default_tensor_type()


def r1_compile_rows(spec: tuple, device: torch.device, args) -> list[dict]:
    """Probe for the next change: the D step's loss (E and D on reals and fakes, R1 with
    create_graph) forward + backward, eager vs `torch.compile` with Dynamo tracing
    `autograd.grad` (`trace_autograd_ops`; otherwise R1 is a graph break and AOTAutograd cannot
    differentiate a compiled backward twice). bf16 autocast, no optimizer step."""
    from torch._dynamo import config as dynamo_config

    from alae_hf.training.losses import encoder_discriminator_loss

    _, _, batch = spec
    model = build(spec, device).train()
    arch = model.arch
    reals = torch.rand(batch, arch.channels, arch.resolution, arch.resolution, device=device) * 2 - 1
    fakes = torch.rand_like(reals) * 2 - 1
    autocast = autocast_for("bf16", device)

    def loss(reals, fakes):
        return encoder_discriminator_loss(model, reals, fakes, 1.0)[0]

    # --quick (CPU) checks that the probe traces (aot_eager); inductor's CPU compile of this graph
    # took > 20 min on the 2-core box, so its speed is a GPU figure only
    compiled = torch.compile(loss, backend="aot_eager" if args.quick else "inductor")
    rows, reference = [], None
    for variant, fn in (("bf16", loss), ("aot_eager_bf16" if args.quick else "compile_bf16", compiled)):
        if deadline_passed(args):
            rows.append(dict(measure="d_step loss", config=label(spec), variant=variant, skipped="time budget"))
            continue

        def step(fn=fn):
            model.zero_grad(set_to_none=True)
            with dynamo_config.patch(trace_autograd_ops=True), autocast():
                out = fn(reals, fakes)
            out.backward()
            return out.detach()

        row = dict(measure="d_step loss", config=label(spec), variant=variant, batch=batch)
        try:
            start = time.perf_counter()
            out = float(step())
            row["first_call_s"] = time.perf_counter() - start
            reference = out if reference is None else reference
            row["error_vs_eager"] = abs(out - reference) / max(abs(reference), 1e-3)
            row["ours_img_s"] = batch / timed(step, device, 1, args.min_time, args.max_reps, min_reps=2)
        except Exception as err:  # noqa: BLE001 - a probe that fails is reported, not fatal
            row["failed"] = f"{type(err).__name__}: {str(err)[:200]}"
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def blur_pooled(x: torch.Tensor) -> torch.Tensor:
    """Candidate for `alae_hf.models.layers.blur`: [1,2,1]/4 = two [1,1]/2 box filters, so the blur is
    two stride-1 2x2 average pools (the first zero-padded): 2 kernels instead of 8 forward."""
    import torch.nn.functional as F

    return F.avg_pool2d(F.avg_pool2d(x, 2, 1, padding=1), 2, 1)


def blur_rows(device: torch.device, args) -> list[dict]:
    """Probe: blur forward + R1 gradient (create_graph) + backward, shifted sums (the library)
    vs two average pools, at the anchor's C64 x 256² batch 32 (quick: C16 x 32², batch 8)."""
    from alae_hf.models.layers import blur

    shape = (8, 16, 32, 32) if args.quick else (32, 64, 256, 256)
    x = torch.randn(shape, device=device, generator=torch.Generator(device).manual_seed(0))
    reference = blur(x)
    rows = []
    for variant, fn in (("shifted", blur), ("avg_pool", blur_pooled)):
        def step(fn=fn):
            inputs = x.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(fn(inputs).pow(2).sum(), inputs, create_graph=True)
            grad.pow(2).sum().backward()

        row = dict(measure="blur R1 probe", config="x".join(map(str, shape)), variant=variant, batch=shape[0],
                   error_vs_fp32=float((fn(x) - reference).norm() / reference.norm()),
                   ours_img_s=shape[0] / timed(step, device, 2, args.min_time / 2, args.max_reps),
                   kernels=count_ops(step)["kernels"])
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


# ---- inference -------------------------------------------------------------------------------
def inference_ops(model: StyleALAE, variant: str, batch: int, device: torch.device) -> dict[str, Callable]:
    arch, lod = model.arch, model.arch.max_lod
    z = torch.randn(batch, arch.latent_size, device=device, generator=torch.Generator(device).manual_seed(1))
    x = torch.rand(batch, arch.channels, arch.resolution, arch.resolution, device=device,
                   generator=torch.Generator(device).manual_seed(2)) * 2 - 1
    noise = torch.Generator(device=device)
    mapping, generator, encoder = model.mapping, model.generator, model.encoder
    if variant.startswith("compile"):
        generator, encoder = torch.compile(generator), torch.compile(encoder)
    autocast = autocast_for(variant, device)

    def gen():
        with torch.no_grad(), autocast():
            return generator(model.truncate(mapping(z)), lod, 1.0, model.make_noise(batch, noise.manual_seed(3)))

    def enc():
        with torch.no_grad(), autocast():
            w = encoder(x, lod, 1.0)
            return w, model.discriminator(w)

    def rec():
        with torch.no_grad(), autocast():
            w = model.to_w_plus(encoder(x, lod, 1.0))
            return generator(w, lod, 1.0, model.make_noise(batch, noise.manual_seed(4)))

    return {"gen": gen, "enc": enc, "rec": rec}


def output_error(out: Any, reference: Any) -> tuple[float, float]:
    """(RMS, max) of |out - reference| relative to the reference's RMS and max."""
    out, reference = (o[0] if isinstance(o, tuple) else o for o in (out, reference))
    diff, reference = out.float() - reference.float(), reference.float()
    return (float(diff.norm() / reference.norm()), float(diff.abs().max() / reference.abs().max()))


def inference_rows(spec: tuple, measures: tuple[str, ...], device: torch.device, args,
                   skip: tuple[str, ...] = ()) -> list[dict]:
    _, _, batch = spec
    torch.backends.cudnn.benchmark = True  # as bench/inference.py (and the baseline's inference rows)
    variants = [v for v in args.variants if v not in skip]
    arch = build(spec, torch.device("cpu")).arch
    official = time_official_inference(arch, batch, measures, device, args) if args.official else {}
    reference = {k: fn() for k, fn in inference_ops(build(spec, device).eval(), "fp32", batch, device).items()
                 if k in measures}
    rows = []
    for variant in variants:
        if deadline_passed(args, 60 if variant.startswith("compile") and not args.quick else 0):
            rows.append(dict(measure="/".join(measures), config=label(spec), variant=variant, batch=batch,
                             skipped="time budget"))
            continue
        model = build(spec, device).eval()
        fns = inference_ops(model, variant, batch, device)
        for name in measures:
            row = dict(measure=name, config=label(spec), variant=variant, batch=batch)
            try:
                start = time.perf_counter()
                out = fns[name]()
                row["first_call_s"] = time.perf_counter() - start
                row["error_vs_fp32"], row["max_error_vs_fp32"] = output_error(out, reference[name])
                row["ours_img_s"] = batch / timed(fns[name], device, args.warmup, args.min_time, args.max_reps)
                row["kernels"] = None if variant.startswith("compile") else count_ops(fns[name])["kernels"]
            except Exception as err:  # noqa: BLE001 - a variant that fails is reported, not fatal
                row["failed"] = f"{type(err).__name__}: {str(err)[:200]}"
            if name in official:
                row["official_img_s"] = official[name]
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def time_official_inference(arch, batch, measures, device, args) -> dict[str, float]:
    try:
        fns = official_inference(arch, batch, device)
        if fns is None:
            return {}
        with torch.no_grad():
            return {k: batch / timed(fns[k], device, args.warmup, args.min_time, args.max_reps) for k in measures}
    except Exception as err:  # noqa: BLE001
        print(f"official inference: {type(err).__name__}: {err}", flush=True)
        return {}
    finally:
        restore_default_tensor_type()


# ---- the run ---------------------------------------------------------------------------------
def deadline_passed(args, needs_s: float = 0.0) -> bool:
    """Whether less than `needs_s` seconds are left of the run's budget."""
    return time.perf_counter() - args.started > args.budget_s - needs_s


def run(args, save: Callable[[list[dict]], None]) -> list[dict]:
    """The measures in order of importance; each group's rows are saved as soon as they exist,
    and a group is skipped when less than its expected duration is left of `--budget_s`."""
    device = torch.device(args.device)
    specs = QUICK if args.quick else FULL
    rows: list[dict] = []
    if device.type == "cpu" and not args.quick:
        return cpu_plan(args, save)
    plan = [("train", 0, lambda: train_rows("train", specs["train"], args.precisions, device, args)),
            ("trainer", 0, lambda: train_rows("trainer", specs["trainer"], ("bf16",), device, args)),
            ("gen", 0, lambda: inference_rows(specs["encrec"], ("gen", "enc", "rec"), device, args)),
            ("gen", 0, lambda: inference_rows(specs["gen"][1], ("gen",), device, args, skip=("compile",))),
            ("blur", 0, lambda: blur_rows(device, args)),
            ("r1_compile", 0 if args.quick else 150, lambda: r1_compile_rows(specs["train"], device, args))]
    for name, needs_s, measure in plan:
        if name not in args.measures:
            continue
        if deadline_passed(args, needs_s):
            rows.append(dict(measure=name, skipped="time budget"))
            continue
        rows.extend(measure())
        sync(device)
        save(rows)
    return rows


def cpu_plan(args, save: Callable[[list[dict]], None]) -> list[dict]:
    """The CPU table (`bench/cpu_rows.py`): the real trainer beside its step, the training
    iteration and gen/enc/rec beside the official code."""
    import cpu_rows

    rows: list[dict] = []
    if "train" in args.measures or "trainer" in args.measures:
        rows += cpu_rows.train_rows(args, timed, official_train_step, restore_default_tensor_type)
        save(rows)
    if "gen" in args.measures and not deadline_passed(args):
        rows += cpu_rows.inference_rows(args, inference_rows)
        save(rows)
    return rows


def ratio(row: dict) -> float | None:
    if row.get("official_img_s") and row.get("ours_img_s"):
        return row["ours_img_s"] / row["official_img_s"]
    return None


def fmt(value: Any, spec: str = ".3g") -> str:
    return "-" if value is None else format(value, spec)


def table(head: dict, rows: list[dict]) -> str:
    lines = [f"device: {head['device']} ({head['cpu_capability']})  torch {head['torch']}  "
             f"official: {head['official'] or 'not given'}  "
             f"{head['seconds']:.0f} s",
             f"{'measure':13s} {'config':28s} {'variant':12s} {'official':>9s} {'ours':>9s} {'ratio':>7s} "
             f"{'err vs fp32':>11s} {'kernels':>8s} {'syncs':>6s} {'GFLOP/s':>8s} {'%mm':>4s} {'%conv':>5s}"]
    for r in rows:
        if "skipped" in r or "failed" in r:
            lines.append(f"{r['measure']:13s} {r.get('config', ''):28s} {r.get('variant', ''):12s} "
                         f"{r.get('skipped') or r.get('failed')}")
            continue
        counts = r.get("counts", {}).get("iteration", {})
        kernels = counts.get("kernels", r.get("kernels"))
        lines.append(f"{r['measure']:13s} {r['config']:28s} {r['variant']:12s} {fmt(r.get('official_img_s')):>9s} "
                     f"{fmt(r.get('ours_img_s')):>9s} {fmt(ratio(r), '.2f'):>7s} "
                     f"{fmt(r.get('error_vs_fp32', r.get('error_vs_eager')), '.1e'):>11s} {fmt(kernels, 'd'):>8s} "
                     f"{fmt(counts.get('host_syncs'), 'd'):>6s} {fmt(r.get('gflop_s')):>8s} "
                     f"{fmt(r.get('pct_matmul'), '.0f'):>4s} {fmt(r.get('pct_conv'), '.0f'):>5s}")
    lines.append("img/s throughout; ratio = ours / official; error: relative RMS (inference) or largest relative "
                 "loss difference (training) vs fp32; kernels/syncs: per call or per iteration; GFLOP/s achieved "
                 "(FLOPs counted once) and its % of this box's fp32 matmul and best-convolution peaks (CPU table)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="tiny configs (CPU-sized)")
    parser.add_argument("--measures", nargs="+", default=list(MEASURES), choices=MEASURES)
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    parser.add_argument("--variants", nargs="+", default=None, choices=VARIANTS,
                        help="inference variants (default: all; --quick: fp32 bf16, as inductor's CPU compile "
                             "takes minutes; ffhq skips fp32 compile to stay in the time budget)")
    parser.add_argument("--no-official", dest="official", action="store_false")
    parser.add_argument("--loader_workers", type=int, default=None, help="default: 8 on a GPU, 0 (skip) on CPU")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--min_time", type=float, default=None, help="seconds per timing (default 2, quick 0.5)")
    parser.add_argument("--max_reps", type=int, default=20)
    parser.add_argument("--budget_s", type=float, default=450, help="skip the remaining rows after this many seconds")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads")
    parser.add_argument("--trainer_steps", type=int, default=20,
                        help="CPU table: steps of the real trainer (3 warm-up, then 16: one lazy-R1 step among them)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    args.started = time.perf_counter()
    if args.threads:
        torch.set_num_threads(args.threads)
    args.min_time = args.min_time or (0.5 if args.quick else 2.0)
    args.variants = args.variants or (["fp32", "bf16"] if args.quick else list(VARIANTS))
    args.official = args.official and bool(os.environ.get("ALAE_OFFICIAL_SRC"))
    if args.loader_workers is None:
        args.loader_workers = 8 if args.device.startswith("cuda") else 0
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    suffix = "_quick" if args.quick else ""
    out = Path(args.out or Path(__file__).parent / "results" / f"suite_{device.type}{suffix}.json")
    out.parent.mkdir(parents=True, exist_ok=True)

    def head(complete: bool) -> dict:
        return dict(device=name, torch=torch.__version__, python=platform.python_version(), quick=args.quick,
                    official=os.environ.get("ALAE_OFFICIAL_SRC") if args.official else None,
                    seconds=time.perf_counter() - args.started, complete=complete, argv=sys.argv[1:],
                    load_avg_1min=os.getloadavg()[0], cpu_count=os.cpu_count(),
                    cpu_capability=torch.backends.cpu.get_cpu_capability())

    rows = run(args, lambda rows: out.write_text(json.dumps([head(False)] + rows, indent=1)))
    final = head(True)
    out.write_text(json.dumps([final] + rows, indent=1))
    print(table(final, rows))
    if device.type == "cpu" and not args.quick:
        import cpu_rows

        print("\n".join(cpu_rows.summary(rows)))


if __name__ == "__main__":
    main()
