"""The README's before/after figure of encoder-initialised inversion on the bundled default:
held-out synthetic faces (indices 70,000+, never trained on), the encoder's reconstruction
G(E(x)) and the reconstruction after `--steps` refine steps, each with its PSNR.

    python tools/inversion_figure.py [--faces 4] [--steps 50] [--out docs/inversion_before_after.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from alae_hf import StyleALAE
from alae_hf.editing import invert
from alae_hf.evaluation.evaluate import synthetic_real
from alae_hf.evaluation.metrics import to_uint8

ROOT = Path(__file__).resolve().parents[1]
HELDOUT_START = 70_000  # length of the default's training spec `synthetic:faces`
SCALE, TOP = 2, 16


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=str(ROOT / "checkpoints" / "alae-synthetic-faces-64"))
    parser.add_argument("--faces", type=int, default=4)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--out", default=str(ROOT / "docs" / "inversion_before_after.png"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = StyleALAE.from_pretrained(args.model).eval()
    res = model.arch.resolution
    faces, _ = synthetic_real("synthetic:faces", res, HELDOUT_START, args.faces)
    x = torch.from_numpy(faces).permute(0, 3, 1, 2).float() / 127.5 - 1
    before = invert(model, x, steps=0, space="w+")
    after = invert(model, x, steps=args.steps, space="w+")
    columns = [
        ("held-out face", x, None),
        ("encoder G(E(x))", before.reconstruction, before.psnr_before),
        (f"{args.steps} refine steps", after.reconstruction, after.psnr_after),
    ]
    side = res * SCALE
    figure = Image.new("RGB", (3 * (side + 4), TOP + args.faces * (side + 14)), "white")
    draw = ImageDraw.Draw(figure)
    for c, (title, images, psnr) in enumerate(columns):
        draw.text((c * (side + 4) + 2, 2), title, fill="black")
        for r, image in enumerate(to_uint8(images)):
            y = TOP + r * (side + 14)
            tile = Image.fromarray(image.squeeze()).resize((side, side), Image.NEAREST)
            figure.paste(tile, (c * (side + 4) + 2, y))
            if psnr is not None:
                draw.text((c * (side + 4) + 2, y + side + 1), f"{float(psnr[r]):.1f} dB", fill="black")
    figure.save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
