#!/usr/bin/env python
"""Train StyleALAE with Accelerate: the official three-phase ALAE iteration with progressive
growing, an EMA copy, atomic resumable checkpoints and any number of processes.

A thin CLI over `alae_hf.training.losses`, `.schedule`, `.ema`, `.data` (official `train_alae.py`;
shared/reference/official_alae.md §4). The four networks stay unwrapped (no DDP): after each
phase's backward, that phase's gradients and loss statistics are flattened into one buffer and
averaged over processes with one all-reduce, so every rank takes the identical optimizer step.

    accelerate launch train_accelerate.py --train_data_dir DIR --preset celeba-hq256 --output_dir out
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from accelerate import Accelerator
from accelerate.utils import ProjectConfiguration, gather_object, set_seed
from tqdm.auto import tqdm

from alae_hf import PRESETS, ALAEConfig, StyleALAE, preset
from alae_hf.card import model_card
from alae_hf.training.checkpoints import atomic_checkpoint, remove_stale_temporaries, resolve_resume, rotate
from alae_hf.training.data import downsample_to, make_dataset, make_loader, random_flip, to_model_range
from alae_hf.training.ema import EMA
from alae_hf.imaging import make_grid, tensor_to_pil
from alae_hf.training.losses import (Stats, draw_latents, encoder_discriminator_loss, fade_in_reals, generate,
                            generator_loss, latent_reciprocity_loss)
from alae_hf.training.schedule import ScheduleConfig, TrainingState, schedule_at, schedule_preset

SAMPLE_SEED = 3456  # official train_alae.py: RandomState(3456) latents for the sample sheets


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Train StyleALAE (ALAE, CVPR 2020) with Accelerate.")
    a = p.add_argument
    a("--train_data_dir", default=None, help="image folder (any nesting), or synthetic:faces[:seed=..,length=..]")
    a("--dataset_name", default=None, help="Hub/local data set for datasets.load_dataset (needs `datasets`)")
    a("--preset", default="celeba-hq256", choices=sorted(PRESETS), help="model config and training schedule")
    a("--resolution", type=int, default=None, help="override the preset's resolution")
    for name in ("latent_size", "start_channels", "max_channels", "mapping_layers"):
        a(f"--{name}", type=int, default=None, help="override the preset's value")
    a("--no-progressive", dest="progressive", action="store_false", help="train at full resolution, blend 1")
    a("--lod_kimg", type=float, default=None, help="kimg per level of detail (default: the preset's)")
    a("--fade_kimg", type=float, default=None, help="kimg of fade-in per level (default: half of lod_kimg)")
    a("--r1_gamma", type=float, default=10.0)
    a("--ema_rampup", type=float, default=None,
      help="cap the EMA half-life at this fraction of the images seen (e.g. 0.05 for short runs; default: official)")
    a("--center_crop", action="store_true", help="centre-crop non-square images (default: pad)")
    a("--random_flip", action="store_true")
    a("--dataloader_num_workers", type=int, default=0)
    a("--output_dir", default="alae-model")
    a("--train_batch_size", type=int, default=None, help="per-process batch for every lod (default: the tables)")
    a("--learning_rate", type=float, default=None, help="for every lod (default: the preset's per-lod rates)")
    a("--max_train_steps", type=int, default=None)
    a("--max_train_kimg", type=float, default=None, help="default: the preset's TRAIN_EPOCHS x DATASET.SIZE")
    a("--mixed_precision", choices=["no", "fp16", "bf16"], default=None, help="default: accelerate config")
    a("--checkpointing_steps", type=int, default=500)
    a("--checkpoints_total_limit", type=int, default=None)
    a("--resume_from_checkpoint", default=None, help="'latest' or a checkpoint folder")
    a("--seed", type=int, default=0)
    a("--report_to", choices=["tensorboard", "wandb", "none"], default="tensorboard")
    a("--sample_every_kimg", type=float, default=None, help="write samples/kimg-*.png (EMA model, fixed z)")
    a("--push_to_hub", action="store_true")
    a("--hub_model_id", default=None)
    a("--hub_token", default=None)
    a("--max_nonfinite_steps", type=int, default=20, help="abort after this many non-finite steps in a row")
    a("--debug_dump_rank_hashes", action="store_true", help="write a hash of each rank's weights (tests)")
    a("--debug_nonfinite_steps", default="", help="comma-separated steps whose phase-1 loss is made NaN (tests)")
    args = p.parse_args(argv)
    args.debug_nonfinite_steps = {int(s) for s in args.debug_nonfinite_steps.split(",") if s.strip()}
    return args


def configs(args: argparse.Namespace) -> tuple[ALAEConfig, ScheduleConfig]:
    keys = ("resolution", "latent_size", "start_channels", "max_channels", "mapping_layers")
    arch = preset(args.preset, **{k: getattr(args, k) for k in keys if getattr(args, k) is not None})
    fade = args.lod_kimg / 2 if args.fade_kimg is None and args.lod_kimg is not None else args.fade_kimg
    overrides = dict(lod_kimg=args.lod_kimg, fade_kimg=fade, batch_size=args.train_batch_size,
                     learning_rate=args.learning_rate)
    sched = schedule_preset(args.preset, arch.max_lod, progressive=args.progressive,
                            **{k: v for k, v in overrides.items() if v is not None})
    return arch, sched


@dataclass
class Run:
    """Everything one training process holds; passed explicitly instead of globals."""

    args: argparse.Namespace
    accelerator: Accelerator
    sched: ScheduleConfig
    model: StyleALAE
    ema: EMA
    dataset: Any
    scaler: torch.amp.GradScaler
    rng: torch.Generator  # latents, noise, flips (on the device)
    host_rng: torch.Generator  # style-mixing draws (CPU)
    optimizers: tuple[torch.optim.Adam, torch.optim.Adam] | None = None
    step: int = 0
    images: int = 0
    lod: int | None = None
    loader: Any = None
    loader_batch: int | None = None
    nonfinite_total: int = 0
    nonfinite_run: int = 0


def make_optimizers(model: StyleALAE, lr: float) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Official grouping: E + D in one optimizer, G + F in the other. Stock Adam(0, 0.99) equals the
    official LREQAdam because the equalized-lr scaling lives in the layers."""
    def adam(*modules: torch.nn.Module) -> torch.optim.Adam:
        return torch.optim.Adam([{"params": m.parameters()} for m in modules], lr=lr, betas=(0.0, 0.99), eps=1e-8)
    return adam(model.encoder, model.discriminator), adam(model.generator, model.mapping)


