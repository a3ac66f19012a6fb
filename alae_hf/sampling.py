"""`alae-sample`: a PNG grid of samples from any model folder or Hub repo id.

    alae-sample --model checkpoints/alae-synthetic-faces-64 --seeds 0-15 --psi 0.7 --out samples.png

Image i is `model.sample(1, seed=seeds[i])` (z from `numpy.random.RandomState(seed)`, the seed
convention of NVlabs' `generate.py --seeds` and the official ALAE figure scripts), truncated
toward `w_avg` with ψ; `alae_hf.load` opens a StyleALAE or an MLPALAE alike. torch is imported
when a grid is made, after the command line is parsed, so `--help` answers at once.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path

from .latent.styles import parse_ranges

MAX_SEEDS = 1024


def parse_seeds(spec: str) -> list[int]:
    """'0-3,7' -> [0, 1, 2, 3, 7] (inclusive ranges, as layer specs and the app's seed lists)."""
    seeds = [
        s
        for first, last in parse_ranges(spec)
        for s in range(first, min(last, first + MAX_SEEDS) + 1)
    ]
    if not 1 <= len(seeds) <= MAX_SEEDS:
        raise ValueError(f"give 1 to {MAX_SEEDS} seeds, got {len(seeds)} from {spec!r}")
    return seeds


def sample_grid(
    model_path: str,
    seeds: Sequence[int],
    psi: float | None = None,
    columns: int | None = None,
    device: str = "cpu",
):
    """The grid image (PIL) of one sample per seed, `columns` wide (default: about square)."""
    import torch

    from .imaging import make_grid, tensor_to_pil
    from .models.loading import load

    model = load(model_path).eval()
    model.to(device)  # type: ignore[arg-type]  # diffusers wraps `ModelMixin.to`; mypy reads it unbound
    with torch.no_grad():
        images = tensor_to_pil(model.sample(seed=list(seeds), truncation_psi=psi))
    return make_grid(images, columns=columns or math.ceil(math.sqrt(len(images))))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="alae-sample", description="Write a PNG grid of samples from an ALAE model."
    )
    parser.add_argument(
        "--model", required=True, help="model folder or Hub repo id (StyleALAE or MLPALAE)"
    )
    parser.add_argument(
        "--seeds", default="0-15", help="seeds, inclusive ranges and commas, e.g. 0-15 or 3,7,9"
    )
    parser.add_argument(
        "--psi",
        type=float,
        default=None,
        help="truncation ψ (default: the model's config; 1 = off)",
    )
    parser.add_argument(
        "--columns", type=int, default=None, help="images per row (default: about square)"
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="samples.png", help="the PNG to write")
    args = parser.parse_args(argv)
    try:
        grid = sample_grid(args.model, parse_seeds(args.seeds), args.psi, args.columns, args.device)
    except (OSError, ValueError) as err:  # a bad folder, seed list or ψ: one line, exit code 2
        parser.exit(2, f"alae-sample: error: {err}\n")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    grid.save(args.out)
    print(f"wrote {args.out} ({len(parse_seeds(args.seeds))} samples)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
