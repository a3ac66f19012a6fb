"""`alae-convert` and `python -m alae_hf.convert`: the command line of `alae_hf.convert`, parsed
before torch is imported (`--help` and a mistyped option answer at once).

    alae-convert --checkpoint model_157.pth --out ffhq [--preset ffhq] [--no-ema] [--fp16]
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models.base import ALAEModel


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Convert an official ALAE .pth (StyleALAE or mnist_fc MLP) into an alae_hf folder."
    )
    parser.add_argument(
        "--checkpoint", required=True, help="official .pth file (e.g. model_157.pth)"
    )
    parser.add_argument(
        "--preset",
        default=None,
        help="ffhq | celeba-hq256 | bedroom | celeba | mnist | mnist-fc (default: infer)",
    )
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument(
        "--no-ema", action="store_true", help="use the training weights instead of the EMA ones"
    )
    parser.add_argument("--fp16", action="store_true", help="also write an fp16 variant")
    args = parser.parse_args(argv)
    from .convert import ConversionError, convert_checkpoint

    try:
        model = convert_checkpoint(args.checkpoint, args.preset, ema=not args.no_ema)
        _write(model, args)
    except (ConversionError, OSError, ValueError) as err:  # bad input: one line and exit code 2
        parser.exit(2, f"alae-convert: error: {err}\n")
    print(f"wrote {args.out} ({sum(p.numel() for p in model.parameters()):,} parameters)")


def _write(model: ALAEModel, args: argparse.Namespace) -> None:
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise OSError(f"--out {args.out} is a file, not a folder")
    model.save_pretrained(args.out)
    if args.fp16:
        model.half().save_pretrained(args.out, variant="fp16")
    name = os.path.basename(os.fspath(args.checkpoint))
    with open(os.path.join(args.out, "README.md"), "w", encoding="utf-8") as handle:
        description = (
            f"Converted from the official checkpoint `{name}` "
            f"({'EMA' if not args.no_ema else 'training'} weights) with `alae-convert`."
        )
        title = f"{model.display_name} ({args.preset or 'converted'})"
        handle.write(model.card(title=title, description=description))