def generators(seed: int, rank: int, device: torch.device) -> tuple[torch.Generator, torch.Generator]:
    base = seed * 1_000_003 + 7919 * rank
    return torch.Generator(device).manual_seed(base + 1), torch.Generator().manual_seed(base + 2)


def broadcast_weights(accelerator: Accelerator, module: torch.nn.Module) -> None:
    """Make every rank hold rank 0's parameters and buffers."""
    if accelerator.num_processes > 1:
        tensors = list(module.state_dict().values())
        flat = torch.cat([t.reshape(-1) for t in tensors])
        dist.broadcast(flat, src=0)
        for t, new in zip(tensors, torch._utils._unflatten_dense_tensors(flat, tensors)):
            t.copy_(new)


def average_(run: Run, grads: list[torch.Tensor], stats: Stats) -> tuple[Stats, bool]:
    """All-reduce (mean) this phase's gradients in place and its stats in one buffer; return
    the averaged stats and whether everything checked is finite (the same answer on every rank).
    Under fp16 the scaler handles overflowing gradients itself, so only the stats are checked."""
    values = [v.detach().float() for v in stats.values()]
    flat = torch.cat([t.reshape(-1) for t in grads + values])
    world = run.accelerator.num_processes
    if world > 1:
        dist.all_reduce(flat)
        flat /= world
    pieces = torch.split(flat, [t.numel() for t in grads + values])
    if world > 1:
        for grad, piece in zip(grads, pieces):
            grad.copy_(piece.view_as(grad))
    reduced = {k: piece.view_as(v) for k, v, piece in zip(stats, values, pieces[len(grads):])}
    checked = flat[flat.numel() - sum(v.numel() for v in values):] if run.scaler.is_enabled() else flat
    return reduced, bool(torch.isfinite(checked).all())


