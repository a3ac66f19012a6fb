"""A training run's start-up: everything `trainer.train` does before its first step.

In the order that fails cheapest first: the Accelerator, the settings and the data (a bad one is a
one-line error before any model is built), the output folder (writable, and no finished model
replaced unless `--overwrite_output_dir`), the checkpoint to resume, then the model (rank 0's
weights on every process), its step context (optimizers, random streams, scaler), EMA and time
budget, the resumed state and the trackers. `trainer.py` runs the loop over the `Run` this returns.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import ProjectConfiguration, broadcast, set_seed

from ..models.base import ALAEModel
from ..models.config import ALAEConfig
from ..models.loading import model_class_for
from ..models.mlp_networks import MLPConfig
from . import budget as time_budget
from . import checkpoints as ckpt
from . import run_state
from .compiled import compile_networks
from .data import make_dataset
from .ema import EMA
from .optim import make_optimizers
from .options import TrainConfig, arch_and_schedule
from .run import Run
from .schedule import ScheduleConfig, schedule_at
from .step import StepContext
from .warm_start import Source, find_source, record_source, source_arch_and_schedule


def cpu_has_native_bf16() -> bool:
    """Whether oneDNN runs bfloat16 convolutions natively on this CPU (else it emulates them)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN
        return False


def check_writable(folder: str) -> None:
    """Create `folder` and write and remove a probe file in it; one line if that fails."""
    path = Path(folder)
    probe = path / f".write-probe-{os.getpid()}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as err:
        raise SystemExit(
            f"error: --output_dir {folder} is not writable ({err.strerror or err})"
        ) from None


def setup(config: TrainConfig, start: float | None = None) -> Run:
    """Data and output folder (checked before any model exists), model, EMA, random streams, resume."""
    acc = make_accelerator(config)
    source = find_source(config)
    arch, sched, dataset = load_data(config, acc, source)
    check_writable(config.output_dir)
    resume_from = find_resume(config, acc)  # before the model: a refused folder costs nothing
    set_seed(config.seed)
    model = build_model(arch, acc, source)
    acc.print(
        f"model: {sum(p.numel() for p in model.parameters()):,} parameters; data: {len(dataset)} images"
    )
    warn_if_bf16_is_emulated(acc)
    ctx = step_context(config, acc, model)
    minutes = config.max_train_minutes
    budget = time_budget.TimeBudget(
        None if minutes is None else 60 * minutes, time_budget.clock() if start is None else start
    )
    run = Run(config, acc, sched, ctx, EMA(model, rampup=config.ema_rampup), dataset, budget)
    if config.init_from is not None and source is not None:
        record_source(run, source)
    if config.compile:  # after the EMA's copy: a deepcopy would share the compiled forward
        ctx.compiled = compile_networks(model, acc.device, acc.print)
    resume(run, resume_from)
    acc.init_trackers(
        "alae_hf",
        config={
            k: v if isinstance(v, (int, float, bool)) else str(v)
            for k, v in config.to_dict().items()
        },
    )
    return run


def make_accelerator(config: TrainConfig) -> Accelerator:
    """The run's Accelerator: mixed precision, trackers, logs in `output_dir/logs`."""
    log_with = None if config.report_to == "none" else config.report_to
    return Accelerator(
        mixed_precision=config.mixed_precision,
        log_with=log_with,
        project_config=ProjectConfiguration(
            project_dir=config.output_dir, logging_dir=os.path.join(config.output_dir, "logs")
        ),
    )


def load_data(
    config: TrainConfig, acc: Accelerator, source: Source | None = None
) -> tuple[ALAEConfig | MLPConfig, ScheduleConfig, Any]:
    """(architecture, schedule, dataset) of `config` (of the `--init_from` model if given); the
    dataset must hold the first batch."""
    if source is not None:  # its own one-line errors: the flags that contradict the model
        arch, sched = source_arch_and_schedule(config, source)
    try:
        if source is None:
            arch, sched = arch_and_schedule(config)
        dataset = make_dataset(
            config.train_data_dir,
            config.dataset_name,
            arch.resolution,
            arch.channels,
            config.center_crop,
            min_images=schedule_at(0, sched, acc.num_processes).batch_size,
        )
    except ValueError as err:
        # bad data or settings: a message before any model is built, not a traceback
        raise SystemExit(f"error: {err}") from None
    return arch, sched, dataset


