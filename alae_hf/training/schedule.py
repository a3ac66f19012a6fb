"""Progressive growing as a pure function of the number of training images seen.

Matches the official `lod_driver.py` (`LODDriver`), `scheduler.py` and the `TRAIN` section of
`configs/*.yaml` (podgorskiy/ALAE), re-expressed in images so that any
data set size works. The official driver counts epochs of `DATASET.SIZE` images; with
`E = EPOCHS_PER_LOD` and `S = DATASET.SIZE` it maps to images as

    lod_kimg   = E * S / 1000          images spent at each level of detail
    fade_kimg  = (E // 2) * S / 1000   fade-in at the start of every lod > 0 (first half of its epochs)
    total_kimg = TRAIN_EPOCHS * S / 1000

so that at `n` images: lod = min(max_lod, n // lod_images); during the fade-in
blend = 0.5 + 0.5 * sin(pi * t - pi / 2) with t = (n - lod * lod_images) / fade_images; the
learning rate is `LEARNING_RATES[lod]` (no decay milestones are used by any official config) and
the total batch is `LOD_2_BATCH_<g>GPU[min(lod, len - 1)]`, split evenly over processes.
With `lod_kimg = 0` or `progressive=False` training stays at the full lod with blend 1.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from ..models.config import MLP_PRESETS, preset

# The official tables exist for these process counts; other counts use the largest one below.
TABLE_PROCESS_COUNTS = (1, 2, 4, 8)


@dataclass(frozen=True)
class OfficialTraining:
    """The `TRAIN`/`DATASET` values of one official config.

    Args:
        dataset_size: `DATASET.SIZE` (images per epoch).
        epochs_per_lod: `TRAIN.EPOCHS_PER_LOD`.
        train_epochs: `TRAIN.TRAIN_EPOCHS`.
        learning_rates: `TRAIN.LEARNING_RATES`, one per lod.
        batch_tables: `TRAIN.LOD_2_BATCH_{1,2,4,8}GPU`: total batch per lod, by GPU count.
    """

    dataset_size: int
    epochs_per_lod: int
    train_epochs: int
    learning_rates: tuple[float, ...]
    batch_tables: dict[int, tuple[int, ...]]


_FACES_LR = (0.0015,) * 6 + (0.002, 0.003, 0.003)
_BIG_BATCH = {
    8: (512, 256, 128, 64, 32, 32, 32, 32, 32),
    4: (512, 256, 128, 64, 32, 32, 32, 32, 16),
    2: (512, 256, 128, 64, 32, 32, 16),
    1: (512, 256, 128, 64, 32, 16),
}
_SMALL_BATCH = {
    8: (512, 256, 128, 64, 32, 32, 32, 32, 32),
    4: (512, 256, 128, 64, 32, 32, 32, 32, 16),
    2: (128, 128, 128, 64, 32, 32, 16),
    1: (128, 128, 128, 64, 32, 16),
}

# official configs/{ffhq,celeba-hq256,bedroom,celeba,mnist}.yaml (checked against the files).
OFFICIAL_TRAINING: dict[str, OfficialTraining] = {
    "ffhq": OfficialTraining(60_000, 16, 300, _FACES_LR, _BIG_BATCH),
    "celeba-hq256": OfficialTraining(
        29_000,
        30,
        280,
        (0.0015,) * 7 + (0.003, 0.003),
        {**_SMALL_BATCH, 8: (512, 256, 128, 64, 32, 32, 32, 32, 24)},
    ),
    "bedroom": OfficialTraining(758_260, 2, 112, _FACES_LR, _BIG_BATCH),
    "celeba": OfficialTraining(182_637, 6, 80, _FACES_LR, _SMALL_BATCH),
    "mnist": OfficialTraining(
        60_000, 10, 60, (0.0015,) * 4, {g: (128, 128, 128, 64) for g in TABLE_PROCESS_COUNTS}
    ),
    # configs/mnist_fc.yaml (the MLP ALAE, `alae_hf.models.mlp`): EPOCHS_PER_LOD 0, i.e. no growing
    "mnist-fc": OfficialTraining(
        60_000,
        0,
        600,
        (0.003, 0.003, 0.002, 0.002),
        {8: (128, 128, 128, 1024), 4: (128,) * 4, 2: (128,) * 4, 1: (128,) * 4},
    ),
}


@dataclass(frozen=True)
class ScheduleConfig:
    """A training schedule in images (every field overridable with `replace`).

    Args:
        max_lod: the model's full level of detail (`ALAEConfig.max_lod`).
        lod_kimg: thousands of images per level of detail; 0 disables growing.
        fade_kimg: thousands of images of fade-in at the start of each lod > 0 (<= lod_kimg).
        total_kimg: default training length.
        learning_rates: per-lod learning rate (the last one repeats).
        batch_tables: total batch per lod (the last one repeats), keyed by process count.
        progressive: False trains at max_lod with blend 1 from the first image.
        batch_size: per-process batch overriding the tables (None: use the tables).
        learning_rate: learning rate overriding the per-lod list (None: use the list).
    """

    max_lod: int
    lod_kimg: float
    fade_kimg: float
    total_kimg: float
    learning_rates: tuple[float, ...]
    batch_tables: dict[int, tuple[int, ...]] = field(default_factory=lambda: dict(_SMALL_BATCH))
    progressive: bool = True
    batch_size: int | None = None
    learning_rate: float | None = None

    def __post_init__(self) -> None:
        if self.max_lod < 0:
            raise ValueError(f"max_lod must be >= 0, got {self.max_lod}")
        if not 0 <= self.fade_kimg <= self.lod_kimg or self.total_kimg <= 0:
            raise ValueError(
                f"need 0 <= fade_kimg <= lod_kimg and total_kimg > 0, got fade_kimg="
                f"{self.fade_kimg}, lod_kimg={self.lod_kimg}, total_kimg={self.total_kimg}"
            )
        if self.lod_kimg > 0 and round(self.lod_kimg * 1000) < 1:  # lod_and_blend divides by it
            raise ValueError(
                f"lod_kimg must be 0 (no growing) or at least 0.001 (one image per level), "
                f"got {self.lod_kimg}"
            )
        if not self.learning_rates or min(self.learning_rates) <= 0:
            raise ValueError(
                f"learning_rates must be a non-empty list of positive numbers, got {self.learning_rates}"
            )
        if not self.batch_tables or any(not t or min(t) < 1 for t in self.batch_tables.values()):
            raise ValueError(
                f"batch_tables must map process counts to lists of positive batches, "
                f"got {self.batch_tables}"
            )
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.learning_rate is not None and self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")

    @property
    def growing(self) -> bool:
        return self.progressive and self.lod_kimg > 0 and self.max_lod > 0

    def replace(self, **overrides: Any) -> ScheduleConfig:
        unknown = set(overrides) - {f.name for f in fields(self)}
        if unknown:
            raise ValueError(
                f"unknown schedule keys {sorted(unknown)}; allowed: {[f.name for f in fields(self)]}"
            )
        return replace(self, **overrides)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (process counts become string keys)."""
        out = asdict(self)
        out["batch_tables"] = {str(k): list(v) for k, v in self.batch_tables.items()}
        out["learning_rates"] = list(self.learning_rates)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScheduleConfig:
        data = dict(data)
        data["batch_tables"] = {int(k): tuple(v) for k, v in data["batch_tables"].items()}
        data["learning_rates"] = tuple(data["learning_rates"])
        return cls(**data)