def phase(run: Run, loss_fn: Callable[[], tuple[torch.Tensor, Stats]], params: list[torch.nn.Parameter],
          optimizers: list[torch.optim.Optimizer]) -> tuple[Stats, bool]:
    """Zero, forward (autocast), backward (scaled), average over ranks, step unless non-finite."""
    for p in params:
        p.grad = None
    with run.accelerator.autocast():
        loss, stats = loss_fn()
    run.scaler.scale(loss).backward()
    stats, finite = average_(run, [p.grad for p in params if p.grad is not None], stats)
    if finite:
        for optimizer in optimizers:
            run.scaler.step(optimizer)
        run.scaler.update()
    elif run.scaler.is_enabled():
        run.scaler.update(run.scaler.get_scale() * run.scaler.get_backoff_factor())
    return stats, finite


def iteration(run: Run, state: TrainingState, reals: torch.Tensor) -> tuple[dict[str, float], bool]:
    """One official ALAE iteration: E+D step (with R1), F+G step, latent reciprocity step."""
    model, lod, blend, b = run.model, state.lod, state.blend, reals.shape[0]
    mix = model.arch.style_mixing_prob
    opt_ed, opt_fg = run.optimizers
    ed = list(model.encoder.parameters()) + list(model.discriminator.parameters())
    fg = list(model.generator.parameters()) + list(model.mapping.parameters())

    def encoder_discriminator():
        with torch.no_grad():
            fakes, w = generate(model, draw_latents(model, b, lod, mix, run.rng, run.host_rng), lod, blend, run.rng)
        loss, stats = encoder_discriminator_loss(model, reals, fakes, blend, run.args.r1_gamma, run.scaler.get_scale())
        if run.step in run.args.debug_nonfinite_steps:
            loss = loss * float("nan")
            stats["loss_d"] = loss.detach()
        return loss, {**stats, "w_mean": w.float().mean(0)}

    def generator_step():
        return generator_loss(model, draw_latents(model, b, lod, mix, run.rng, run.host_rng), lod, blend, run.rng)

    def reciprocity():
        z = torch.randn(b, model.arch.latent_size, generator=run.rng, device=reals.device)
        return latent_reciprocity_loss(model, z, lod, blend, run.rng)

    logs, all_finite = {}, True
    for loss_fn, params, opts in ((encoder_discriminator, ed, [opt_ed]), (generator_step, fg, [opt_fg]),
                                  (reciprocity, ed + fg, [opt_ed, opt_fg])):
        stats, finite = phase(run, loss_fn, params, opts)
        all_finite &= finite
        if finite:
            model.update_w_avg(stats.pop("w_mean")[None])
        logs.update({k: float(v) for k, v in stats.items() if v.numel() == 1})
    return logs, all_finite


def prepare_step(run: Run, state: TrainingState) -> None:
    """Fresh optimizers when the lod changes (official LODDriver), a new loader when the batch does."""
    if state.lod != run.lod:
        run.optimizers, run.lod = make_optimizers(run.model, state.learning_rate), state.lod
    for optimizer in run.optimizers:
        for group in optimizer.param_groups:
            group["lr"] = state.learning_rate
    if state.batch_per_process != run.loader_batch:
        acc = run.accelerator
        run.loader = make_loader(run.dataset, state.batch_per_process, run.args.seed, run.images, acc.process_index,
                                 acc.num_processes, run.args.dataloader_num_workers, acc.device.type == "cuda")
        run.loader_batch = state.batch_per_process


def prepare_reals(batch: torch.Tensor, state: TrainingState, device: torch.device,
                  flip_rng: torch.Generator | None = None) -> torch.Tensor:
    """uint8 full-resolution batch -> [-1, 1] at the lod's resolution, flipped, fade-in blended."""
    x = downsample_to(to_model_range(batch.to(device, non_blocking=True)), state.resolution)
    if flip_rng is not None:
        x = random_flip(x, flip_rng)
    return fade_in_reals(x, state.blend)


