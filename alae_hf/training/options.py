"""Training options: one typed, validated `TrainConfig`, from which the command line is built.

Every option of `train_accelerate.py` is a field here with its default and help; `build_parser`
derives the argparse parser from the fields, so the two cannot drift. The config is validated
when it is made (before any data or model exists), saved into each checkpoint's
`training_state.json` (without the Hub token) and carried by the run.
"""

from __future__ import annotations

import argparse
import math
import re
import types
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

from huggingface_hub.serialization._base import parse_size_to_int

from ..models.config import MLP_PRESETS, PRESETS, ALAEConfig, MLPConfig, mlp_preset, preset
from .defaults import KINDS, R1_GAMMA
from .schedule import ScheduleConfig, schedule_preset

ARCH_OVERRIDES = (
    "resolution",
    "latent_size",
    "start_channels",
    "max_channels",
    "mapping_layers",
    "style_mixing_prob",
)
SECRET_FIELDS = ("hub_token",)  # never written to disk
RESUME_FIELDS = (
    "train_batch_size",
    "learning_rate",
)  # changing them on resume needs --allow_config_change
DEFAULT_PRESETS = {
    "style": "celeba-hq256",
    "mlp": "mnist-fc",
}  # --preset when only --architecture is given


def _opt(default: Any, help: str, **extra: Any) -> Any:
    return field(default=default, metadata={"help": help, **extra})


