"""Images per second of the procedural faces data set on one CPU core.

Times `SyntheticFaces.__getitem__` (factor sampling + rendering to a PIL image), the path a
DataLoader worker takes, at each resolution. The process pins itself to one core (like
`taskset -c 0`) because the target is 1,000 images/s at 64x64 per core, so that each DataLoader
worker keeps up with a GPU on its own.

    python bench/dataset_speed.py [--out bench/results/dataset_speed.json] [--cpu 0]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np  # noqa: E402
import PIL  # noqa: E402

from alae_hf.datasets.synthetic_faces import SUPERSAMPLE, SyntheticFaces  # noqa: E402

TARGET_IMAGES_PER_S_AT_64 = 1000.0


def pin_to_core(cpu: int) -> list[int] | None:
    """Restrict this process to one core; returns the cores in use (None if not supported)."""
    if cpu < 0 or not hasattr(os, "sched_setaffinity"):
        return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    os.sched_setaffinity(0, {cpu})
    return sorted(os.sched_getaffinity(0))


def images_per_second(resolution: int, seconds: float, seed: int) -> dict[str, float]:
    """Render consecutive items for about `seconds` after a short warm-up."""
    ds = SyntheticFaces(seed=seed, resolution=resolution, length=10**9)
    for i in range(20):
        ds[i]
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(50):
            ds[20 + count]
            count += 1
    return {
        "resolution": resolution,
        "images": count,
        "seconds": round(elapsed, 4),
        "images_per_s": round(count / elapsed, 1),
        "ms_per_image": round(1000.0 * elapsed / count, 4),
    }


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="bench/results/dataset_speed.json")
    p.add_argument("--resolutions", type=int, nargs="+", default=[32, 64, 128, 256])
    p.add_argument("--seconds", type=float, default=3.0, help="timed seconds per resolution")
    p.add_argument("--cpu", type=int, default=0, help="core to pin to; -1 leaves affinity alone")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    cores = pin_to_core(args.cpu)
    results = [images_per_second(r, args.seconds, args.seed) for r in args.resolutions]
    for r in results:
        print(f"{r['resolution']:>4}px {r['images_per_s']:>8.1f} images/s ({r['ms_per_image']:.3f} ms each)")
    report = {
        "benchmark": "SyntheticFaces.__getitem__ on one CPU core",
        "cores": cores,
        "cpu": cpu_name(),
        "supersample": SUPERSAMPLE,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pillow": PIL.__version__,
        "target_images_per_s_at_64": TARGET_IMAGES_PER_S_AT_64,
        "results": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
    return report


if __name__ == "__main__":
    main()
