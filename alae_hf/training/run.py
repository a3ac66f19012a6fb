"""`Run`: everything one training process holds, passed explicitly instead of globals.

Built by `trainer.setup`; read and updated by the loop (`trainer`), its saved state (`run_state`)
and what it leaves behind (`outputs`), none of which needs the others to know its shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accelerate import Accelerator

from ..models.base import ALAEModel
from .budget import TimeBudget
from .ema import EMA
from .options import TrainConfig
from .schedule import ScheduleConfig
from .step import StepContext


@dataclass
class Run:
    """Everything one training process holds; passed explicitly instead of globals."""

    config: TrainConfig
    accelerator: Accelerator
    sched: ScheduleConfig
    ctx: StepContext  # model, optimizers, scaler, random streams: what `step.iteration` needs
    ema: EMA
    dataset: Any
    budget: TimeBudget
    step: int = 0
    images: int = 0
    lod: int | None = None
    loader: Any = None
    loader_batch: int | None = None
    nonfinite_total: int = 0
    nonfinite_run: int = 0
    saved_step: int | None = None
    init_from: dict[str, Any] | None = None  # {"model", "images"} of an --init_from run

    @property
    def images_in_all(self) -> int:
        """The images behind the model: the --init_from model's (when known) plus this run's."""
        before = (self.init_from or {}).get("images") or 0
        return before + self.images

    @property
    def model(self) -> ALAEModel:
        return self.ctx.model
