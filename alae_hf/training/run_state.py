"""Saving and loading the complete state of a training run as `checkpoint-<step>/`.

The folder layout and its atomic write are `alae_hf.training.checkpoints`'; this module decides
what goes in (weights, EMA, optimizers, every process's RNG, counters, the `TrainConfig`) and loads
it back all-or-nothing: every file is read into temporaries and checked before the run is touched.
Official counterpart: `checkpointer.py` of podgorskiy/ALAE (which saves models and optimizers, but
no RNG state, so its resumes are not bit-identical).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from accelerate.utils import gather_object

from . import checkpoints as ckpt
from .optim import make_optimizers
from .run import Run
from .step import OPTIMIZER_GROUPS


def generators(
    seed: int, rank: int, device: torch.device
) -> tuple[torch.Generator, torch.Generator]:
    """(device generator for latents, noise and flips; CPU generator for style mixing) of one process."""
    base = seed * 1_000_003 + 7919 * rank
    return torch.Generator(device).manual_seed(base + 1), torch.Generator().manual_seed(base + 2)


def all_finite(module: torch.nn.Module) -> bool:
    """Whether every parameter and buffer is finite (one batched check, one host sync)."""
    tensors = list(module.state_dict().values())
    return bool(torch.stack([torch.isfinite(t).all() for t in tensors]).all())


def resume_hint(output_dir: str | Path) -> str:
    """'resume from <newest finished checkpoint>', or that there is none to resume from."""
    done = ckpt.complete_checkpoints(output_dir)
    return (
        f"resume from {done[-1][1]}"
        if done
        else "start again (there is no checkpoint to resume from)"
    )


def save(run: Run) -> None:
    """Write checkpoint-<step> (rank 0 writes; every rank's RNG states are gathered to it).

    Refuses to write non-finite weights; a full disk (or another write error) ends the run with one
    line naming the last good checkpoint (`atomic_checkpoint` removes the half-written folder).
    """
    states = gather_object(
        [
            {
                "device": run.ctx.rng.get_state(),
                "host": run.ctx.host_rng.get_state(),
                "torch": torch.get_rng_state(),
            }
        ]
    )
    acc, out = run.accelerator, run.config.output_dir
    if acc.is_main_process:
        if not (all_finite(run.model) and all_finite(run.ema.model)):
            raise SystemExit(
                f"error: the weights at step {run.step} are not finite; no checkpoint written: "
                f"{resume_hint(out)}."
            )
        try:
            with ckpt.atomic_checkpoint(out, run.step) as tmp:
                _write(run, tmp, states)
        except (
            ckpt.CheckpointWriteError
        ) as err:  # names the reason (e.g. a full disk) and the last good one
            raise SystemExit(f"error: {err}") from None
        ckpt.rotate(out, run.config.checkpoints_total_limit)
    acc.wait_for_everyone()


def _write(run: Run, folder: Path, rng_states: list[dict[str, torch.Tensor]]) -> None:
    shard = run.config.max_shard_size or "10GB"  # diffusers' default: one file for any StyleALAE
    run.model.save_pretrained(folder / "model", max_shard_size=shard)
    run.ema.model.save_pretrained(folder / "ema", max_shard_size=shard)
    save_optimizers(
        folder, run.ctx.optimizers, run.ctx.scaler.state_dict(), run.config.max_shard_bytes
    )
    for rank, state in enumerate(rng_states):
        torch.save(state, folder / f"rng_state_{rank}.pt")
    counters = dict(
        step=run.step,
        images_seen=run.images,
        images_in_all=run.images_in_all,
        init_from=run.init_from,
        lod=run.lod,
        nonfinite_total=run.nonfinite_total,
        nonfinite_run=run.nonfinite_run,
        ema_updates=run.ema.num_updates,
        num_processes=run.accelerator.num_processes,
        schedule=run.sched.to_dict(),
        arch=run.model.arch.to_dict(),
        train_config=run.config.to_dict(),
    )
    (folder / "training_state.json").write_text(json.dumps(counters, indent=1))


def save_optimizers(
    folder: Path,
    optimizers: tuple[torch.optim.Optimizer, ...],
    scaler: dict[str, Any],
    max_bytes: int | None = None,
) -> None:
    """`optimizers.pt`: both optimizers' state dicts and the scaler's. With `max_bytes`, the
    per-parameter state goes into `optimizers-<i>-of-<n>.pt` files of at most that many tensor bytes
    each (`optimizers.pt` then keeps the parameter groups and the number of shards)."""
    states = {name: opt.state_dict() for name, opt in zip(OPTIMIZER_GROUPS, optimizers)}
    if max_bytes is None:
        torch.save({**states, "grad_scaler": scaler}, folder / "optimizers.pt")
        return
    shards = _split_states(states, max_bytes)
    head = {
        name: {"param_groups": state["param_groups"], "state": {}} for name, state in states.items()
    }
    torch.save(
        {**head, "grad_scaler": scaler, "state_shards": len(shards)}, folder / "optimizers.pt"
    )
    for i, shard in enumerate(shards, 1):
        torch.save(shard, folder / f"optimizers-{i:05d}-of-{len(shards):05d}.pt")


def _split_states(
    states: dict[str, dict[str, Any]], max_bytes: int
) -> list[dict[str, dict[int, Any]]]:
    shards: list[dict[str, dict[int, Any]]] = [{}]
    size = 0
    for name, state in states.items():
        for index, entry in state["state"].items():
            n = sum(
                v.numel() * v.element_size() for v in entry.values() if isinstance(v, torch.Tensor)
            )
            if shards[-1] and size + n > max_bytes:
                shards.append({})
                size = 0
            shards[-1].setdefault(name, {})[index] = entry
            size += n
    return shards


def load_optimizer_states(folder: Path, device: torch.device) -> dict[str, Any]:
    """What `save_optimizers` wrote, shards merged back; a missing or foreign shard raises."""
    saved = torch.load(folder / "optimizers.pt", map_location=device, weights_only=True)
    count = saved.pop("state_shards", 0)
    for i in range(1, count + 1):
        shard = torch.load(
            folder / f"optimizers-{i:05d}-of-{count:05d}.pt", map_location=device, weights_only=True
        )
        for name, entries in shard.items():
            saved[name]["state"].update(entries)
    return saved


@dataclass
class Loaded:
    """Everything read from one checkpoint, before any of it is assigned to the run."""

    path: Path
    state: dict[str, Any]
    model: dict[str, torch.Tensor]
    ema: dict[str, torch.Tensor]
    optimizers: tuple[torch.optim.Optimizer, torch.optim.Optimizer]
    grad_scaler: dict[str, Any]
    rng: dict[str, torch.Tensor] | None


def read(run: Run, path: Path) -> Loaded:
    """Read and check every file of `path` into temporaries; SystemExit with one line on any problem."""
    try:
        state = json.loads((path / "training_state.json").read_text())
        _check_compatible(run, path, state)
        model_class = type(run.model)  # StyleALAE or MLPALAE: the class this run trains
        model = model_class.from_pretrained(path / "model").state_dict()
        ema = model_class.from_pretrained(path / "ema").state_dict()
        saved = load_optimizer_states(path, run.accelerator.device)
        optimizers = make_optimizers(run.model, 0.0, run.config.optimizer)
        for name, optimizer in zip(OPTIMIZER_GROUPS, optimizers):
            optimizer.load_state_dict(saved[name])
        rng = _read_rng(run, path, state)
    except SystemExit:
        raise
    except Exception as err:  # noqa: BLE001 - any unreadable file: one line, the run untouched
        detail = " ".join(str(err).split())  # one line, whatever the library's message looks like
        raise SystemExit(
            f"error: cannot resume from {path}: {type(err).__name__}: {detail}"
        ) from None
    return Loaded(path, state, model, ema, optimizers, saved.get("grad_scaler") or {}, rng)


def _check_compatible(run: Run, path: Path, state: dict[str, Any]) -> None:
    if state["arch"] != run.model.arch.to_dict():
        raise SystemExit(
            f"error: {path} holds a model with config {state['arch']}, not {run.model.arch.to_dict()}"
        )
    saved = state.get("train_config", {})
    kind = saved.get("optimizer", "adam")  # checkpoints from before TrainConfig used stock Adam
    if kind != run.config.optimizer:
        raise SystemExit(
            f"error: {path} was trained with --optimizer {kind}; its optimizer state cannot be "
            f"continued with --optimizer {run.config.optimizer} (pass --optimizer {kind})"
        )
    old, new = state["schedule"], run.sched.to_dict()
    changed = [
        k
        for k in ("batch_size", "learning_rate", "learning_rates", "batch_tables")
        if old.get(k) != new[k]
    ]
    if not changed:
        return
    what = ", ".join(f"{k} {old.get(k)} -> {new[k]}" for k in changed)
    if not run.config.allow_config_change:
        raise SystemExit(
            f"error: {path} was trained with a different batch size or learning rate ({what}); "
            f"pass the same --train_batch_size/--learning_rate, or --allow_config_change"
        )
    run.accelerator.print(
        f"note: resuming {path} with a changed schedule ({what}), as --allow_config_change asks"
    )


def _read_rng(run: Run, path: Path, state: dict[str, Any]) -> dict[str, torch.Tensor] | None:
    """This process's RNG states, or None to re-seed (a changed process count, or --allow_rng_reset)."""
    acc = run.accelerator
    if state["num_processes"] != acc.num_processes:
        acc.print(
            f"the process count changed ({state['num_processes']} -> {acc.num_processes}): random streams "
            f"are re-seeded, so the run will not be bit-identical to an uninterrupted one"
        )
        return None
    rng_file = path / f"rng_state_{acc.process_index}.pt"
    if not rng_file.is_file():
        message = (
            f"{rng_file} is missing: the random streams cannot be restored and the resumed run would not "
            f"be bit-identical to an uninterrupted one"
        )
        if not run.config.allow_rng_reset:
            raise SystemExit(
                f"error: {message}; pass --allow_rng_reset to re-seed them and continue anyway"
            )
        acc.print(f"warning: {message}; re-seeding (--allow_rng_reset)")
        return None
    rngs = torch.load(rng_file, weights_only=True)
    missing = {"device", "host", "torch"} - set(rngs)
    if missing:
        raise ValueError(f"{rng_file} lacks {sorted(missing)}")
    return rngs


def assign(run: Run, loaded: Loaded) -> None:
    """Put a fully read checkpoint into the run (nothing here can fail on bad files)."""
    state = loaded.state
    run.model.load_state_dict(loaded.model)
    run.ema.model.load_state_dict(loaded.ema)
    run.ema.num_updates = state["ema_updates"]
    run.step, run.images, run.lod = state["step"], state["images_seen"], state["lod"]
    run.init_from = state.get("init_from")  # checkpoints from before --init_from have none
    run.nonfinite_total, run.nonfinite_run = state["nonfinite_total"], state["nonfinite_run"]
    run.ctx.optimizers = loaded.optimizers
    if loaded.grad_scaler and run.ctx.scaler.is_enabled():  # empty when saved without fp16
        run.ctx.scaler.load_state_dict(loaded.grad_scaler)
    if loaded.rng is None:
        run.ctx.rng, run.ctx.host_rng = generators(
            run.config.seed + run.step, run.accelerator.process_index, run.accelerator.device
        )
    else:
        run.ctx.rng.set_state(loaded.rng["device"])
        run.ctx.host_rng.set_state(loaded.rng["host"])
        torch.set_rng_state(loaded.rng["torch"])
    run.accelerator.print(
        f"resumed from {loaded.path}: step {run.step}, {run.images} images, lod {run.lod}"
    )