@dataclass(frozen=True)
class TrainConfig:
    """Every option of a training run (the command line of `train_accelerate.py`).

    Args: see each field's `help` (also `python train_accelerate.py --help`).
    """

    train_data_dir: str | None = _opt(
        None,
        "image folder (any nesting), synthetic:faces[:seed=..,length=..] or "
        "sklearn:digits[:train|test|all]",
    )
    dataset_name: str | None = _opt(
        None, "Hub/local data set for datasets.load_dataset (needs `datasets`)"
    )
    preset: str | None = _opt(
        None,
        "model config and training schedule (mnist-fc: the MLP ALAE); default: "
        "mnist-fc with --architecture mlp, else celeba-hq256",
        choices=sorted(PRESETS) + sorted(MLP_PRESETS),
    )
    architecture: str | None = _opt(
        None,
        "style (StyleALAE) or mlp (the paper's MLP ALAE); default: the preset's",
        choices=["style", "mlp"],
    )
    resolution: int | None = _opt(None, "override the preset's resolution")
    latent_size: int | None = _opt(None, "override the preset's value")
    start_channels: int | None = _opt(None, "override the preset's value")
    max_channels: int | None = _opt(None, "override the preset's value")
    mapping_layers: int | None = _opt(None, "override the preset's value")
    style_mixing_prob: float | None = _opt(
        None, "override the preset's style-mixing probability (official 0.9)"
    )
    progressive: bool = _opt(True, "train at full resolution, blend 1", flag="--no-progressive")
    lod_kimg: float | None = _opt(
        None, "kimg per level of detail (default: the preset's; 0: no growing)"
    )
    fade_kimg: float | None = _opt(None, "kimg of fade-in per level (default: half of lod_kimg)")
    r1_gamma: float = _opt(R1_GAMMA, "R1 penalty weight gamma (official 10)")
    r1_interval: int = _opt(
        1,
        "lazy R1 (StyleGAN2): the penalty on every k-th D step only, weighted k; "
        "saves most of R1's double backward (default 1: official, every step)",
    )
    real_recon_weight: float = _opt(
        0.0,
        "not in the paper: add lambda * ||G(E(x)) - x||^2 on real images to "
        "E's loss, G frozen (In-Domain GAN Inversion's encoder loss; default 0: "
        "official)",
    )
    ema_rampup: float | None = _opt(
        None,
        "cap the EMA half-life at this fraction of the images seen (e.g. 0.05 for short runs; default: official)",
    )
    center_crop: bool = _opt(False, "centre-crop non-square images (default: pad)")
    random_flip: bool = _opt(
        False, "mirror images at random (official for every data set but MNIST)"
    )
    dataloader_num_workers: int = _opt(0, "data loading worker processes")
    output_dir: str = _opt("alae-model", "where checkpoints, logs and the final model go")
    overwrite_output_dir: bool = _opt(
        False,
        "start a new run in an --output_dir that holds a finished model "
        "(replaced at the end of the run)",
    )
    train_batch_size: int | None = _opt(
        None, "per-process batch for every lod (default: the tables)"
    )
    learning_rate: float | None = _opt(None, "for every lod (default: the preset's per-lod rates)")
    optimizer: str = _opt(
        "lreq",
        "lreq: the official LREQAdam (exact); adam: stock Adam (eps placed differently)",
        choices=list(KINDS),
    )
    max_train_steps: int | None = _opt(None, "stop after this many steps")
    max_train_kimg: float | None = _opt(None, "default: the preset's TRAIN_EPOCHS x DATASET.SIZE")
    max_train_minutes: float | None = _opt(
        None,
        "end cleanly, with a checkpoint, before this many minutes of wall time (preemptible machines)",
    )
    mixed_precision: str | None = _opt(
        None, "default: accelerate config", choices=["no", "fp16", "bf16"]
    )
    compile: bool = _opt(
        False,
        "compile the networks with torch.compile (TorchInductor; a CPU needs a C++ compiler, "
        "else eager with a warning); the R1 steps run eagerly. Same results, faster on a CPU",
    )
    checkpointing_steps: int = _opt(
        500,
        "write checkpoint-<step> every this many steps and at the end of the "
        "run (0: only at the end)",
    )
    checkpoints_total_limit: int | None = _opt(None, "keep only the newest N checkpoints")
    max_shard_size: str | None = _opt(
        None, "write checkpoint weights in safetensors shards of at most this size (e.g. 16MB)"
    )
    resume_from_checkpoint: str | None = _opt(None, "'latest' or a checkpoint folder")
    init_from: str | None = _opt(
        None,
        "start a new run from a saved model (folder or Hub repo id, e.g. a converted official "
        "checkpoint): its weights in the trained networks and the EMA, its architecture, its full "
        "resolution (no growing); fresh optimizers and schedule (diffusers' scripts call this "
        "--pretrained_model_name_or_path)",
    )
    allow_config_change: bool = _opt(
        False, "resume although --train_batch_size or --learning_rate differ from the checkpoint's"
    )
    allow_rng_reset: bool = _opt(
        False,
        "resume although a checkpoint's RNG file is missing (re-seeds the random "
        "streams: not bit-identical to an uninterrupted run)",
    )
    seed: int = _opt(0, "seed of weights, data order and random streams")
    report_to: str = _opt(
        "tensorboard", "experiment tracker", choices=["tensorboard", "wandb", "none"]
    )
    sample_every_kimg: float | None = _opt(None, "write samples/kimg-*.png (EMA model, fixed z)")
    push_to_hub: bool = _opt(False, "upload the final model (without checkpoints and logs)")
    hub_model_id: str | None = _opt(
        None, "repo id for --push_to_hub (default: the output folder's name)"
    )
    hub_token: str | None = _opt(None, "Hub token (never saved)")
    max_nonfinite_steps: int = _opt(20, "abort after this many non-finite steps in a row")
    license: str = _opt(
        "unknown",
        "the model card's license, a Hub license id such as apache-2.0 or cc-by-nc-4.0 (default "
        "unknown: the card claims no license; the terms of your training data apply)",
    )

    def __post_init__(self) -> None:
        if self.preset is None:  # the preset follows the architecture (frozen: set once, here)
            object.__setattr__(
                self,
                "preset",
                DEFAULT_PRESETS.get(self.architecture or "style", DEFAULT_PRESETS["style"]),
            )
        problems = [p for p in (_check(self, f.name) for f in fields(self)) if p]
        if self.init_from is not None and self.resume_from_checkpoint is not None:
            problems.append(
                "--init_from starts a new run from a model and --resume_from_checkpoint continues "
                "a run: give one of them"
            )
        if problems:
            raise ValueError(problems[0])

    @property
    def max_shard_bytes(self) -> int | None:
        return None if self.max_shard_size is None else parse_size_to_int(self.max_shard_size)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, without secrets."""
        return {k: v for k, v in asdict(self).items() if k not in SECRET_FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


_NONNEGATIVE_INT = ("seed", "dataloader_num_workers", "checkpointing_steps")
_POSITIVE_INT = (
    "max_train_steps",
    "train_batch_size",
    "checkpoints_total_limit",
    "max_nonfinite_steps",
    "r1_interval",
)
_POSITIVE_FLOAT = ("learning_rate", "max_train_kimg", "max_train_minutes", "sample_every_kimg")


def _check(config: TrainConfig, name: str) -> str | None:
    """The problem with one field, or None."""
    value, flag = getattr(config, name), f"--{name}"
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"{flag} must be a finite number, got {value}"
    if name in _NONNEGATIVE_INT and value < 0:
        return f"{flag} must be >= 0, got {value}"
    if name in _POSITIVE_INT + _POSITIVE_FLOAT and value <= 0:
        return f"{flag} must be > 0, got {value}"
    if name in ("r1_gamma", "fade_kimg", "real_recon_weight") and value < 0:
        return f"{flag} must be >= 0, got {value}"
    if name == "lod_kimg" and (value < 0 or (value > 0 and round(value * 1000) < 1)):
        return f"--lod_kimg must be 0 (no growing) or at least 0.001 (one image per level), got {value}"
    if name == "style_mixing_prob" and not 0 <= value <= 1:
        return f"--style_mixing_prob must be in [0, 1], got {value}"
    if name == "ema_rampup" and not 0 < value <= 1:
        return f"--ema_rampup must be in (0, 1], got {value}"
    if name == "max_shard_size":
        try:
            if parse_size_to_int(value) <= 0:
                raise ValueError
        except ValueError:
            return f"--max_shard_size must be a size such as 16MB or 2GB, got {value!r}"
    if name == "license" and not re.fullmatch(r"[a-z0-9][a-z0-9.+-]*", value):
        return f"--license must be a Hub license id such as apache-2.0, got {value!r}"
    choices = next(f.metadata.get("choices") for f in fields(config) if f.name == name)
    if choices and value not in choices:
        return f"{flag} must be one of {', '.join(choices)}, got {value!r}"
    return None


def arch_and_schedule(config: TrainConfig) -> tuple[ALAEConfig | MLPConfig, ScheduleConfig]:
    """The model config (preset + overrides) and the schedule in images.

    Raises:
        ValueError: an override the model config or the schedule refuses.
    """
    name = (
        config.preset or DEFAULT_PRESETS["style"]
    )  # set in __post_init__; `or` only narrows the type
    mlp = name in MLP_PRESETS
    if config.architecture is not None and (config.architecture == "mlp") != mlp:
        names = ", ".join(sorted(MLP_PRESETS if config.architecture == "mlp" else PRESETS))
        raise ValueError(
            f"--architecture {config.architecture} takes the presets {names}, got --preset {config.preset}"
        )
    changed = {k: getattr(config, k) for k in ARCH_OVERRIDES if getattr(config, k) is not None}
    arch = mlp_preset(name, **changed) if mlp else preset(name, **changed)
    fade = (
        config.lod_kimg / 2
        if config.fade_kimg is None and config.lod_kimg is not None
        else config.fade_kimg
    )
    overrides = dict(
        lod_kimg=config.lod_kimg,
        fade_kimg=fade,
        batch_size=config.train_batch_size,
        learning_rate=config.learning_rate,
    )
    sched = schedule_preset(
        name,
        arch.max_lod,
        progressive=config.progressive,
        **{k: v for k, v in overrides.items() if v is not None},
    )
    return arch, sched


# ---- the command line --------------------------------------------------------------------
def _value_type(annotation: Any) -> type:
    """int / float / str / bool from `X` or `X | None`."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return args[0]
    return annotation


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of `train_accelerate.py`, one option per `TrainConfig` field."""
    parser = argparse.ArgumentParser(
        description="Train StyleALAE (ALAE, CVPR 2020) with Accelerate."
    )
    hints = typing.get_type_hints(TrainConfig)
    for f in fields(TrainConfig):
        kind, meta = _value_type(hints[f.name]), f.metadata
        default = f.default if f.default is not MISSING else None
        if kind is bool:
            flag = meta.get("flag", f"--{f.name}")
            action = "store_false" if default else "store_true"
            parser.add_argument(
                flag, dest=f.name, action=action, default=default, help=meta["help"]
            )
        else:
            parser.add_argument(
                f"--{f.name}",
                type=kind,
                default=default,
                choices=meta.get("choices"),
                help=meta["help"],
            )
    return parser


def parse_config(argv: list[str] | None = None) -> TrainConfig:
    """Command line -> validated `TrainConfig`; a bad value exits with one line."""
    namespace = build_parser().parse_args(argv)
    try:
        return TrainConfig(**vars(namespace))
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
