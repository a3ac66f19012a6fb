"""Turn a shipped EMA model folder into a resumable training checkpoint.

    python tools/continue_default.py --model checkpoints/alae-synthetic-faces-64 --out RUN

The bundled default ships only its EMA weights and `training_state.json`; its training run's
optimizer state is gone. This writes `RUN/checkpoint-<step>/` in `train_accelerate.py`'s format
(model = ema = the shipped weights, fresh Adam(0, 0.99) state, the shipped counters), so
`train_accelerate.py --output_dir RUN --resume_from_checkpoint latest` continues from the
shipped model at its images-seen count. Adam's second moments restart from zero (with β1 = 0
the first steps are sign-like steps of size lr), and random streams are re-seeded.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from alae_hf import StyleALAE


def adam_state(model: StyleALAE, lr: float) -> tuple[dict, dict]:
    """State dicts of the trainer's two optimizers (E + D, G + F) before any step."""
    def adam(*modules: torch.nn.Module) -> dict:
        return torch.optim.Adam([{"params": m.parameters()} for m in modules], lr=lr, betas=(0.0, 0.99),
                                eps=1e-8).state_dict()
    return adam(model.encoder, model.discriminator), adam(model.generator, model.mapping)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="folder with the EMA weights and training_state.json")
    parser.add_argument("--out", required=True, help="the run's output_dir")
    args = parser.parse_args()
    state = json.loads((Path(args.model) / "training_state.json").read_text())
    model = StyleALAE.from_pretrained(args.model)
    if model.arch.to_dict() != state["arch"]:
        raise SystemExit(f"error: {args.model} config {model.arch.to_dict()} differs from its training state")
    ckpt = Path(args.out) / f"checkpoint-{state['step']}"
    ckpt.mkdir(parents=True, exist_ok=False)
    model.save_pretrained(ckpt / "model")
    model.save_pretrained(ckpt / "ema")
    ed, fg = adam_state(model, state["schedule"]["learning_rate"] or 0.0)
    torch.save({"encoder_discriminator": ed, "mapping_generator": fg, "grad_scaler": {}}, ckpt / "optimizers.pt")
    state = dict(state, num_processes=1)  # no rng_state files: the trainer re-seeds its streams (--allow_rng_reset)
    (ckpt / "training_state.json").write_text(json.dumps(state, indent=1))
    (ckpt / "COMPLETE").write_text("")  # alae_hf.training.checkpoints' marker of a finished checkpoint
    print(f"wrote {ckpt}")


if __name__ == "__main__":
    main()