@dataclass(frozen=True)
class TrainingState:
    """Where training stands after `images_seen` images.

    Args:
        lod: level of detail (resolution 2^(lod+2)).
        blend: fade-in factor in [0, 1] (1 outside fade-ins).
        batch_size: total batch over all processes for the next step.
        batch_per_process: each process's share of it.
        learning_rate: learning rate of both optimizers.
    """

    lod: int
    blend: float
    batch_size: int
    batch_per_process: int
    learning_rate: float

    @property
    def resolution(self) -> int:
        return 2 ** (self.lod + 2)


def schedule_preset(name: str, max_lod: int | None = None, **overrides: Any) -> ScheduleConfig:
    """The schedule of an official config in images, for a model with `max_lod` (default:
    the preset's own), any `ScheduleConfig` field overridden."""
    if name not in OFFICIAL_TRAINING:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(OFFICIAL_TRAINING)}")
    if max_lod is None:
        max_lod = (MLP_PRESETS[name] if name in MLP_PRESETS else preset(name)).max_lod
    official = OFFICIAL_TRAINING[name]
    size = official.dataset_size / 1000
    config = ScheduleConfig(
        max_lod=max_lod,
        lod_kimg=official.epochs_per_lod * size,
        fade_kimg=(official.epochs_per_lod // 2) * size,
        total_kimg=official.train_epochs * size,
        learning_rates=official.learning_rates,
        batch_tables=dict(official.batch_tables),
    )
    return config.replace(**overrides) if overrides else config


def lod_and_blend(images_seen: int, config: ScheduleConfig) -> tuple[int, float]:
    """Level of detail and fade-in factor after `images_seen` images (official `LODDriver`)."""
    if images_seen < 0:
        raise ValueError(f"images_seen must be >= 0, got {images_seen}")
    if not config.growing:
        return config.max_lod, 1.0
    lod_images = round(config.lod_kimg * 1000)
    fade_images = round(config.fade_kimg * 1000)
    lod = min(config.max_lod, images_seen // lod_images)
    into_lod = images_seen - lod * lod_images
    if lod == 0 or into_lod >= fade_images:
        return lod, 1.0
    return lod, fade_ramp(into_lod / fade_images)


def fade_ramp(t: float) -> float:
    """The official sinusoidal ramp 0.5 + 0.5 sin(pi t - pi/2): 0 at t=0, 1 at t=1, flat at both ends."""
    return 0.5 + 0.5 * math.sin(math.pi * min(max(t, 0.0), 1.0) - 0.5 * math.pi)


def batch_sizes(lod: int, config: ScheduleConfig, num_processes: int = 1) -> tuple[int, int]:
    """(total batch, per-process batch) at `lod` for `num_processes` processes.

    The official table for the largest process count <= num_processes gives the total batch,
    split evenly (official `get_per_GPU_batch_size`); `config.batch_size` overrides the
    per-process batch.
    """
    if num_processes < 1:
        raise ValueError(f"num_processes must be >= 1, got {num_processes}")
    if config.batch_size is not None:
        return config.batch_size * num_processes, config.batch_size
    counts = sorted(config.batch_tables)
    table = config.batch_tables[max([c for c in counts if c <= num_processes] or counts[:1])]
    per_process = max(1, table[min(lod, len(table) - 1)] // num_processes)
    return per_process * num_processes, per_process


def learning_rate(lod: int, config: ScheduleConfig) -> float:
    """`LEARNING_RATES[lod]` (the last entry repeats), or the override."""
    if config.learning_rate is not None:
        return config.learning_rate
    return config.learning_rates[min(lod, len(config.learning_rates) - 1)]


def schedule_at(images_seen: int, config: ScheduleConfig, num_processes: int = 1) -> TrainingState:
    """Everything the next training step needs, as a pure function of the images seen so far."""
    lod, blend = lod_and_blend(images_seen, config)
    total, per_process = batch_sizes(lod, config, num_processes)
    return TrainingState(lod, blend, total, per_process, learning_rate(lod, config))
