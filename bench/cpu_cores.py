"""How to spend a CPU's cores on training — a benchmark, not a test.

Runs the real trainer (`train_accelerate.py`, as a user runs it) on `synthetic:faces` at the
bundled default's architecture (64 px, start 16 / max 128 channels, latent 128, mapping 8, full
resolution, total batch 32) in three layouts, each for `--steps` steps:

- `threads`: one run, `--cores` intra-op threads (torch's default on a machine of that size);
- `processes`: one run in `--cores` processes of one thread each (Accelerate's multi-process CPU
  launch; each process takes batch / cores and the phases' gradients are averaged), i.e. the
  same training as `threads`, spread over processes instead of threads;
- `side_by_side`: `--cores` independent one-thread runs at once (different seeds), e.g. a recipe
  search's seeds.

The steady-state rate comes from the trainer's own TensorBoard logs (wall time of each step's
scalars) after `--warmup` steps, so start-up and the first steps' allocation do not count.
Reported per layout: images/s of the machine (all runs together) and images per CPU-hour
(images/s x 3600 / cores). Run it on a quiet machine: anything else running halves every figure.

    python bench/cpu_cores.py --cores 2 --steps 24 [--extra --r1_interval 4]

Writes bench/results/cpu_cores.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ["--train_data_dir", "synthetic:faces", "--preset", "celeba-hq256", "--resolution", "64",
         "--start_channels", "16", "--max_channels", "128", "--latent_size", "128", "--mapping_layers", "8",
         "--no-progressive", "--mixed_precision", "no", "--report_to", "tensorboard", "--checkpointing_steps", "0"]


def steady_rate(run_dir: Path, warmup: int) -> tuple[float, int]:
    """(steps per second after `warmup` steps, steps seen) from the run's TensorBoard scalars."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = sorted(run_dir.glob("logs/**/events.out.tfevents.*"))
    if not events:
        raise RuntimeError(f"no TensorBoard logs under {run_dir}")
    acc = EventAccumulator(str(events[-1].parent))
    acc.Reload()
    tag = next(t for t in acc.Tags()["scalars"] if t.endswith("loss_d"))
    points = sorted((e.step, e.wall_time) for e in acc.Scalars(tag))
    tail = [p for p in points if p[0] >= warmup]
    if len(tail) < 2:
        raise RuntimeError(f"only {len(points)} logged steps in {run_dir}; raise --steps")
    (s0, t0), (s1, t1) = tail[0], tail[-1]
    return (s1 - s0) / (t1 - t0), len(points)


def command(layout: str, cores: int, out: Path, steps: int, batch: int, seed: int, extra: list[str]) -> list[str]:
    args = MODEL + ["--output_dir", str(out), "--max_train_steps", str(steps), "--seed", str(seed)] + extra
    if layout == "processes":
        launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(cores),
                  "--num_machines", "1", "--main_process_port", "0", "--mixed_precision", "no", "--dynamo_backend",
                  "no"]
        return launch + [str(ROOT / "train_accelerate.py"), *args, "--train_batch_size", str(batch // cores)]
    return [sys.executable, str(ROOT / "train_accelerate.py"), *args, "--train_batch_size", str(batch)]


def run_layout(layout: str, cores: int, steps: int, batch: int, warmup: int, extra: list[str]) -> dict:
    """Start the layout's processes, wait, and read each run's steady rate."""
    threads = cores if layout == "threads" else 1
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), HF_HUB_OFFLINE="1")
    if layout == "processes":
        env["ACCELERATE_USE_CPU"] = "1"
    runs = cores if layout == "side_by_side" else 1
    with tempfile.TemporaryDirectory() as tmp:
        outs = [Path(tmp) / f"run{i}" for i in range(runs)]
        procs = [subprocess.Popen(command(layout, cores, out, steps, batch, i, extra), cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for i, out in
                 enumerate(outs)]
        for proc in procs:
            _, err = proc.communicate()
            if proc.returncode:
                raise RuntimeError(f"{layout}: trainer exited {proc.returncode}\n{err[-2000:]}")
        rates = [steady_rate(out, warmup)[0] for out in outs]
    images_per_s = sum(r * batch for r in rates)
    return {"layout": layout, "runs": runs, "threads_per_process": threads,
            "processes_per_run": cores if layout == "processes" else 1,
            "img_per_s_per_run": [round(r * batch, 2) for r in rates], "img_per_s_machine": round(images_per_s, 2),
            "img_per_cpu_hour": round(images_per_s * 3600 / cores)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument("--batch", type=int, default=32, help="total batch of one run")
    parser.add_argument("--layouts", nargs="+", default=["threads", "processes", "side_by_side"])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cpu_cores.json")
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="more trainer options, last")
    args = parser.parse_args()
    rows = []
    for layout in args.layouts:
        rows.append(run_layout(layout, args.cores, args.steps, args.batch, args.warmup, args.extra))
        print(rows[-1], flush=True)
    lines = ["| layout | runs x processes x threads | img/s (machine) | img per CPU-hour |", "|---|---|---|---|"]
    lines += [f"| {r['layout']} | {r['runs']} x {r['processes_per_run']} x {r['threads_per_process']} | "
              f"{r['img_per_s_machine']} | {r['img_per_cpu_hour']:,} |" for r in rows]
    print("\n".join(lines))
    args.out.write_text(json.dumps({"machine": platform.processor() or platform.machine(), "cores": args.cores,
                                    "steps": args.steps, "warmup": args.warmup, "batch": args.batch,
                                    "extra": args.extra, "rows": rows, "table": "\n".join(lines)}, indent=1) + "\n")


if __name__ == "__main__":
    main()
