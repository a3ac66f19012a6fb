"""What the Sample and Style-mixing tabs compute, without the UI: `SampleMixActions`.

Seeds and noise follow the model's one convention (`alae_hf.model.NoiseSpec`): the Sample tab's
image for seed s is `model.sample(1, seed=s)` (its z and, by default, its noise come from s), and
an image sent to Edit keeps its own noise. The mixing grid is StyleGAN's figure 3 (ALAE's
`stylemix.py`): sources across the top, destinations down the side, each cell a destination with
some of a source's styles; uploads on either side are encoded as the Encode tab does.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any

import torch

from .. import editing
from ..latent.styles import describe_styles, layer_range
from ..models.config import SEED_MAX
from .action_base import ActionBase, stored_result, truncation_text
from .encoding import Encoded, check_refinement, encode_uploads
from .figures import caption_grid, grid_cells
from .inputs import (
    MAX_IMAGES,
    MAX_MIX,
    MIX_CHOICES,
    NOISE_CHOICES,
    PAPER_ROWS,
    PSI_RANGE,
    InputError,
    as_list,
    check_choice,
    check_layers,
    check_number,
    parse_seeds,
)
from .state import LoadedModel, Progress, new_session


def count(n: int, noun: str) -> str:
    """'1 source', '3 sources'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def mix_choices(layer_choices: Sequence[str]) -> list[str]:
    """Mixing ranges a model supports: its named groups, plus the paper's rows when it has all three."""
    paper = all(name in layer_choices for name in ("coarse", "middle", "fine"))
    return [
        c
        for c in MIX_CHOICES
        if c in layer_choices or c == "custom" or (c == "paper rows" and paper)
    ]


