#!/usr/bin/env python
"""Train StyleALAE with Accelerate: the official three-phase ALAE iteration with progressive
growing, an EMA copy, atomic resumable checkpoints and any number of processes.

A thin CLI: the command line becomes a validated `alae_hf.training.options.TrainConfig`, and
`alae_hf.training.trainer.train` runs it (official `train_alae.py`). The console command
`alae-train` is the same (`alae_hf.training.__main__.main`).

    accelerate launch train_accelerate.py --train_data_dir DIR --preset celeba-hq256 --output_dir out
"""

from __future__ import annotations

import time

START = time.monotonic()  # --max_train_minutes counts from here, imports included

from alae_hf.training.__main__ import main as train_main  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    train_main(argv, start=START)


if __name__ == "__main__":
    main()
