"""The CPU speed options measured in one short window (≤ 6 minutes on 2 threads) — a benchmark.

    OMP_NUM_THREADS=2 python bench/cpu_window.py                 # the measurements, this box
    python bench/cpu_window.py --tiny                             # a check that it runs (tiny sizes)

Measures, on this box, with the library's own step (`alae_hf.training.step.iteration` + EMA and
the logs read as `trainer.one_step` does):
- train: the default's 64 px architecture (S16/M128/Z128, mapping 8, full resolution, batch 32),
  `--threads` threads: a plain iteration (no R1) and one with R1, timed apart, so img/s for R1
  every step (the official algorithm) and lazy R1 every 16 steps; for eager fp32, `--compile`
  fp32 (its first call's extra time is the compile, from a cold Inductor cache, and the
  break-even step count is that over the per-step gain), channels_last fp32 and bf16 autocast
  (only where the CPU has native bfloat16: emulated it was ~10x slower). Each row has its
  losses' largest relative difference to eager fp32 on the same first step.
- infer: gen / enc / rec at 256 px (celeba-hq256, batch 2), one thread, fp32 and channels_last.
- roofline: GFLOP per image counted once (bench/roofline.py), the box's fp32 matmul peak and
  the best convolution rate at the rows' own shapes, and each row's % of both.

Sections are skipped (and said so) once `--budget_s` is spent. Prints a table and writes
bench/results/cpu_window[_tiny].json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

# a cold cache, so that the compile time is what a new run pays (set before torch is imported)
if "--warm_cache" not in sys.argv:
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="inductor-")

import torch  # noqa: E402
import window_rows  # noqa: E402
from roofline import matmul_peak  # noqa: E402

from alae_hf.training.startup import cpu_has_native_bf16  # noqa: E402

DEFAULT64 = dict(resolution=64, start_channels=16, max_channels=128, latent_size=128, mapping_layers=8)
TINY = dict(resolution=8, start_channels=8, max_channels=16, latent_size=16, mapping_layers=2)
TINY_256 = dict(resolution=16, start_channels=8, max_channels=16, latent_size=16, mapping_layers=2)


def table(head: dict, rows: list[dict]) -> str:
    lines = [f"cpu: {head['cpu']}  capability {head['capability']}  native bf16 {head['native_bf16']}  "
             f"torch {head['torch']}  {head['threads']} threads  {head['seconds']:.0f} s",
             f"peaks: matmul fp32 {head['matmul_gflop_s']:.1f} GFLOP/s ({head['threads']} threads); best conv at "
             f"the train rows' shapes {head.get('conv_gflop_s_train', 0):.1f} ({head.get('conv_where_train', '')})",
             f"{'measure':8s} {'variant':15s} {'img/s':>8s} {'r1/16':>8s} {'GFLOP/s':>8s} {'%mm':>5s} {'%conv':>6s} "
             f"{'err':>8s} {'compile s':>9s} {'pays off':>9s}"]
    for r in rows:
        if "skipped" in r or "failed" in r:
            lines.append(f"{r['measure']:8s} {r.get('variant', ''):15s} {r.get('skipped') or r.get('failed')}")
            continue
        f = window_rows.fmt
        lines.append(f"{r['measure']:8s} {r['variant']:15s} {f(r.get('ours_img_s')):>8s} {f(r.get('lazy16_img_s')):>8s} "
                     f"{f(r.get('gflop_s')):>8s} {f(r.get('pct_matmul'), '.0f'):>5s} {f(r.get('pct_conv'), '.0f'):>6s} "
                     f"{f(r.get('error_vs_fp32'), '.1e'):>8s} {f(r.get('compile_s'), '.0f'):>9s} "
                     f"{f(r.get('break_even_steps'), '.0f'):>9s}")
    lines.append("train img/s: R1 every step (official); r1/16: lazy R1 (1 R1 + 15 plain iterations); infer: one "
                 "thread; err: largest relative loss (train) or RMS image (infer) difference to eager fp32; "
                 "pays off: steps after which the compile time is won back")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="threads of the train rows (infer: 1)")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: checks that the script runs")
    parser.add_argument("--budget_s", type=float, default=330, help="skip sections after this many seconds")
    parser.add_argument("--warm_cache", action="store_true", help="keep Inductor's cache (compile time not cold)")
    parser.add_argument("--skip", nargs="*", default=[], choices=window_rows.VARIANTS[1:] + ("infer",))
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    args.started = time.perf_counter()
    torch.set_num_threads(args.threads)
    arch, batch = (TINY, 2) if args.tiny else (DEFAULT64, 32)
    infer_arch = TINY_256 if args.tiny else {}
    native = cpu_has_native_bf16()
    head = dict(cpu=platform.processor() or platform.machine(), capability=torch.backends.cpu.get_cpu_capability(),
                native_bf16=native, torch=torch.__version__, threads=args.threads, tiny=args.tiny,
                load_avg_1min=os.getloadavg()[0], matmul_gflop_s=matmul_peak(512 if args.tiny else 2048))
    # the compile last: its duration is the one not known in advance
    rows = window_rows.train_rows(arch, batch, native, args, head, window_rows.VARIANTS[:-1])
    if "infer" in args.skip:
        rows.append(dict(measure="infer", skipped="--skip"))
    else:
        rows += window_rows.infer_rows(infer_arch, 2, args, head)
    rows += window_rows.train_rows(arch, batch, native, args, head, ("compile",))
    head["seconds"] = time.perf_counter() - args.started
    out = Path(args.out or Path(__file__).parent / "results" / f"cpu_window{'_tiny' if args.tiny else ''}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([head] + rows, indent=1, default=str))
    print(table(head, rows))
    print(window_rows.recommendation(rows, native))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
