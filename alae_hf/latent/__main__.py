"""`alae-directions` and `python -m alae_hf.latent`: compute SeFa or GANSpace directions of a model
folder (`alae_hf.latent.spectral`) and save them, into the folder's `directions/` by default, where
the app and `Directions.load` find them.

The arguments are parsed before torch is imported, so `--help` and a bad option answer at once.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alae-directions", description="Compute SeFa or GANSpace directions."
    )
    parser.add_argument("--model", required=True, help="model folder (StyleALAE or MLPALAE)")
    parser.add_argument("--method", choices=("sefa", "ganspace"), default="sefa")
    parser.add_argument(
        "--layers",
        default="all",
        help="layer spec: all, coarse, middle, fine or ranges such as 0-3",
    )
    parser.add_argument("--num", type=int, default=16, help="directions kept")
    parser.add_argument(
        "--samples", type=int, default=100_000, help="GANSpace: mapped samples for the PCA"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--name", default=None, help="name in the folder's directions/ (default: METHOD)"
    )
    parser.add_argument(
        "--out", default=None, help="write OUT.safetensors + OUT.json instead of into the folder"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a direction set of that name (refused by default: a model folder's sets "
        "are part of the model)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from ..models.loading import load
    from .directions import existing_pair, set_path
    from .spectral import ganspace, sefa

    try:
        target = args.out or set_path(args.model, args.name or args.method)
        existing = existing_pair(target)
        if existing and not args.overwrite:  # before the work, not after it
            parser.exit(
                2,
                f"alae-directions: error: {existing[0]} already exists; choose another --name "
                "(or --out), or pass --overwrite to replace it\n",
            )
        model = load(args.model).eval()
        num = min(args.num, model.arch.latent_size)
        if args.method == "sefa":
            found = sefa(model, args.layers, num_directions=num, seed=args.seed)
        else:
            found = ganspace(
                model, n_samples=args.samples, n_components=num, seed=args.seed, layers=args.layers
            )
        path = found.save_to(target, overwrite=args.overwrite)
    except (OSError, ValueError) as err:
        parser.exit(2, f"alae-directions: error: {err}\n")
    print(f"wrote {path}.safetensors and .json: {found!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
