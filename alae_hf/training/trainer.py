"""A training run with Accelerate: the loop over `step.iteration`, checkpoints, the end (its
set-up is `startup.py`).

The loop of podgorskiy/ALAE `train_alae.py` with the
progressive schedule of `schedule.py` (official `LODDriver`: fresh optimizers at every lod
change), an EMA copy, atomic resumable checkpoints (`run_state.py`), a wall-time budget
(`budget.py`) and any number of processes. `train_accelerate.py` and `alae-train` (`__main__.py`) parse the command line into a
`TrainConfig` and calls `train`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from . import budget as time_budget
from . import checkpoints as ckpt
from . import run_state
from .data import make_loader, prepare_reals
from .optim import make_optimizers
from .options import TrainConfig
from .outputs import sample_grid, summary, write_loss_plot, write_outputs
from .run import Run
from .schedule import TrainingState, schedule_at
from .startup import setup
from .step import iteration

LOGGED = ("lod", "blend", "loss_d", "loss_g", "loss_ae", "recon_mse")


def prepare_step(run: Run, state: TrainingState) -> None:
    """Fresh optimizers when the lod changes (official LODDriver), a new loader when the batch does."""
    if state.lod != run.lod:
        run.ctx.optimizers, run.lod = (
            make_optimizers(run.model, state.learning_rate, run.config.optimizer),
            state.lod,
        )
    for optimizer in run.ctx.optimizers:
        for group in optimizer.param_groups:
            group["lr"] = state.learning_rate
    if state.batch_per_process != run.loader_batch:
        acc, config = run.accelerator, run.config
        run.loader = make_loader(
            run.dataset,
            state.batch_per_process,
            config.seed,
            run.images,
            acc.process_index,
            acc.num_processes,
            config.dataloader_num_workers,
            acc.device.type == "cuda",
        )
        run.loader_batch = state.batch_per_process


def track_nonfinite(run: Run, finite: bool) -> None:
    """Count non-finite iterations; abort after `max_nonfinite_steps` in a row."""
    if finite:
        run.nonfinite_run = 0
        return
    run.nonfinite_total += 1
    run.nonfinite_run += 1
    run.accelerator.print(
        f"step {run.step}: non-finite loss or gradient, optimizer step skipped "
        f"({run.nonfinite_run} in a row, {run.nonfinite_total} in total)"
    )
    if run.nonfinite_run >= run.config.max_nonfinite_steps:
        raise SystemExit(
            f"error: aborting after {run.nonfinite_run} consecutive non-finite steps (step {run.step}, "
            f"{run.images} images). Lower --learning_rate, use --mixed_precision bf16 or no, "
            f"or {run_state.resume_hint(run.config.output_dir)}."
        )


def checkpoint(run: Run) -> None:
    """Save now (timed, for the budget), unless in a non-finite streak or already saved at this step."""
    if run.nonfinite_run or run.saved_step == run.step:
        if run.nonfinite_run:
            run.accelerator.print(f"step {run.step}: no checkpoint during a non-finite streak")
        return
    began = time_budget.clock()
    run_state.save(run)
    run.saved_step = run.step
    if run.accelerator.is_main_process:
        write_loss_plot(run)
    run.budget.saved(time_budget.clock() - began)


def time_is_up(run: Run) -> bool:
    """Whether the wall-time budget is spent or the run was interrupted, decided on every process
    together (any process out of time stops all of them; otherwise one would wait in a save while
    another trains)."""
    if (
        run.budget.limit_s is None
        and run.accelerator.num_processes == 1
        and not run.budget.interrupted
    ):
        return False
    up = torch.tensor([float(run.budget.exhausted())], device=run.accelerator.device)
    if run.accelerator.num_processes > 1:
        up = run.accelerator.reduce(up, reduction="max")
    return bool(up.item())


def one_step(run: Run, state: TrainingState) -> dict[str, float]:
    """Draw a batch, run the iteration, update the EMA (finite steps only) and the counters."""
    prepare_step(run, state)
    flip = run.ctx.rng if run.config.random_flip else None
    reals = prepare_reals(
        next(run.loader), state.resolution, state.blend, run.accelerator.device, flip
    )
    stats, finite = iteration(run.ctx, reals, state.lod, state.blend, step=run.step)
    if finite:
        # the ramp-up counts the model's images in all: a warm start has no random weights to forget
        run.ema.update(
            run.model, state.batch_size, images_seen=run.images_in_all + state.batch_size
        )
    run.images, run.step = run.images + state.batch_size, run.step + 1
    track_nonfinite(run, finite)
    values = (
        torch.stack([v.float() for v in stats.values()]).tolist() if stats else []
    )  # one device sync
    return {
        **dict(zip(stats, values)),
        "kimg": run.images / 1000,
        "lod": state.lod,
        "blend": state.blend,
        "lr": state.learning_rate,
        "nonfinite_steps": run.nonfinite_total,
    }


def planned_stop(run: Run) -> tuple[int, str]:
    """The images seen when `loop` ends without a time limit, and the limit that ends it: the first
    reached of the schedule's total, `--max_train_kimg` and `--max_train_steps` (converted to
    images along the schedule, whose batch changes only with the level of detail)."""
    config, sched, n = run.config, run.sched, run.accelerator.num_processes
    limits = {"the schedule's total": sched.total_kimg * 1000}
    if config.max_train_kimg:
        limits[f"--max_train_kimg {config.max_train_kimg:g}"] = config.max_train_kimg * 1000
    name, stop = min(limits.items(), key=lambda item: item[1])
    images, step, max_steps = run.images, run.step, config.max_train_steps
    lod_images = round(sched.lod_kimg * 1000)
    while images < stop and (max_steps is None or step < max_steps):
        state = schedule_at(images, sched, n)
        next_lod = (
            (state.lod + 1) * lod_images
            if sched.growing and state.lod < sched.max_lod
            else math.inf
        )
        count = math.ceil((min(stop, next_lod) - images) / state.batch_size)
        count = count if max_steps is None else min(count, max_steps - step)
        images, step = images + count * state.batch_size, step + count
    if max_steps is not None and step >= max_steps and images < stop:
        name = f"--max_train_steps {max_steps}"
    return images, name


def loop(run: Run) -> TrainingState:
    """Train until the image count, step count or wall-time budget is reached; end with a checkpoint."""
    config, acc = run.config, run.accelerator
    stop = min(config.max_train_kimg or math.inf, run.sched.total_kimg) * 1000
    total, limit = planned_stop(run)
    minutes = config.max_train_minutes
    until = (
        "" if minutes is None else f", or for --max_train_minutes {minutes:g} if that comes first"
    )
    acc.print(f"training to {total:,} images ({limit}){until}")
    bar = tqdm(
        total=total,
        initial=run.images,
        unit="img",  # whole images: no unit_scale, which shows 76 as "76.0"
        disable=not acc.is_main_process,
        desc=None if minutes is None else f"≤ {minutes:g} min",
    )
    state = schedule_at(run.images, run.sched, acc.num_processes)
    try:  # a message (a stop, an error raised below) comes after the bar, on its own line
        state = run_steps(run, bar, state, stop)
    finally:
        bar.close()
    checkpoint(run)  # every run ends resumable, also one shorter than --checkpointing_steps
    return state


def run_steps(run: Run, bar: tqdm, state: TrainingState, stop: float) -> TrainingState:
    """The steps of `loop`, counted on `bar`, until `stop` images, the step limit or the time."""
    config, acc = run.config, run.accelerator
    while run.images < stop and (
        config.max_train_steps is None or run.step < config.max_train_steps
    ):
        run.budget.step_started()
        if time_is_up(run):
            why = run.budget.interrupted or f"--max_train_minutes {config.max_train_minutes}"
            bar.close()
            acc.print(
                f"{why}: stopping at step {run.step}; continue with --resume_from_checkpoint latest"
            )
            break
        state = schedule_at(run.images, run.sched, acc.num_processes)
        before = run.images
        logs = one_step(run, state)
        acc.log(logs, step=run.step)
        bar.update(state.batch_size)
        bar.set_postfix({k: f"{logs[k]:.3g}" for k in LOGGED if k in logs})
        every = (config.sample_every_kimg or 0) * 1000
        if every and acc.is_main_process and run.images // every > before // every:
            sample_grid(
                run,
                state,
                Path(config.output_dir) / "samples" / f"kimg-{run.images / 1000:011.3f}.png",
            )
        if config.checkpointing_steps and run.step % config.checkpointing_steps == 0:
            checkpoint(run)
    return state


def finish(
    run: Run, state: TrainingState, on_finish: Callable[[Run, dict[str, Any]], None] | None = None
) -> None:
    """Summary, then `on_finish` (see `train`), then (process 0) the final model, samples, card and
    upload; a failed write is one line."""
    info = summary(run, state)
    if on_finish is not None:
        on_finish(run, info)
    if run.accelerator.is_main_process:
        try:
            write_outputs(run, state, info)
        except Exception as err:
            if not ckpt.is_write_error(err):
                raise
            what = "the final model"
            raise SystemExit(
                f"error: {ckpt.write_failure(what, Path(run.config.output_dir), err)}"
            ) from None
    run.accelerator.wait_for_everyone()
    run.accelerator.end_training()


def train(
    config: TrainConfig,
    on_finish: Callable[[Run, dict[str, Any]], None] | None = None,
    start: float | None = None,
) -> Run:
    """Run training as `config` says; returns the finished run.

    Args:
        config: the run's options (`alae_hf.training.options.TrainConfig`).
        on_finish: called on every process once the last step is done, before process 0 writes the
            final model, as `on_finish(run, summary)`: the trained `run.model` and `run.ema`, and the
            summary (`outputs.summary`: steps, images seen, skipped files, ...). A caller reads each
            process's final weights with it (e.g. that all processes agree) or logs the summary.
        start: the clock value when the process started (`training.budget.clock`; default now), so
            that `--max_train_minutes` counts set-up too.
    """
    run = setup(config, start)
    run.budget.stop_on_signals()  # Ctrl-C / SIGTERM: save a checkpoint at the next step boundary, then stop
    try:
        finish(run, loop(run), on_finish)
    finally:
        run.budget.restore_signals()
    return run
