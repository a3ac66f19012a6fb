"""`alae-train` and `python -m alae_hf.training`: the command line of `alae_hf.training.trainer`
(the same options as `accelerate launch train_accelerate.py`), parsed into a validated
`TrainConfig` before torch is imported, so `--help` and a bad option answer at once."""

from __future__ import annotations

from .options import parse_config


def main(argv: list[str] | None = None, start: float | None = None) -> None:
    """Parse the command line into a `TrainConfig` and train. `start` is when
    --max_train_minutes starts counting (default: the start of set-up; `train_accelerate.py`
    passes its first line's time)."""
    config = parse_config(argv)
    from .trainer import train

    train(config, start=start)


if __name__ == "__main__":
    main()
