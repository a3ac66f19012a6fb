"""What the Encode and Edit tabs compute, without the UI: `EncodeEditActions`.

Encoding is `alae_hf.app.encoding` (E(x), optionally refined by inversion); an encoded upload or a
seed's sample becomes the edit base (`ActionBase.set_base`), which the direction sliders move in
σ units (truncate-then-edit, shared noise maps; see `alae_hf.latent.ops`). Direction sets and
their sliders come from the `Studio`'s cache; the hot path (`edit`) only applies and renders.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from .. import editing
from ..imaging import make_grid, tensor_to_pil
from ..latent.styles import layer_range
from ..models.config import SEED_MAX
from .action_base import ActionBase, stored_result, truncation_text
from .encoding import encode_uploads, psnr, psnr_table
from .figures import alpha_caption, caption_grid
from .inputs import (
    ALPHA_MAX,
    MAX_IMAGES,
    MAX_K,
    PSI_RANGE,
    STEPS_RANGE,
    InputError,
    as_list,
    check_alphas,
    check_choice,
    check_layers,
    check_number,
)
from .sliders import SliderSet
from .state import LoadedModel, Progress, new_session


def write_gif(
    frames: Sequence[Image.Image], path: Path, min_size: int = 256, duration_ms: int = 90
) -> Path:
    """A looping there-and-back GIF of `frames`, upscaled to at least `min_size` px."""
    big = [
        f.resize((max(min_size, f.width), max(min_size, f.height)), Image.LANCZOS) for f in frames
    ]
    loop = big + big[-2:0:-1]
    loop[0].save(path, save_all=True, append_images=loop[1:], duration=duration_ms, loop=0)
    return path


class EncodeEditActions(ActionBase):
    """The Encode tab (reconstructions, one sent to Edit) and the Edit tab (base, direction
    sliders, traversal, export)."""

    def _edited_w(
        self, session: dict | None, method: Any, layers: Any, custom: Any, alphas: Sequence[Any]
    ) -> tuple[LoadedModel, dict, SliderSet, list[int], torch.Tensor]:
        loaded = self.model(session)
        label = check_choice("Method", method, loaded.methods())
        indices = check_layers(loaded.model, layers, custom)
        values = check_alphas(alphas)
        sliders = self.studio.sliders(loaded, label, indices)
        base = self.base(session, loaded)
        w = editing.apply_directions(base["w"], sliders.directions, sliders.alphas(values), indices)
        return loaded, base, sliders, indices, w

    def encode(
        self,
        session: dict,
        files: Any,
        refine_steps: Any = 0,
        space: Any = "w+",
        progress: Progress | None = None,
    ) -> tuple:
        """Encode uploads, optionally refine the codes (`alae_hf.app.encoding`), and reconstruct
        them: (gallery of original | reconstruction, table, session). Files that cannot be read are
        skipped and named in the table. The stored codes (sent to Edit) are the refined ones."""
        loaded = self.model(session)
        files = as_list(files)
        if not files:
            raise InputError("Upload one or more images first.")
        if len(files) > MAX_IMAGES:
            raise InputError(f"At most {MAX_IMAGES} images at once, got {len(files)}.")
        start = time.perf_counter()
        encoded = encode_uploads(loaded, files, refine_steps, space, progress, keep_going=True)
        originals = tensor_to_pil(encoded.x)
        before = [
            psnr(a, b) for a, b in zip(originals, editing.render(loaded.model, encoded.initial, 0))
        ]
        recon = editing.render(loaded.model, encoded.w, 0)
        took = (time.perf_counter() - start) * 1000
        scores = [psnr(a, b) for a, b in zip(originals, recon)]
        gallery = [
            (
                self.png(make_grid([a, b], columns=2), f"{Path(name).stem}_reconstruction"),
                f"{name} · PSNR {p:.1f} dB",
            )
            for name, a, b, p in zip(encoded.names, originals, recon, scores)
        ]
        session = dict(session or new_session(loaded.key))
        session["encoded"] = {
            "model": loaded.key,
            "w": encoded.w,
            "names": encoded.names,
            "how": encoded.describe(),
            "skipped": encoded.skipped,
        }
        table = psnr_table(encoded, before, scores, loaded.model.arch.resolution, took)
        return gallery, table, session

    def send_encoded_to_edit(self, session: dict, index: Any) -> tuple:
        """Use encoded image #index as the edit base (not truncated): (session, base, edited, *sliders)."""
        loaded = self.model(session)
        encoded, index = stored_result(
            session, "encoded", loaded.key, index, "Encode some images first."
        )
        label = f"{encoded['names'][index]} from the Encode tab ({encoded.get('how', 'the encoder alone')})"
        return self.set_base(session, loaded, encoded["w"][index : index + 1], 0, label)

    def edit_base_from_seed(self, session: dict, seed: Any, psi: Any) -> tuple:
        """Base = the sample of a seed (its own noise): (session, base, edited, *sliders)."""
        loaded = self.model(session)
        seed = check_number("Seed", seed, 0, SEED_MAX, integer=True)
        psi = check_number("Truncation ψ", psi, *PSI_RANGE)
        w = editing.seed_to_w_plus(loaded.model, 1, seed, psi, loaded.model.arch.truncation_cutoff)
        label = f"the sample of seed {seed} ({truncation_text(loaded, psi, loaded.model.arch.truncation_cutoff)})"
        return self.set_base(session, loaded, w, seed, label, seed, psi)

    def edit_base_from_upload(
        self,
        session: dict,
        image: Any,
        refine_steps: Any = 0,
        space: Any = "w+",
        progress: Progress | None = None,
    ) -> tuple:
        """Base = an encoded upload (no truncation), refined when refine_steps > 0 (the Edit tab's
        own setting): (session, base, edited, *sliders)."""
        loaded = self.model(session)
        encoded = encode_uploads(loaded, [image], refine_steps, space, progress)
        label = f"{encoded.names[0]}, uploaded here ({encoded.describe()})"
        return self.set_base(session, loaded, encoded.w, 0, label)

    def directions(
        self,
        session: dict,
        method: Any,
        layers: Any,
        custom: Any,
        k: Any,
        progress: Progress | None = None,
    ) -> tuple[SliderSet, int, str, str]:
        """Pick a direction set: (its sliders, number of sliders shown, info, edited image)."""
        loaded = self.model(session)
        label = check_choice("Method", method, loaded.methods())
        k = check_number("Number of sliders", k, 1, MAX_K, integer=True)
        indices = check_layers(loaded.model, layers, custom)
        sliders = self.studio.sliders(loaded, label, indices, progress)
        info = self.describe_directions(loaded, sliders, label, indices)
        base = self.base(session, loaded)
        shown = min(k, len(sliders.order))
        return sliders, shown, info, self._render(loaded, base["w"], base["noise"], "edited")

    @staticmethod
    def describe_directions(
        loaded: LoadedModel, sliders: SliderSet, label: str, indices: list[int]
    ) -> str:
        """A short description of a direction set as sliders."""
        found = sliders.directions
        source = (
            "shipped with the model"
            if any(found is d for d in loaded.shipped.values())
            else "computed here"
        )
        effects = (
            f"labelled and sorted by their effect (attribute-net change per σ; {sliders.source})"
            if sliders.measured
            else "effects not measured: this model has no evaluation report on "
            "synthetic faces (python -m alae_hf.evaluation) to measure them with"
        )
        return (
            f"{label}: {found.num_directions} directions ({source}), applied to styles {indices}; sliders "
            f"{effects}. Units: σ (1 = one standard deviation of w along the direction); each slider's "
            f"range is where this model's mapped latents reach along it."
        )

    def edit_view(self, loaded: LoadedModel, k: int = 5) -> tuple[Image.Image, SliderSet, int, str]:
        """The Edit tab of a fresh session on `loaded` (its default base, SeFa on all styles):
        (base image, sliders, number of visible sliders, info)."""
        base = self.base(None, loaded)
        image = editing.render(loaded.model, base["w"], base["noise"])[0]
        indices = layer_range(loaded.model, "all")
        sliders = self.studio.sliders(loaded, "SeFa", indices)
        return (
            image,
            sliders,
            min(k, len(sliders.order)),
            self.describe_directions(loaded, sliders, "SeFa", indices),
        )

    def slider_limit(
        self, session: dict, method: Any, layers: Any, custom: Any, index: int
    ) -> float:
        """How far (±σ) direction slider `index` of the session's set reaches (ALPHA_MAX past the set)."""
        loaded = self.model(session)
        sliders = self.studio.sliders(
            loaded,
            check_choice("Method", method, loaded.methods()),
            check_layers(loaded.model, layers, custom),
        )
        return sliders.limits[index] if index < len(sliders.limits) else ALPHA_MAX

    def edit(self, session: dict, method: Any, layers: Any, custom: Any, *alphas: Any) -> str:
        """Render the base with the slider values applied (the hot path: cached base and directions)."""
        loaded, base, _, _, w = self._edited_w(session, method, layers, custom, alphas)
        return self._render(loaded, w, base["noise"], "edited")

    def reset(self, session: dict) -> tuple:
        """Sliders back to 0: (*sliders, base image)."""
        loaded = self.model(session)
        base = self.base(session, loaded)
        return (*[0.0] * MAX_K, self._render(loaded, base["w"], base["noise"], "edited"))

    def traversal(
        self,
        session: dict,
        method: Any,
        layers: Any,
        custom: Any,
        direction: Any,
        extent: Any,
        steps: Any,
        *alphas: Any,
    ) -> tuple[str, str]:
        """Slider `direction` from −extent to +extent σ around the current edit: (strip with
        each frame's α, GIF path)."""
        k = check_number(
            "Direction",
            int(direction) if str(direction).isdigit() else direction,
            1,
            MAX_K,
            integer=True,
        )
        extent = check_number("Extent (σ)", extent, 0.1, 3 * ALPHA_MAX)
        steps = check_number("Frames", steps, *STEPS_RANGE, integer=True)
        values = list(alphas) + [0.0] * (MAX_K - len(alphas))
        values[k - 1] = 0.0
        loaded, base, sliders, indices, w = self._edited_w(session, method, layers, custom, values)
        if k > len(sliders.order):
            raise InputError(f"This set has only {len(sliders.order)} directions.")
        strengths = np.linspace(-extent, extent, steps).tolist()
        frames = editing.render(
            loaded.model,
            editing.sweep(w, sliders.directions, sliders.order[k - 1], strengths, indices),
            base["noise"],
        )
        strip = caption_grid(frames, len(frames), [alpha_caption(a) for a in strengths])
        gif = write_gif(frames, self.studio.files.folder() / f"direction_{k}.gif")
        return self.png(strip, f"direction_{k}_strip"), str(gif)

    def export(
        self, session: dict, method: Any, layers: Any, custom: Any, *alphas: Any
    ) -> list[str]:
        """Paths of the edited image (PNG), the direction set (.safetensors + .json) and the edit (JSON)."""
        loaded, base, sliders, indices, w = self._edited_w(session, method, layers, custom, alphas)
        folder = self.studio.files.folder()
        editing.render(loaded.model, w, base["noise"])[0].save(folder / "edited.png")
        found = sliders.directions
        stem = found.save_to(folder / f"{found.method}_directions")
        values = check_alphas(alphas)
        edit = {
            "model": loaded.name,
            "base": base["label"],
            "noise_seed": base["noise"],
            "method": found.method,
            "styles": indices,
            "alphas_sigma": [float(a) for a in values][: len(sliders.order)],
            "directions": sliders.order[: len(values)],
            "alphas_by_direction": {
                str(k): a for k, a in sorted(sliders.alphas(values).items()) if a
            },
        }
        (folder / "edit.json").write_text(json.dumps(edit, indent=2) + "\n", encoding="utf-8")
        paths = [
            folder / "edited.png",
            stem.with_suffix(".safetensors"),
            stem.with_suffix(".json"),
            folder / "edit.json",
        ]
        return [str(p) for p in paths]
