"""How long SeFa and GANSpace take on the CPU for a 512-latent model — a benchmark, not a test.

Times, on `StyleALAE.from_preset("celeba-hq256")` with random weights (timings do not depend
on the weights; GANSpace only runs the mapping network F):
- SeFa eigen part (`sefa_basis`, all 14 styles: stack + normalise 14 affines, eigh of 512x512),
- full `sefa` (the eigen part + σ from 10k mapped samples),
- mapping throughput of F (samples/s),
- full `ganspace` (100k PCA samples + 10k fresh σ samples, 64 components).

    python bench/editing_speed.py                 # 2 threads, 100k samples
    python bench/editing_speed.py --n-samples 1000000 --threads 4

Writes bench/results/editing_speed.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from alae_hf import StyleALAE  # noqa: E402
from alae_hf.latent.spectral import ganspace, mapped_samples, sefa, sefa_basis  # noqa: E402


def seconds(fn, repeats: int = 1) -> float:
    """Median wall time of `repeats` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-samples", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "editing_speed.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = StyleALAE.from_preset("celeba-hq256").eval()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None

    sefa_basis(model, "all")  # warm-up (first LAPACK call)
    rows = {"sefa_eigen_all_layers_s": seconds(lambda: sefa_basis(model, "all"), repeats=5),
            "sefa_full_with_10k_sigma_s": seconds(lambda: sefa(model, "all", n_sigma_samples=10_000))}
    mapping = seconds(lambda: list(mapped_samples(model, 10_000, 0, 10_000)))
    rows["mapping_samples_per_s"] = 10_000 / mapping
    rows[f"ganspace_{args.n_samples // 1000}k_s"] = seconds(
        lambda: ganspace(model, n_samples=args.n_samples, n_components=64, batch_size=10_000))

    result = {"model": "celeba-hq256 (latent 512, 8 mapping layers, 14 styles), random weights",
              "threads": args.threads, "torch": torch.__version__, "cpu": platform.processor() or platform.machine(),
              "cpu_count": os.cpu_count(), "load_average_at_start": load, **rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'measure':<34}{'value':>12}")
    for name, value in rows.items():
        print(f"{name:<34}{value:>12.3f}" if value < 1000 else f"{name:<34}{value:>12,.0f}")
    print(f"(threads {args.threads}, load average at start {load}; wrote {args.out})")


if __name__ == "__main__":
    main()