def track_nonfinite(run: Run, finite: bool) -> None:
    if finite:
        run.nonfinite_run = 0
        return
    run.nonfinite_total += 1
    run.nonfinite_run += 1
    run.accelerator.print(f"step {run.step}: non-finite loss or gradient, optimizer step skipped "
                          f"({run.nonfinite_run} in a row, {run.nonfinite_total} in total)")
    if run.nonfinite_run >= run.args.max_nonfinite_steps:
        raise SystemExit(f"error: aborting after {run.nonfinite_run} consecutive non-finite steps (step {run.step}, "
                         f"{run.images} images). Lower --learning_rate, use --mixed_precision bf16 or no, "
                         f"or resume from an earlier checkpoint.")


# ---- checkpoints --------------------------------------------------------------------------
def save_checkpoint(run: Run) -> None:
    """Write checkpoint-<step> atomically (see alae_hf.training.checkpoints). Every rank's RNG states are
    gathered to rank 0, which writes everything."""
    states = gather_object([{"device": run.rng.get_state(), "host": run.host_rng.get_state(),
                             "torch": torch.get_rng_state()}])
    acc = run.accelerator
    if acc.is_main_process:
        with atomic_checkpoint(run.args.output_dir, run.step) as tmp:
            run.model.save_pretrained(tmp / "model")
            run.ema.model.save_pretrained(tmp / "ema")
            opt_ed, opt_fg = run.optimizers
            torch.save({"encoder_discriminator": opt_ed.state_dict(), "mapping_generator": opt_fg.state_dict(),
                        "grad_scaler": run.scaler.state_dict()}, tmp / "optimizers.pt")
            for rank, state in enumerate(states):
                torch.save(state, tmp / f"rng_state_{rank}.pt")
            counters = dict(step=run.step, images_seen=run.images, lod=run.lod, nonfinite_total=run.nonfinite_total,
                            nonfinite_run=run.nonfinite_run, ema_updates=run.ema.num_updates,
                            num_processes=acc.num_processes, schedule=run.sched.to_dict(),
                            arch=run.model.arch.to_dict())
            (tmp / "training_state.json").write_text(json.dumps(counters, indent=1))
        rotate(run.args.output_dir, run.args.checkpoints_total_limit)
    acc.wait_for_everyone()


def find_resume(args: argparse.Namespace, accelerator: Accelerator) -> Path | None:
    try:
        path = resolve_resume(args.resume_from_checkpoint, args.output_dir)
    except ValueError as err:
        raise SystemExit(f"error: {err}") from err
    if path is None and args.resume_from_checkpoint == "latest":
        accelerator.print(f"no finished checkpoint in {args.output_dir}; starting a new run")
    return path


def load_checkpoint(run: Run, path: Path) -> None:
    state = json.loads((path / "training_state.json").read_text())
    if state["arch"] != run.model.arch.to_dict():
        raise SystemExit(f"error: {path} holds a model with config {state['arch']}, not {run.model.arch.to_dict()}")
    run.model.load_state_dict(StyleALAE.from_pretrained(path / "model").state_dict())
    run.ema.model.load_state_dict(StyleALAE.from_pretrained(path / "ema").state_dict())
    run.ema.num_updates = state["ema_updates"]
    run.step, run.images, run.lod = state["step"], state["images_seen"], state["lod"]
    run.nonfinite_total, run.nonfinite_run = state["nonfinite_total"], state["nonfinite_run"]
    run.optimizers = make_optimizers(run.model, 0.0)
    saved = torch.load(path / "optimizers.pt", map_location=run.accelerator.device, weights_only=True)
    run.optimizers[0].load_state_dict(saved["encoder_discriminator"])
    run.optimizers[1].load_state_dict(saved["mapping_generator"])
    if saved["grad_scaler"] and run.scaler.is_enabled():  # empty when saved without fp16
        run.scaler.load_state_dict(saved["grad_scaler"])
    rng_file = path / f"rng_state_{run.accelerator.process_index}.pt"
    if rng_file.is_file() and state["num_processes"] == run.accelerator.num_processes:
        rngs = torch.load(rng_file, weights_only=True)
        run.rng.set_state(rngs["device"])
        run.host_rng.set_state(rngs["host"])
        torch.set_rng_state(rngs["torch"])
    else:
        run.accelerator.print("the process count changed since the checkpoint: random streams are re-seeded")
        run.rng, run.host_rng = generators(run.args.seed + run.step, run.accelerator.process_index,
                                           run.accelerator.device)
    run.accelerator.print(f"resumed from {path}: step {run.step}, {run.images} images, lod {run.lod}")


