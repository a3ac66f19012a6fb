"""What each event of the editor app computes, without the UI: sample, encode, mix, edit,
traverse, export, switch models.

`Actions` methods take a `Session` (`alae_hf.app.state`; None: a fresh one on the default model)
and the raw request values, check them (`InputError` names the field;
`alae_hf.app.inputs`), run `StyleALAE` / `alae_hf.editing` (truncate-then-edit, shared noise maps,
directions in σ units; see `alae_hf.latent.ops`) and return plain values: PNG paths in the
`Studio`'s output folder, markdown text and new sessions (`dataclasses.replace`, never an edit in
place). `alae_hf.app.handlers` and the tabs turn them into Gradio components.

Seeds and noise follow the model's one convention (`alae_hf.models.style.NoiseSpec`): the Sample tab's
image for seed s is `model.sample(1, seed=s)` (its z and, by default, its noise come from s), and
an image sent to Edit keeps its own noise. The mixing grid is StyleGAN's figure 3 (ALAE's
`stylemix.py`): sources across the top, destinations down the side, each cell a destination with
some of a source's styles. Encoding is `alae_hf.app.encoding` (E(x), optionally refined by
inversion); an encoded upload or a seed's sample becomes the edit base (`Actions.set_base`), which
the direction sliders move. A session without a base edits the sample of seed 0 at the config's
truncation, as the Edit tab starts. Direction sets and their sliders come from the `Studio`'s
cache; the hot path (`edit`) only applies and renders.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from .. import editing
from ..imaging import make_grid, tensor_to_pil
from ..latent.styles import describe_styles, layer_range
from ..models.config import SEED_MAX
from .cards import card_body, model_markdown
from .encoding import Encoded, check_refinement, encode_uploads, psnr, psnr_table
from .figures import alpha_caption, caption_grid, grid_cells
from .inputs import (
    ALPHA_MAX,
    MAX_IMAGES,
    MAX_K,
    MAX_MIX,
    MIX_CHOICES,
    NOISE_CHOICES,
    PAPER_ROWS,
    PSI_RANGE,
    STEPS_RANGE,
    InputError,
    as_list,
    check_alphas,
    check_choice,
    check_layers,
    check_number,
    parse_seeds,
)
from .sliders import SliderSet
from .state import (
    EditBase,
    EncodedImages,
    LoadedModel,
    Progress,
    Samples,
    Session,
    Studio,
    new_session,
)


def truncation_text(loaded: LoadedModel, psi: float, cutoff: int) -> str:
    """'ψ 0.7 on styles 0–7' (the styles the model has), or 'no truncation'."""
    cutoff = min(cutoff, loaded.model.num_styles)
    return f"ψ {psi:g} on styles 0–{cutoff - 1}" if cutoff and psi != 1 else "no truncation"


def checked_index(
    stored: Samples | EncodedImages | None, model_key: str, index: Any, missing: str
) -> int:
    """A checked image index into a tab's stored result, which must be of the loaded model."""
    if stored is None or stored.model != model_key:
        raise InputError(missing)
    return check_number("Image #", index, 0, stored.w.shape[0] - 1, integer=True)


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


def write_gif(
    frames: Sequence[Image.Image], path: Path, min_size: int = 256, duration_ms: int = 90
) -> Path:
    """A looping there-and-back GIF of `frames`, upscaled to at least `min_size` px."""
    big = [
        f.resize((max(min_size, f.width), max(min_size, f.height)), Image.Resampling.LANCZOS)
        for f in frames
    ]
    loop = big + big[-2:0:-1]
    loop[0].save(path, save_all=True, append_images=loop[1:], duration=duration_ms, loop=0)
    return path


