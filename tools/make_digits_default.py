"""Train and assemble the bundled MLP ALAE on handwritten digits (`checkpoints/alae-digits-mlp`).

    nice -n 15 python tools/make_digits_default.py --steps 1000 --out checkpoints/alae-digits-mlp

Official `configs/mnist_fc.yaml` architecture and optimizer settings (Adam betas 0, 0.99, lr
0.002, batch 128, R1 gamma 10, EMA half-life 10k images), on the train split of scikit-learn's
digits laid out like MNIST (`alae_hf.datasets.digits`), CPU, one thread. Each iteration runs the
library's three ALAE phases (`alae_hf.training.losses`) in the official order. Then: EMA weights
saved with `save_pretrained`, `report/` with samples, reconstructions of held-out digits, the
latent-classification table against raw pixels and a plain autoencoder trained with the same
budget (`alae_hf.evaluation.latent_classification`), the loss log, and the model card.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from alae_hf import MLPALAE
from alae_hf.datasets.digits import digits
from alae_hf.evaluation.latent_classification import evaluate, markdown_table, to_model_input
from alae_hf.imaging import make_grid, tensor_to_pil
from alae_hf.mlp import mlp_model_card
from alae_hf.training.ema import EMA
from alae_hf.training.losses import (LatentDraw, encoder_discriminator_loss, generate, generator_loss,
                                     latent_reciprocity_loss)

TITLE = "MLP ALAE — handwritten digits 32 px (alae_hf bundled example)"


def train(model: MLPALAE, x: torch.Tensor, steps: int, batch: int, lr: float, seed: int) -> tuple[EMA, list[dict]]:
    """The three phases per iteration with two Adams (E+D, F+G), w_avg and parameter EMA."""
    adam = dict(lr=lr, betas=(0.0, 0.99), eps=1e-8)
    opt_ed = torch.optim.Adam(list(model.encoder.parameters()) + list(model.discriminator.parameters()), **adam)
    opt_fg = torch.optim.Adam(list(model.generator.parameters()) + list(model.mapping.parameters()), **adam)
    ema, rng, lod, log = EMA(model), torch.Generator().manual_seed(seed), model.arch.max_lod, []
    z_size, start = model.arch.latent_size, time.perf_counter()
    for step in range(1, steps + 1):
        reals = x[torch.randint(len(x), (batch,), generator=rng)]
        with torch.no_grad():
            fakes, w = generate(model, LatentDraw(torch.randn(batch, z_size, generator=rng)), lod, 1.0, None)
        stats = {}
        for optimizers, loss_fn in (
            ((opt_ed,), lambda: encoder_discriminator_loss(model, reals, fakes, 1.0)),
            ((opt_fg,), lambda: generator_loss(model, LatentDraw(torch.randn(batch, z_size, generator=rng)), lod,
                                               1.0, None)),
            ((opt_ed, opt_fg), lambda: latent_reciprocity_loss(model, torch.randn(batch, z_size, generator=rng), lod,
                                                               1.0, None)),
        ):
            model.zero_grad(set_to_none=True)
            loss, phase_stats = loss_fn()
            loss.backward()
            for optimizer in optimizers:
                optimizer.step()
            stats.update(phase_stats)
        model.update_w_avg(w)
        ema.update(model, batch)
        if step % 50 == 0 or step == steps:
            row = {k: round(float(stats[k]), 4) for k in ("loss_d", "loss_g", "loss_ae", "d_real", "d_fake")}
            log.append(dict(step=step, seconds=round(time.perf_counter() - start, 1), **row))
            print(json.dumps(log[-1]), flush=True)
    model.zero_grad(set_to_none=True)
    return ema, log


def report(model: MLPALAE, out: Path, baseline_steps: int, batch: int, lr: float, baseline=None) -> str:
    """samples.png, reconstructions.png and the latent-classification table; returns the table."""
    out.mkdir(parents=True, exist_ok=True)
    make_grid(tensor_to_pil(model.sample(64, seed=0, truncation_psi=1.0)), columns=16).save(out / "samples.png")
    test_u8, _ = digits("test")
    x = to_model_input(test_u8[:32], model.arch.resolution, model.arch.channels)
    with torch.no_grad():
        rec = model.reconstruct(x)
    pairs = [im for i in range(0, 32, 16) for im in tensor_to_pil(x[i:i + 16]) + tensor_to_pil(rec[i:i + 16])]
    make_grid(pairs, columns=16).save(out / "reconstructions.png")
    rows, details = evaluate(model, baseline_steps, batch, lr, baseline=baseline)
    table = markdown_table(rows, details["k"])
    (out / "latent_classification.md").write_text(table + "\n", encoding="utf-8")
    (out / "latent_classification.json").write_text(
        json.dumps(dict(rows=[r.__dict__ for r in rows], **details), indent=2), encoding="utf-8")
    return table + f"\n\nTest-set reconstruction MSE (in [-1, 1]): {details['test_reconstruction_mse']}."


def write_card(out: Path, arch, steps: int, batch: int, lr: float, minutes: float, n_train: int, table: str) -> None:
    """README.md: the MLP ALAE card with the training recipe, the report's figures and table."""
    extra = f"""
## Training

`tools/make_digits_default.py --steps {steps}`: {steps} iterations of batch {batch}
({steps * batch:,} images, {steps * batch / n_train:.0f} epochs of the {n_train:,} train digits), Adam
(betas 0, 0.99) lr {lr}, R1 gamma 10, EMA half-life 10k images; the three ALAE phases of
`alae_hf.training.losses`; {minutes:.1f} min on one (shared) CPU thread. These are scikit-learn's
8x8 digits upscaled into MNIST's 28x28 layout, not MNIST: a small example, not the paper's result.
Architecture: official `mnist_fc` with `resize_mode="{arch.resize_mode}"` (the official "nearest"
leaves 4 rows and columns of G's 28x28 core unseen by E, hence untrained; see `alae_hf.mlp_networks`).

![samples](report/samples.png)

Samples (seed 0, no truncation).

![reconstructions](report/reconstructions.png)

Held-out test digits (odd rows) and their reconstructions G(E(x)) (even rows).

## Latent classification (held-out digits)

Fit on the {n_train:,} train digits' codes, scored on the 360 held-out test digits. The plain
autoencoder has the same E and G, is trained on pixel MSE only with the same steps, batch and
optimizer (`alae_hf.evaluation.latent_classification`); the untrained E is a control.

{table}
"""
    (out / "README.md").write_text(mlp_model_card(arch, title=TITLE, extra_sections=extra), encoding="utf-8")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="checkpoints/alae-digits-mlp")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.002)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--finish", action="store_true", help="no training: report on the model saved in --out")
    p.add_argument("--baseline", default=None, help="a plain AE trained alike (torch.save of state, losses, "
                                                    "seconds), instead of training one")
    p.add_argument("--minutes", type=float, default=None, help="with --finish: the training time for the card")
    args = p.parse_args()
    if args.finish:
        return finish(args)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = MLPALAE.from_preset("mnist-fc").train()
    train_u8, _ = digits("train")
    x = to_model_input(train_u8, model.arch.resolution, model.arch.channels)
    start = time.perf_counter()
    ema, log = train(model, x, args.steps, args.batch, args.lr, args.seed)
    minutes = (time.perf_counter() - start) / 60
    out = Path(args.out)
    final = ema.model.eval()
    final.save_pretrained(out)
    table = report(final, out / "report", args.steps, args.batch, args.lr)
    (out / "report" / "training_log.json").write_text(json.dumps(log, indent=1), encoding="utf-8")
    write_card(out, final.arch, args.steps, args.batch, args.lr, minutes, len(x), table)
    print(table)


def finish(args: argparse.Namespace) -> None:
    """Report and card for a model already saved in --out (e.g. when the baseline was trained apart)."""
    from alae_hf.evaluation.latent_classification import PlainAutoencoder

    out = Path(args.out)
    final = MLPALAE.from_pretrained(out).eval()
    baseline = None
    if args.baseline:
        saved = torch.load(args.baseline, weights_only=True)
        ae = PlainAutoencoder(final.arch)
        ae.load_state_dict(saved["state"])
        baseline = (ae.eval(), saved["losses"], saved["seconds"])
    table = report(final, out / "report", args.steps, args.batch, args.lr, baseline)
    n_train = len(digits("train")[1])
    write_card(out, final.arch, args.steps, args.batch, args.lr, args.minutes or 0.0, n_train, table)
    print(table)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