# ---- samples, summary, final model ----------------------------------------------------------
@torch.no_grad()
def sample_grid(run: Run, state: TrainingState, path: Path) -> None:
    """Reals (blended as in training), their EMA reconstructions, EMA generations from fixed z."""
    ema, device = run.ema.model, run.accelerator.device
    reals = prepare_reals(torch.stack([run.dataset[i] for i in range(min(8, len(run.dataset)))]), state, device)
    noise = torch.Generator(device).manual_seed(0)
    recs = ema.synthesize(ema.encode(reals, state.blend), noise=noise, lod=state.lod, blend=state.blend)
    fakes = ema.synthesize(ema.map(ema.seed_latents(16, SAMPLE_SEED)), noise=noise, lod=state.lod, blend=state.blend)
    path.parent.mkdir(parents=True, exist_ok=True)
    make_grid(tensor_to_pil(torch.cat([reals, recs, fakes])), columns=8).save(path)


def skipped_files(run: Run) -> int:
    mask = run.dataset.bad_mask.to(run.accelerator.device, torch.float32)
    if run.accelerator.num_processes > 1:
        dist.all_reduce(mask, op=dist.ReduceOp.MAX)
    return run.dataset.rejected_when_opened + int(mask.sum())


def tensor_hash(module: torch.nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def finish(run: Run, state: TrainingState) -> None:
    acc, out = run.accelerator, Path(run.args.output_dir)
    skipped = skipped_files(run)
    summary = dict(steps=run.step, images_seen=run.images, lod=state.lod, blend=state.blend,
                   skipped_files=skipped, nonfinite_steps=run.nonfinite_total, num_processes=acc.num_processes)
    if run.args.debug_dump_rank_hashes:
        (out / "rank_hashes").mkdir(parents=True, exist_ok=True)
        (out / "rank_hashes" / f"rank{acc.process_index}.json").write_text(json.dumps(
            dict(summary, rank=acc.process_index, distributed_type=str(acc.distributed_type),
                 model=tensor_hash(run.model), ema=tensor_hash(run.ema.model))))
    if acc.is_main_process:
        run.ema.model.save_pretrained(out)
        sample_grid(run, state, out / "samples.png")
        (out / "training_summary.json").write_text(json.dumps(summary, indent=1))
        (out / "README.md").write_text(card(run, summary))
        acc.print(f"skipped {skipped} unreadable image file(s); {run.nonfinite_total} non-finite step(s); saved {out}")
        if run.args.push_to_hub:
            push(run, out)
    acc.wait_for_everyone()
    acc.end_training()


def card(run: Run, summary: dict[str, Any]) -> str:
    args = run.args
    data = args.dataset_name or args.train_data_dir
    extra = (f"\n## Training\n\n![samples](samples.png)\n\nRows: real images, their reconstructions, "
             f"generations from fixed latents (EMA weights, lod {summary['lod']}).\n\n"
             f"Trained with `train_accelerate.py --preset {args.preset}` on `{data}`: {run.step} steps, "
             f"{run.images / 1000:.1f} kimg, {summary['num_processes']} process(es), "
             f"mixed precision `{run.accelerator.mixed_precision}`; "
             f"{summary['skipped_files']} unreadable files skipped.\n")
    datasets = (args.dataset_name,) if args.dataset_name else ()
    return model_card(run.model.arch, title=Path(args.output_dir).name, datasets=datasets, extra_sections=extra)


def push(run: Run, out: Path) -> None:
    from huggingface_hub import create_repo, upload_folder

    repo = create_repo(run.args.hub_model_id or out.name, exist_ok=True, token=run.args.hub_token).repo_id
    upload_folder(repo_id=repo, folder_path=out, token=run.args.hub_token,
                  commit_message=f"{run.images / 1000:.1f} kimg",
                  ignore_patterns=["checkpoint-*", "logs/*", "rank_hashes/*", "samples/*"])


# ---- main -------------------------------------------------------------------------------
def setup(args: argparse.Namespace) -> Run:
    """Configs, data (checked before any model exists), model, EMA, RNG, resume."""
    log_with = None if args.report_to == "none" else args.report_to
    acc = Accelerator(mixed_precision=args.mixed_precision, log_with=log_with, project_config=ProjectConfiguration(
        project_dir=args.output_dir, logging_dir=os.path.join(args.output_dir, "logs")))
    try:
        arch, sched = configs(args)
        dataset = make_dataset(args.train_data_dir, args.dataset_name, arch.resolution, arch.channels,
                               args.center_crop, min_images=schedule_at(0, sched, acc.num_processes).batch_size)
    except ValueError as err:  # bad data or settings: a message before any model is built, not a traceback
        raise SystemExit(f"error: {err}") from None
    set_seed(args.seed)
    model = StyleALAE(**arch.to_dict()).to(acc.device).train()
    broadcast_weights(acc, model)
    acc.print(f"model: {sum(p.numel() for p in model.parameters()):,} parameters; data: {len(dataset)} images")
    rng, host_rng = generators(args.seed, acc.process_index, acc.device)
    scaler = torch.amp.GradScaler(acc.device.type, enabled=acc.mixed_precision == "fp16")
    run = Run(args, acc, sched, model, EMA(model, rampup=args.ema_rampup), dataset, scaler, rng, host_rng)
    if acc.is_main_process:
        Path(args.output_dir).mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(args.output_dir)
    resume = find_resume(args, acc)
    if resume is not None:
        load_checkpoint(run, resume)
    acc.init_trackers("alae_hf", config={k: str(v) if not isinstance(v, (int, float, bool)) else v
                                         for k, v in vars(args).items()})
    return run


def train(run: Run) -> TrainingState:
    args, acc = run.args, run.accelerator
    stop = min(args.max_train_kimg or math.inf, run.sched.total_kimg) * 1000
    bar = tqdm(total=int(stop), initial=run.images, unit="img", unit_scale=True, disable=not acc.is_main_process)
    state = schedule_at(run.images, run.sched, acc.num_processes)
    while run.images < stop and (args.max_train_steps is None or run.step < args.max_train_steps):
        state = schedule_at(run.images, run.sched, acc.num_processes)
        prepare_step(run, state)
        reals = prepare_reals(next(run.loader), state, acc.device, run.rng if args.random_flip else None)
        logs, finite = iteration(run, state, reals)
        run.ema.update(run.model, state.batch_size, images_seen=run.images + state.batch_size)
        before, run.images, run.step = run.images, run.images + state.batch_size, run.step + 1
        track_nonfinite(run, finite)
        logs.update(kimg=run.images / 1000, lod=state.lod, blend=state.blend, lr=state.learning_rate,
                    nonfinite_steps=run.nonfinite_total)
        acc.log(logs, step=run.step)
        bar.update(state.batch_size)
        bar.set_postfix({k: f"{logs[k]:.3g}" for k in ("lod", "blend", "loss_d", "loss_g", "loss_ae") if k in logs})
        every = (args.sample_every_kimg or 0) * 1000
        if every and acc.is_main_process and run.images // every > before // every:
            sample_grid(run, state, Path(args.output_dir) / "samples" / f"kimg-{run.images / 1000:011.3f}.png")
        if args.checkpointing_steps and run.step % args.checkpointing_steps == 0:
            save_checkpoint(run)
    bar.close()
    return state


def main(argv: list[str] | None = None) -> None:
    run = setup(parse_args(argv))
    finish(run, train(run))


if __name__ == "__main__":
    main()
