"""Exponential moving average of a model's parameters, with a half-life counted in images.

Matches the official `Model.lerp` as called in `train_alae.py`: after every iteration each
parameter of the averaged copy moves toward the trained one with decay
beta = 0.5 ** (batch / 10_000), i.e. a half-life of 10k images whatever the batch size
(official `train_alae.py`: `model_s.lerp(model, betta)`). Buffers (`w_avg`) are copied from the trained
model, not averaged, as the official checkpoint stores the trained model's `dlatent_avg`.
One deliberate difference: the copy starts from the trained model's initial weights (the
official code initialises it independently); after a few half-lives this no longer matters.

For short runs an optional ramp-up (StyleGAN2-ADA's `ema_rampup`, Karras et al. 2020) caps the
half-life at `rampup * images_seen`, so the average does not keep the random initial weights
and the early, fast-moving trajectory for tens of thousands of images. Off by default (official).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

OFFICIAL_HALF_LIFE_IMAGES = 10_000


class EMA:
    """An averaged copy of `model` (eval mode, no gradients).

    Args:
        model: the model being trained; it is deep-copied.
        half_life_images: images after which an old parameter value has half its weight.
        rampup: if set, the half-life is at most `rampup * images_seen` (e.g. 0.05); None = official.
    """

    def __init__(
        self,
        model: nn.Module,
        half_life_images: float = OFFICIAL_HALF_LIFE_IMAGES,
        rampup: float | None = None,
    ) -> None:
        if half_life_images <= 0:
            raise ValueError(f"half_life_images must be > 0, got {half_life_images}")
        if rampup is not None and not 0 < rampup <= 1:
            raise ValueError(f"rampup must be in (0, 1], got {rampup}")
        self.half_life_images = float(half_life_images)
        self.rampup = rampup
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.num_updates = 0

    def decay(self, batch_size: int, images_seen: int | None = None) -> float:
        """beta for one step of `batch_size` images (official 0.5 ** (batch / 10k)), with the
        ramp-up's shorter half-life when it is on and `images_seen` is given."""
        half_life = self.half_life_images
        if self.rampup is not None and images_seen is not None:
            half_life = min(half_life, max(self.rampup * images_seen, 1e-8))
        return 0.5 ** (batch_size / half_life)

    def _pairs(self, model: nn.Module) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        mine, theirs = dict(self.model.named_parameters()), dict(model.named_parameters())
        if mine.keys() != theirs.keys():
            raise ValueError("the EMA copy and the model have different parameters")
        return list(mine.values()), [theirs[k].detach() for k in mine]

    @torch.no_grad()
    def update(self, model: nn.Module, batch_size: int, images_seen: int | None = None) -> None:
        """Move every parameter toward `model`'s by 1 - decay; copy its buffers. `images_seen`
        (after this batch) matters only with a ramp-up."""
        averaged, current = self._pairs(model)
        torch._foreach_lerp_(averaged, current, 1.0 - self.decay(batch_size, images_seen))
        buffers = dict(model.named_buffers())
        for name, buffer in self.model.named_buffers():
            buffer.copy_(buffers[name])
        self.num_updates += 1

    def state_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "num_updates": self.num_updates,
            "half_life_images": self.half_life_images,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.num_updates = int(state.get("num_updates", 0))
        self.half_life_images = float(state.get("half_life_images", self.half_life_images))
