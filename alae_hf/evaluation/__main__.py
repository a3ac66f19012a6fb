"""`python -m alae_hf.evaluation --model DIR --out report/` and `alae-eval`: the command line of
`alae_hf.evaluation.evaluate.evaluate`, parsed before torch is imported (`--help` answers at once)."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from .sizes import EvalSizes


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description="Evaluate an alae_hf model folder (metrics.json, report.md, PNGs)."
    )
    p.add_argument(
        "--model", required=True, help="model folder or Hub id (alae_hf.load: StyleALAE or MLPALAE)"
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--data",
        default="synthetic:faces",
        help="synthetic:faces[:seed=S,length=L] or an image folder",
    )
    d = EvalSizes()
    for field, value in asdict(d).items():
        p.add_argument("--" + field.replace("_", "-"), type=int, default=value)
    p.add_argument(
        "--metrics",
        default="all",
        help="comma-separated metric names (default: all; an unknown name lists the known ones)",
    )
    p.add_argument("--device", default="cpu")
    p.add_argument(
        "--attribute-net", default=None, help="attribute-net weights (default: the shipped ones)"
    )
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    import torch

    from .evaluate import evaluate

    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = EvalSizes(**{k: getattr(args, k) for k in asdict(d)})
    try:
        m = evaluate(
            args.model,
            args.out,
            args.data,
            sizes,
            args.device,
            args.attribute_net,
            not args.no_progress,
            args.metrics,
        )
    except (OSError, ValueError) as err:  # a bad model, data folder or metric name: one line
        p.exit(2, f"alae-eval: error: {err}\n")
    print(f"wrote {Path(args.out) / 'metrics.json'} and report.md in {m['seconds']:.0f} s")


if __name__ == "__main__":
    main()