class Actions:
    """The computations behind every event, over one `Studio` (the app-level caches), tab by tab:
    the edit base every tab may set, Sample, Style mixing, Encode, Edit, Model.

    One class because they are one responsibility: each is a pure step from (session, request
    values) to (outputs, new session) on the same Studio."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio

    def session(self, session: Session | None) -> Session:
        """`session`, or a fresh one on the default model for None (a Python caller starting out)."""
        if session is None:
            return new_session(self.studio.default_key)
        if not isinstance(session, Session):
            raise TypeError(
                f"expected a Session (alae_hf.app.state.new_session(model_key)) or None, "
                f"got {type(session).__name__}"
            )
        return session

    def model(self, session: Session | None) -> LoadedModel:
        return self.studio.get(self.session(session).model)

    def png(self, image: Image.Image, name: str) -> str:
        """An image output as a PNG file path (see `OutputFiles`)."""
        return self.studio.files.png(image, name)

    def base(self, session: Session | None, loaded: LoadedModel) -> EditBase:
        """The session's edit base on `loaded` (seed 0 at the config's truncation if it has none)."""
        base = self.session(session).base
        if base is None or base.model != loaded.key:
            arch = loaded.model.arch
            w = editing.seed_to_w_plus(
                loaded.model, 1, 0, arch.truncation_psi, arch.truncation_cutoff
            )
            label = f"the sample of seed 0 ({truncation_text(loaded, arch.truncation_psi, arch.truncation_cutoff)})"
            base = EditBase(loaded.key, w, 0, label, 0, arch.truncation_psi)
        return base

    def _render(self, loaded: LoadedModel, w: torch.Tensor, noise: int | None, name: str) -> str:
        return self.png(editing.render(loaded.model, w, noise)[0], name)

    def set_base(
        self,
        session: Session | None,
        loaded: LoadedModel,
        w: torch.Tensor,
        noise: int | None,
        label: str,
        seed: int | None = None,
        psi: float | None = None,
    ) -> tuple:
        """New edit base: (session, base image, edited image, *sliders reset to 0). `seed` and `psi`
        say which seed it is the sample of (None for an encoded upload): `base_fields` shows them."""
        base = EditBase(loaded.key, loaded.model.to_w_plus(w).clone(), noise, label, seed, psi)
        image = self._render(loaded, base.w, noise, "base")
        return (replace(self.session(session), base=base), image, image, *[0.0] * MAX_K)

    def base_fields(self, session: Session | None) -> tuple[int | None, float, str]:
        """What the Edit tab's base fields show for the session's base: (seed, or None when the base
        is not a seed's sample; ψ; a line saying what the base is)."""
        loaded = self.model(session)
        base = self.base(session, loaded)
        return (
            base.seed,
            loaded.model.arch.truncation_psi if base.psi is None else base.psi,
            f"Base: {base.label}",
        )

    # ---- Sample ----------------------------------------------------------------------------------
    def sample(
        self,
        session: Session | None,
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
        samples = Samples(loaded.key, w, noise, seeds, psi, cutoff)
        gallery = [(self.png(image, f"seed{s}"), f"seed {s}") for s, image in zip(seeds, images)]
        noise_text = {"image seed": "noise from each image's seed", "off": "no noise"}.get(
            noise_mode, f"noise seed {noise}"
        )
        seed_text = f"seed {seed}" if n == 1 else f"seeds {seed}–{seeds[-1]}"
        info = (
            f"{seed_text} · ψ {psi:g} on styles 0–{cutoff - 1 if cutoff else '(none)'} · {noise_text} · "
            f"{n} × {loaded.model.arch.resolution}² px in {took:.0f} ms"
        )
        return gallery, info, replace(self.session(session), samples=samples)

    def keep_samples(self, session: Session | None, made: Session | None) -> Session:
        """The current session with the samples of `made` (the page-load sample's session, which
        started from an older copy), unless it has samples of its own since."""
        current = self.session(session)
        return current if made is None else current.with_samples(made)

    def sample_random(
        self,
        session: Session | None,
        n: Any,
        psi: Any,
        cutoff: Any,
        noise_mode: Any,
        noise_seed: Any,
    ) -> tuple:
        """A random seed, then `sample`: (seed, gallery, info, session)."""
        seed = random.randint(0, 2**31 - 1)
        return (seed, *self.sample(session, seed, n, psi, cutoff, noise_mode, noise_seed))

    def send_sample_to_edit(self, session: Session | None, index: Any) -> tuple:
        """Use sampled image #index as the edit base, with its own noise: (session, base, edited, *sliders)."""
        loaded = self.model(session)
        samples = self.session(session).samples
        index = checked_index(samples, loaded.key, index, "Generate some samples first.")
        assert samples is not None  # checked_index refuses a missing result
        noise = samples.noise[index] if isinstance(samples.noise, list) else samples.noise
        seed, psi = samples.seeds[index], samples.psi
        label = f"the sample of seed {seed} from the Sample tab ({truncation_text(loaded, psi, samples.cutoff)})"
        return self.set_base(session, loaded, samples.w[index : index + 1], noise, label, seed, psi)

    # ---- Style mixing ----------------------------------------------------------------------------

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
        session: Session | None,
        source_seeds: Any,
        source_files: Any = None,
        destination_seeds: Any = "",
        destination_files: Any = None,
        psi: Any = 1.0,
        layers: Any = "coarse",
        custom: Any = "",
        noise_seed: Any = 0,
        refine_steps: Any = 0,
        space: Any = "w+",
        progress: Progress | None = None,
    ) -> tuple:
        """The style-mixing figure: sources across the top, destinations down the side, each
        labelled with its seed or file name; uploads encoded like the Encode tab's (refined when
        refine_steps > 0): (grid, info).

        The uploads default to None: gradio lists a parameter whose component starts empty as
        optional only when the handler's default is None, and seeds alone make a grid. The
        defaults after them only keep the signature valid; clients get the components' values."""
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
        specs: list[int] | list[list[int]]
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

    # ---- Encode and Edit -------------------------------------------------------------------------
    def _edited_w(
        self, session: Session | None, method: Any, layers: Any, custom: Any, alphas: Sequence[Any]
    ) -> tuple[LoadedModel, EditBase, SliderSet, list[int], torch.Tensor]:
        loaded = self.model(session)
        label = check_choice("Method", method, loaded.methods())
        indices = check_layers(loaded.model, layers, custom)
        values = check_alphas(alphas)
        sliders = self.studio.sliders(loaded, label, indices)
        base = self.base(session, loaded)
        w = editing.apply_directions(base.w, sliders.directions, sliders.alphas(values), indices)
        return loaded, base, sliders, indices, w

    def encode(
        self,
        session: Session | None,
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
        stored = EncodedImages(
            loaded.key, encoded.w, encoded.names, encoded.describe(), encoded.skipped
        )
        table = psnr_table(encoded, before, scores, loaded.model.arch.resolution, took)
        return gallery, table, replace(self.session(session), encoded=stored)

    def send_encoded_to_edit(self, session: Session | None, index: Any) -> tuple:
        """Use encoded image #index as the edit base (not truncated): (session, base, edited, *sliders)."""
        loaded = self.model(session)
        encoded = self.session(session).encoded
        index = checked_index(encoded, loaded.key, index, "Encode some images first.")
        assert encoded is not None  # checked_index refuses a missing result
        label = f"{encoded.names[index]} from the Encode tab ({encoded.how})"
        return self.set_base(session, loaded, encoded.w[index : index + 1], 0, label)

    def edit_base_from_seed(self, session: Session | None, seed: Any, psi: Any) -> tuple:
        """Base = the sample of a seed (its own noise): (session, base, edited, *sliders)."""
        loaded = self.model(session)
        seed = check_number("Seed", seed, 0, SEED_MAX, integer=True)
        psi = check_number("Truncation ψ", psi, *PSI_RANGE)
        w = editing.seed_to_w_plus(loaded.model, 1, seed, psi, loaded.model.arch.truncation_cutoff)
        label = f"the sample of seed {seed} ({truncation_text(loaded, psi, loaded.model.arch.truncation_cutoff)})"
        return self.set_base(session, loaded, w, seed, label, seed, psi)

    def edit_base_from_upload(
        self,
        session: Session | None,
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
        session: Session | None,
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
        return sliders, shown, info, self._render(loaded, base.w, base.noise, "edited")

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
        image = editing.render(loaded.model, base.w, base.noise)[0]
        indices = layer_range(loaded.model, "all")
        sliders = self.studio.sliders(loaded, "SeFa", indices)
        return (
            image,
            sliders,
            min(k, len(sliders.order)),
            self.describe_directions(loaded, sliders, "SeFa", indices),
        )

    def slider_limit(
        self, session: Session | None, method: Any, layers: Any, custom: Any, index: int
    ) -> float:
        """How far (±σ) direction slider `index` of the session's set reaches (ALPHA_MAX past the set)."""
        loaded = self.model(session)
        sliders = self.studio.sliders(
            loaded,
            check_choice("Method", method, loaded.methods()),
            check_layers(loaded.model, layers, custom),
        )
        return sliders.limit(index, ALPHA_MAX)

    def edit(
        self, session: Session | None, method: Any, layers: Any, custom: Any, *alphas: Any
    ) -> str:
        """Render the base with the slider values applied (the hot path: cached base and directions)."""
        loaded, base, _, _, w = self._edited_w(session, method, layers, custom, alphas)
        return self._render(loaded, w, base.noise, "edited")

    def reset(self, session: Session | None) -> tuple:
        """Sliders back to 0: (*sliders, base image)."""
        loaded = self.model(session)
        base = self.base(session, loaded)
        return (*[0.0] * MAX_K, self._render(loaded, base.w, base.noise, "edited"))

    def traversal(
        self,
        session: Session | None,
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
            base.noise,
        )
        strip = caption_grid(frames, len(frames), [alpha_caption(a) for a in strengths])
        gif = write_gif(frames, self.studio.files.folder() / f"direction_{k}.gif")
        return self.png(strip, f"direction_{k}_strip"), str(gif)

    def export(
        self, session: Session | None, method: Any, layers: Any, custom: Any, *alphas: Any
    ) -> list[str]:
        """Paths of the edited image (PNG), the direction set (.safetensors + .json) and the edit (JSON)."""
        loaded, base, sliders, indices, w = self._edited_w(session, method, layers, custom, alphas)
        folder = self.studio.files.folder()
        editing.render(loaded.model, w, base.noise)[0].save(folder / "edited.png")
        found = sliders.directions
        stem = found.save_to(folder / f"{found.method}_directions")
        values = check_alphas(alphas)
        edit = {
            "model": loaded.name,
            "base": base.label,
            "noise_seed": base.noise,
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

    # ---- Model -----------------------------------------------------------------------------------
    def model_info(self, session: Session | None) -> tuple[str, str, str]:
        """(status, info, card) for the session's model."""
        loaded = self.model(session)
        return (
            f"Using **{loaded.name}**.",
            model_markdown(loaded),
            card_body(loaded.card, loaded.folder),
        )

    def load_model(
        self, session: Session | None, source: Any, progress: Progress | None = None
    ) -> LoadedModel:
        """The model to switch this session to (empty source: the default). On failure the
        session keeps its current model and the InputError says so."""
        source = str(source or "").strip() or self.studio.default_key
        try:
            loaded = self.studio.load(source, progress)
        except (OSError, ValueError) as err:
            current = self.model(session).name
            message = str(err).strip().splitlines()[0][:400]
            raise InputError(
                f"Could not load {source!r}: {message}. Still using {current}."
            ) from err
        if not loaded.model.supports_style_mixing:  # this app's tabs mix and edit styles
            raise InputError(
                f"{source!r} is an {loaded.model.display_name} (one w, no styles to mix or edit): open it in its own app, "
                f"python app.py --model {source}. Still using {self.model(session).name}."
            )
        return loaded
