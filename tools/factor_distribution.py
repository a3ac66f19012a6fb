"""Factor distribution of generated samples vs the data (a "mostly bald" sampler is what it checks for).

    python tools/factor_distribution.py --model checkpoints/alae-synthetic-faces-64 --num 10000

Attribute-net predictions on `--num` untruncated samples (seed 0) and on as many held-out faces;
per factor, the total-variation distance between the two histograms (categorical: predicted
classes; continuous: 10 equal bins over the factor's range). Target: ≤ 0.1 per factor.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from alae_hf import StyleALAE
from alae_hf.datasets.synthetic_faces import FACTORS
from alae_hf.evaluation.attributes import load_attribute_net
from alae_hf.evaluation.evaluate import synthetic_real
from alae_hf.evaluation.metrics import describe_images, generated_samples


def histogram(factor, values: np.ndarray) -> np.ndarray:
    if values.ndim == 2:
        return np.bincount(values.argmax(1), minlength=values.shape[1]) / len(values)
    bins = np.linspace(factor.low, factor.high, 11)
    return np.histogram(np.clip(values, factor.low, factor.high), bins)[0] / len(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--num", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = StyleALAE.from_pretrained(args.model).eval().requires_grad_(False)
    net = load_attribute_net()
    gen = generated_samples(model, net, args.num, 0, 64)["predictions"]
    real = describe_images(net, synthetic_real("synthetic:faces", model.arch.resolution, 70_000, args.num)[0])[1]
    print("| factor | TV distance | generated histogram | data histogram |\n|---|---|---|---|")
    for f in FACTORS:
        hg, hr = histogram(f, np.asarray(gen[f.name])), histogram(f, np.asarray(real[f.name]))
        print(f"| {f.name} | {0.5 * np.abs(hg - hr).sum():.3f} | {np.round(hg, 2).tolist()} | {np.round(hr, 2).tolist()} |")


if __name__ == "__main__":
    main()
