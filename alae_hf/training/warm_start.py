"""`--init_from`: a new training run that starts from a saved model instead of random weights.

The model (a folder or Hub repo id that `alae_hf.load` opens: a trained alae_hf model, the bundled
default, or official weights converted by `alae_hf.convert`) gives the architecture and every
weight (F, G, E, D and `w_avg`); the run trains at its full resolution with blend 1 (no re-growing:
the official `LODDriver` grows only from scratch), fresh optimizers and a fresh schedule. What the
model had already seen is carried on as `images_in_all` (StyleGAN2-ADA's `--resume` counts images
the same way, from the resumed network's `cur_nimg`), so a model trained over many runs says how
many images are behind it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..models.base import ALAEModel
from ..models.config import PRESETS, ALAEConfig
from ..models.loading import load
from ..models.mlp_networks import MLP_PRESETS, MLPConfig
from . import checkpoints as ckpt
from .options import ARCH_OVERRIDES, DEFAULT_PRESETS, TrainConfig
from .run import Run
from .schedule import ScheduleConfig, schedule_preset

# Architecture flags that only change training, not the weights' shapes: they may differ from the model's.
TRAINING_ONLY = ("style_mixing_prob",)


@dataclass(frozen=True)
class Source:
    """The model a run starts from.

    Args:
        name: the folder or repo id as given.
        model: the loaded model (its weights go into the run's networks and EMA).
        images: the images behind it (`images_in_all` or `images_seen` of its
            `training_state.json`); None when unknown (e.g. converted official weights).
    """

    name: str
    model: ALAEModel
    images: int | None


def find_source(config: TrainConfig) -> Source | None:
    """The `--init_from` model; or, when resuming a run that was started with `--init_from`, that
    run's model (the architecture and full-resolution schedule come from it again, the weights from
    the checkpoint); None for a run from random weights."""
    if config.init_from is not None:
        return read_source(config.init_from)
    state = _resumed_state(config)
    started = state.get("init_from")
    if not isinstance(started, dict) or "model" not in started:
        return None
    folder = Path(state["folder"]) / "model"
    return Source(str(started["model"]), read_source(str(folder)).model, started.get("images"))


def _resumed_state(config: TrainConfig) -> dict[str, Any]:
    """`training_state.json` (+ "folder") of the checkpoint `--resume_from_checkpoint` names, {} if none
    (`checkpoints.resolve_resume` validates it later and says what is wrong with it)."""
    spec, out = config.resume_from_checkpoint, Path(config.output_dir)
    if spec is None:
        return {}
    if spec == "latest":
        found = ckpt.complete_checkpoints(out)
        folder = found[-1][1] if found else None
    else:
        folder = Path(spec) if Path(spec).exists() else out / spec
    state = {} if folder is None else _read_json(folder / "training_state.json")
    return {**state, "folder": str(folder)} if state else {}


def record_source(run: Run, source: Source) -> None:
    """Note in the run (and so in its checkpoints and card) what it started from, and say so."""
    run.init_from = {"model": source.name, "images": source.images}
    known = "an unknown number of" if source.images is None else f"{source.images:,}"
    run.accelerator.print(
        f"starting from {source.name} ({known} images behind it) at its full resolution, "
        f"with fresh optimizers and schedule"
    )


def read_source(name: str) -> Source:
    """Open `name` with `alae_hf.load`; one line (SystemExit) for a missing or non-ALAE folder."""
    try:
        model = load(name)
    except (OSError, ValueError) as err:
        detail = " ".join(str(err).split())
        raise SystemExit(f"error: --init_from {name}: {detail}") from None
    return Source(name, model, _images_behind(name))


def _images_behind(name: str) -> int | None:
    """The images behind a model folder, from what a training run left in it: the checkpoint's
    `training_state.json` (bundled models keep it) or a finished run's `training_summary.json`."""
    for file in ("training_state.json", "training_summary.json"):
        state = _read_json(_model_file(name, file))
        images = state.get("images_in_all", state.get("images_seen"))
        if isinstance(images, int) and images >= 0:
            return images
    return None


def _model_file(name: str, file: str) -> Path:
    if Path(name).is_dir():
        return Path(name) / file
    from huggingface_hub import try_to_load_from_cache  # a Hub repo: a cached copy, no download

    cached = try_to_load_from_cache(name, file)
    return Path(cached) if isinstance(cached, str) else Path(name) / file


def _read_json(path: Path) -> dict[str, Any]:
    """A JSON object from `path`, {} if it is missing or unreadable."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def source_arch_and_schedule(
    config: TrainConfig, source: Source
) -> tuple[ALAEConfig | MLPConfig, ScheduleConfig]:
    """The model's architecture (with the training-only overrides given) and a schedule at its full
    resolution; one line (SystemExit) for a flag that contradicts the model."""
    arch = source.model.arch
    kind = "mlp" if isinstance(arch, MLPConfig) else "style"
    what = f"--init_from {source.name} holds a {type(source.model).__name__}"
    if config.architecture not in (None, kind):
        raise SystemExit(
            f"error: {what}; it cannot be trained with --architecture {config.architecture}"
        )
    fields = arch.to_dict()
    clashes = [
        f"--{k} {getattr(config, k)} (the model has {fields.get(k, 'none')})"
        for k in ARCH_OVERRIDES
        if k not in TRAINING_ONLY
        and getattr(config, k) is not None
        and getattr(config, k) != fields.get(k)
    ]
    if clashes:
        raise SystemExit(
            f"error: {what} that differs from {', '.join(clashes)}; leave these flags out"
        )
    changed = {k: getattr(config, k) for k in TRAINING_ONLY if getattr(config, k) is not None}
    if changed and not set(changed) <= set(fields):
        raise SystemExit(f"error: {what}, which has no {', '.join(f'--{k}' for k in changed)}")
    arch = replace(arch, **changed) if changed else arch
    own = MLP_PRESETS if kind == "mlp" else PRESETS  # a --preset of the other kind is the default's
    preset = (
        config.preset
        if config.preset is not None and config.preset in own
        else DEFAULT_PRESETS[kind]
    )
    overrides = dict(batch_size=config.train_batch_size, learning_rate=config.learning_rate)
    sched = schedule_preset(
        preset,
        arch.max_lod,
        progressive=False,
        **{k: v for k, v in overrides.items() if v is not None},
    )
    return arch, sched
