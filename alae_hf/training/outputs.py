"""What a finished training run leaves in its output folder: the EMA model, a sample grid, a
summary, a model card, optionally an upload to the Hub.

Official counterpart: the sample sheets of podgorskiy/ALAE `train_alae.py` (`save_sample`: reals,
their reconstructions, generations from fixed latents).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import torch
from PIL import Image, ImageDraw

from ..imaging import make_grid, tensor_to_pil
from ..models.hub import push_folder
from .data import prepare_reals
from .plots import loss_curves
from .run import Run
from .schedule import TrainingState

if TYPE_CHECKING:
    from ..models.base import ALAEModel

SAMPLE_SEED = 3456  # official train_alae.py: RandomState(3456) latents for the sample sheets


@torch.no_grad()
def sample_grid(run: Run, state: TrainingState, path: Path) -> None:
    """Reals (blended as in training), their EMA reconstructions, EMA generations from fixed z."""
    # the EMA holds a copy of the run's model (typed as the nn.Module it copied)
    ema, device = cast("ALAEModel", run.ema.model), run.accelerator.device
    batch = torch.stack([run.dataset[i] for i in range(min(8, len(run.dataset)))])
    reals = prepare_reals(batch, state.resolution, state.blend, device)
    noise = torch.Generator(device).manual_seed(0)
    recs = ema.synthesize(
        ema.encode(reals, state.blend), noise=noise, lod=state.lod, blend=state.blend
    )
    fakes = ema.synthesize(
        ema.map(ema.seed_latents(16, SAMPLE_SEED)), noise=noise, lod=state.lod, blend=state.blend
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = len(reals)  # one row of reals, one of their reconstructions, then generations
    grid = make_grid(tensor_to_pil(torch.cat([reals, recs, fakes])), columns=columns)
    labels = ["real", "reconstructed"] + ["generated"] * math.ceil(len(fakes) / columns)
    labelled(grid, labels, f"{run.images:,} images seen, lod {state.lod}").save(path)


def labelled(grid: Image.Image, rows: Sequence[str], caption: str) -> Image.Image:
    """`grid` with a caption above and each row's name on its left (PIL's default font)."""
    left, top, row = 100, 16, grid.height / max(len(rows), 1)
    out = Image.new("RGB", (grid.width + left, grid.height + top), "white")
    out.paste(grid.convert("RGB"), (left, top))
    draw = ImageDraw.Draw(out)
    draw.text((4, 2), caption, fill="black")
    for i, name in enumerate(rows):
        draw.text((4, top + row * i + row / 2 - 5), name, fill="black")
    return out


def write_loss_plot(run: Run) -> bool:
    """losses.png in the output folder from the losses the run logged so far (process 0)."""
    for tracker in run.accelerator.trackers:  # flush what TensorBoard still buffers
        getattr(getattr(tracker, "writer", None), "flush", lambda: None)()
    out = Path(run.config.output_dir)
    return loss_curves(out, out / "losses.png")


SKIPPED_NAMED = 20  # unreadable files named in the summary and the last message


def skipped_files(run: Run) -> tuple[int, list[str]]:
    """Unreadable image files over all processes (the decode failures are marked per process):
    how many, and the first `SKIPPED_NAMED` of them by name."""
    mask = run.dataset.bad_mask.to(run.accelerator.device, torch.float32)
    if run.accelerator.num_processes > 1:
        mask = run.accelerator.reduce(mask, reduction="max")
    names = run.dataset.skipped_names(mask.cpu() > 0, SKIPPED_NAMED)
    return run.dataset.rejected_when_opened + int(mask.sum()), names


def skipped_message(info: dict[str, Any]) -> str:
    """'skipped N unreadable image file(s)', naming them (the first SKIPPED_NAMED)."""
    count, names = info["skipped_files"], info.get("skipped_file_names", [])
    more = f", and {count - len(names)} more" if count > len(names) else ""
    listed = f": {', '.join(names)}{more}" if names else ""
    return f"skipped {count} unreadable image file(s){listed}"


def summary(run: Run, state: TrainingState) -> dict[str, Any]:
    skipped, names = skipped_files(run)
    return dict(
        steps=run.step,
        images_seen=run.images,
        images_in_all=run.images_in_all,
        init_from=run.init_from,
        lod=state.lod,
        blend=state.blend,
        skipped_files=skipped,
        skipped_file_names=names,
        nonfinite_steps=run.nonfinite_total,
        num_processes=run.accelerator.num_processes,
    )


def write_outputs(run: Run, state: TrainingState, info: dict[str, Any]) -> None:
    """Rank 0: EMA model, samples.png, training_summary.json, README.md; upload if asked."""
    out = Path(run.config.output_dir)
    cast("ALAEModel", run.ema.model).save_pretrained(out)
    sample_grid(run, state, out / "samples.png")
    (out / "training_summary.json").write_text(json.dumps(info, indent=1))
    write_loss_plot(run)
    (out / "README.md").write_text(card(run, info))
    run.accelerator.print(
        f"{skipped_message(info)}; {run.nonfinite_total} non-finite step(s); saved {out}"
    )
    if run.config.push_to_hub:
        push(run, out)


def card(run: Run, info: dict[str, Any]) -> str:
    config = run.config
    data = config.dataset_name or config.train_data_dir
    extra = (
        f"\n## Training\n\n![samples](samples.png)\n\nRows: real images, their reconstructions, "
        f"generations from fixed latents (EMA weights, lod {info['lod']}).\n\n"
        + ("![losses](losses.png)\n\n" if (Path(config.output_dir) / "losses.png").exists() else "")
        + f"Trained with `train_accelerate.py --preset {config.preset}` on `{data}`: {run.step} steps, "
        f"{run.images / 1000:.1f} kimg, {info['num_processes']} process(es), "
        f"mixed precision `{run.accelerator.mixed_precision}`, optimizer `{config.optimizer}`; "
        f"{info['skipped_files']} unreadable files skipped.\n{_lineage(run)}"
    )
    if config.license == "unknown":
        extra += (
            "\nLicense: not stated (`license: unknown`). These weights are derived from the "
            "training data above, whose terms apply; a run states a license with `--license`.\n"
        )
    datasets = (config.dataset_name,) if config.dataset_name else ()
    return run.model.card(
        title=Path(config.output_dir).name,
        datasets=datasets,
        extra_sections=extra,
        license=config.license,
    )


def _lineage(run: Run) -> str:
    """Where the weights started and the images behind them, for the card."""
    if run.init_from is None:
        return f"\n{run.images_in_all:,} images in all (trained from random weights).\n"
    before = run.init_from.get("images")
    known = "an unknown number of" if before is None else f"{before:,}"
    return (
        f"\nStarted from `{run.init_from['model']}` ({known} images behind it; `--init_from`), then "
        f"{run.images:,} images in this run: {run.images_in_all:,} images in all"
        f"{'' if before is not None else ' that are known'}.\n"
    )


def push(run: Run, out: Path) -> None:
    """Upload the finished folder (no checkpoints, logs or abandoned branches); a failure is one
    line, after the model is safely on disk."""
    try:
        repo = push_folder(
            out,
            run.config.hub_model_id or out.name,
            token=run.config.hub_token,
            commit_message=f"{run.images / 1000:.1f} kimg",
            ignore_patterns=["checkpoint-*", "logs/*", "rank_hashes/*", "samples/*", "abandoned-*"],
        )
    except OSError as err:
        run.accelerator.print(f"warning: the model is saved in {out} but was not uploaded: {err}")
        return
    run.accelerator.print(f"uploaded {out} to {repo}")