class SampleMixActions(ActionBase):
    """The Sample tab (samples of seeds, one sent to Edit) and the Style-mixing tab (the grid)."""

    def sample(
        self,
        session: dict,
        seed: Any,
        n: Any,
        psi: Any,
        cutoff: Any,
        noise_mode: Any,
        noise_seed: Any,
    ) -> tuple:
        """Images for seeds seed, seed + 1, ..., each `model.sample(1, seed=s)` with "image seed"
        noise: (gallery with one seed per caption, info, session)."""
        loaded = self.model(session)
        n = check_number("Number of images", n, 1, MAX_IMAGES, integer=True)
        seed = check_number("Seed", seed, 0, SEED_MAX - n + 1, integer=True)
        psi = check_number("Truncation ψ", psi, *PSI_RANGE)
        cutoff = check_number("Truncation cutoff", cutoff, 0, loaded.model.num_styles, integer=True)
        noise_mode = check_choice("Noise", noise_mode, NOISE_CHOICES)
        noise_seed = check_number("Noise seed", noise_seed, 0, SEED_MAX, integer=True)
        seeds = list(range(seed, seed + n))
        noise = {
            "image seed": seeds,
            "fixed seed": noise_seed,
            "random": random.randint(0, SEED_MAX),
            "off": None,
        }[noise_mode]
        start = time.perf_counter()
        w = editing.seed_to_w_plus(loaded.model, n, seeds, psi, cutoff)
        images = editing.render(loaded.model, w, noise)
        took = (time.perf_counter() - start) * 1000
        session = dict(session or new_session(loaded.key))
        session["samples"] = {
            "model": loaded.key,
            "w": w,
            "noise": noise,
            "seeds": seeds,
            "psi": psi,
            "cutoff": cutoff,
        }
        gallery = [(self.png(image, f"seed{s}"), f"seed {s}") for s, image in zip(seeds, images)]
        noise_text = {"image seed": "noise from each image's seed", "off": "no noise"}.get(
            noise_mode, f"noise seed {noise}"
        )
        seed_text = f"seed {seed}" if n == 1 else f"seeds {seed}–{seeds[-1]}"
        info = (
            f"{seed_text} · ψ {psi:g} on styles 0–{cutoff - 1 if cutoff else '(none)'} · {noise_text} · "
            f"{n} × {loaded.model.arch.resolution}² px in {took:.0f} ms"
        )
        return gallery, info, session

    def sample_random(
        self, session: dict, n: Any, psi: Any, cutoff: Any, noise_mode: Any, noise_seed: Any
    ) -> tuple:
        """A random seed, then `sample`: (seed, gallery, info, session)."""
        seed = random.randint(0, 2**31 - 1)
        return (seed, *self.sample(session, seed, n, psi, cutoff, noise_mode, noise_seed))

    def send_sample_to_edit(self, session: dict, index: Any) -> tuple:
        """Use sampled image #index as the edit base, with its own noise: (session, base, edited, *sliders)."""
        loaded = self.model(session)
        samples, index = stored_result(
            session, "samples", loaded.key, index, "Generate some samples first."
        )
        noise = samples["noise"][index] if isinstance(samples["noise"], list) else samples["noise"]
        seed, psi = samples["seeds"][index], samples.get("psi")
        label = f"the sample of seed {seed} from the Sample tab ({truncation_text(loaded, psi, samples['cutoff'])})"
        return self.set_base(
            session, loaded, samples["w"][index : index + 1], noise, label, seed, psi
        )

    def _mix_latents(
        self,
        loaded: LoadedModel,
        seeds_text: Any,
        files: Any,
        psi: float,
        what: str,
        refinement: tuple[Any, Any],
        progress: Progress | None,
    ) -> tuple[torch.Tensor, list[str]]:
        """w+ [N, 2L, Z] of the seeds (truncated) then the uploads (encoded, refined as asked) of one
        side of the grid, and a caption per row ("seed 3", or the upload's name)."""
        model = loaded.model
        seeds = parse_seeds(seeds_text, f"{what.capitalize()} seeds")
        files = as_list(files)
        if len(seeds) + len(files) > MAX_MIX:
            raise InputError(
                f"At most {MAX_MIX} {what}s (seeds + uploads), got {len(seeds) + len(files)}."
            )
        parts, captions = (
            [editing.seed_to_w_plus(model, 1, s, psi) for s in seeds],
            [f"seed {s}" for s in seeds],
        )
        if files:
            encoded = encode_uploads(loaded, files, *refinement, progress)
            parts.append(model.to_w_plus(encoded.w))
            captions += encoded.names
        if not parts:
            raise InputError(f"Give at least one {what} (a seed or an upload).")
        return torch.cat(parts), captions

    def mix(
        self,
        session: dict,
        source_seeds: Any,
        source_files: Any,
        destination_seeds: Any,
        destination_files: Any,
        psi: Any,
        layers: Any,
        custom: Any,
        noise_seed: Any,
        refine_steps: Any = 0,
        space: Any = "w+",
        progress: Progress | None = None,
    ) -> tuple:
        """The style-mixing figure: sources across the top, destinations down the side, each
        labelled with its seed or file name; uploads encoded like the Encode tab's (refined when
        refine_steps > 0): (grid, info)."""
        loaded = self.model(session)
        psi = check_number("Truncation ψ", psi, *PSI_RANGE)
        noise_seed = check_number("Noise seed", noise_seed, 0, SEED_MAX, integer=True)
        layers = check_choice("Styles to copy", layers, MIX_CHOICES)
        refinement = check_refinement(refine_steps, space)
        src, src_captions = self._mix_latents(
            loaded, source_seeds, source_files, psi, "source", refinement, progress
        )
        dst, dst_captions = self._mix_latents(
            loaded, destination_seeds, destination_files, psi, "destination", refinement, progress
        )
        if layers == "paper rows":
            specs = [
                layer_range(loaded.model, PAPER_ROWS[i % len(PAPER_ROWS)])
                for i in range(dst.shape[0])
            ]
            text = "rows: coarse ×3, middle ×2, fine ×1 (repeating)"
        else:
            specs = check_layers(loaded.model, layers, custom)
            text = f"styles {specs}"
        start = time.perf_counter()
        grid = editing.mixing_grid(loaded.model, src, dst, specs, noise=noise_seed)
        took = (time.perf_counter() - start) * 1000
        columns = src.shape[0] + 1
        captions = ["", *src_captions]
        for name in dst_captions:
            captions += [name] + [""] * src.shape[0]
        labelled = caption_grid(grid_cells(grid, dst.shape[0] + 1, columns), columns, captions)
        uploads = len(as_list(source_files)) + len(as_list(destination_files))
        how = f" Uploads encoded with {Encoded.describe_settings(*refinement)}." if uploads else ""
        info = (
            f"Top row: {count(src.shape[0], 'source')}; left column: {count(dst.shape[0], 'destination')}; each cell is the "
            f"destination with the source's {text}. {describe_styles(loaded.model)}.{how} {took:.0f} ms."
        )
        return self.png(labelled, "style_mixing"), info