def build_model(
    arch: ALAEConfig | MLPConfig, acc: Accelerator, source: Source | None = None
) -> ALAEModel:
    """The model class `arch` names, on the run's device in training mode, with the `--init_from`
    model's weights if given; every rank starts from rank 0's weights."""
    model = model_class_for(arch)(**arch.to_dict())
    if source is not None:  # every weight and buffer (w_avg); strict: the shapes were checked
        model.load_state_dict(source.model.state_dict())
    model = model.to(acc.device).train()
    if acc.num_processes > 1:
        broadcast(list(model.state_dict().values()), from_process=0)
    return model


def warn_if_bf16_is_emulated(acc: Accelerator) -> None:
    """Say so when bf16 autocast on this CPU is emulated (it was ~10x slower than float32)."""
    if acc.mixed_precision == "bf16" and acc.device.type == "cpu" and not cpu_has_native_bf16():
        acc.print(
            "warning: this CPU has no native bfloat16 (AVX-512 BF16 or AMX): bf16 autocast is emulated and "
            "was ~10x slower than float32 on such a CPU; --mixed_precision no is faster here"
        )


def step_context(config: TrainConfig, acc: Accelerator, model: ALAEModel) -> StepContext:
    """What `step.iteration` runs with: optimizers (their learning rate set per step), this
    process's random streams, the fp16 grad scaler, autocast and the cross-process mean."""
    rng, host_rng = run_state.generators(config.seed, acc.process_index, acc.device)
    scaler = torch.amp.GradScaler(acc.device.type, enabled=acc.mixed_precision == "fp16")
    reduce_mean = (lambda t: acc.reduce(t, reduction="mean")) if acc.num_processes > 1 else None
    return StepContext(
        model,
        make_optimizers(model, 0.0, config.optimizer),
        rng,
        host_rng,
        scaler,
        r1_gamma=config.r1_gamma,
        autocast=acc.autocast,
        reduce_mean=reduce_mean,
        r1_interval=config.r1_interval,
        real_recon_weight=config.real_recon_weight,
    )


def find_resume(config: TrainConfig, acc: Accelerator) -> Path | None:
    """The checkpoint `--resume_from_checkpoint` names (None: a new run). A new run refuses a
    folder that holds a finished model unless `--overwrite_output_dir` (the Hugging Face
    convention): it would replace that model at its end."""
    if acc.is_main_process:
        ckpt.remove_stale_temporaries(config.output_dir, log=acc.print)
    acc.wait_for_everyone()  # every process must see the same folder before choosing a checkpoint
    try:  # a missing RNG file is judged by run_state (refused unless --allow_rng_reset), not skipped here
        path = ckpt.resolve_resume(
            config.resume_from_checkpoint, config.output_dir, log=acc.print, require_rng=False
        )
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
    if path is not None:
        return Path(path)
    if config.resume_from_checkpoint == "latest":
        acc.print(f"no usable checkpoint in {config.output_dir}; starting a new run")
    out = Path(config.output_dir)
    if (out / "config.json").is_file() and not config.overwrite_output_dir:
        resumable = config.resume_from_checkpoint is None and ckpt.complete_checkpoints(out)
        hint = "--resume_from_checkpoint latest to continue it, " if resumable else ""
        raise SystemExit(
            f"error: --output_dir {out} holds a finished model (config.json) and this run resumes "
            f"no checkpoint of it, so it would replace that model; pass {hint}--overwrite_output_dir "
            f"to start a new run there anyway, or choose another --output_dir"
        )
    return None


def resume(run: Run, path: Path | None) -> None:
    """Load the checkpoint `path` (all-or-nothing), if any; move newer checkpoints aside."""
    config, acc = run.config, run.accelerator
    if path is not None:
        run_state.assign(run, run_state.read(run, path))
        # a run that has nothing left to do need not write this checkpoint again
        run.saved_step = run.step
    # A new run (step 0) or a resume from an older checkpoint starts a new branch: newer
    # checkpoints must not mix in.
    if acc.is_main_process:
        ckpt.abandon_newer(config.output_dir, run.step, log=acc.print)
    acc.wait_for_everyone()
