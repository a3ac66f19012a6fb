"""The editor app's tabs: layout and the events that stay inside a tab (`alae_hf.app.ui` wires the
ones that cross tabs). Sample, Encode, Style mixing and Model are here, the Edit tab in
`alae_hf.app.edit_tab`; each tab returns its components as a frozen dataclass (`SampleTab`,
`EncodeTab`, `MixTab`, `ModelTab`); the queue groups (`MODEL_EVENT`, `SLIDER_EVENT`) are shared. Every tab that takes uploads has its own "Refine steps" (0 = the encoder
alone) and says how it encoded them. Output components carry short labels: `view_api()` names the
values an endpoint returns after them (see `alae_hf.app.api`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..models.config import SEED_MAX
from .actions import mix_choices
from .api import UI_ONLY, endpoint
from .components import files_input, guard_range, model_picker, refine_controls
from .handlers import Handlers
from .inputs import MAX_IMAGES, NOISE_CHOICES, PSI_RANGE
from .state import LoadedModel, Session

# Queue groups: the events that run the networks share the "model" slots; slider edits have their
# own, so that a drag never waits behind a 16-image sample. Inputs arrive unprocessed so that the
# handlers' range checks (which name the field) answer instead of gradio's anonymous ones.
CONCURRENCY = 2
MODEL_EVENT: dict[str, Any] = {
    "concurrency_id": "model",
    "concurrency_limit": CONCURRENCY,
    "preprocess": False,
}
SLIDER_EVENT: dict[str, Any] = {
    "concurrency_id": "slider",
    "concurrency_limit": CONCURRENCY,
    "preprocess": False,
    "trigger_mode": "always_last",
    "show_progress": "hidden",
}
PICK_HINT = "click an image in the gallery to pick it"


@dataclass(frozen=True)
class SampleSettings:
    """The Sample tab's left column: first seed and a random one, number of images, truncation ψ
    and cutoff, noise, Generate."""

    seed: gr.Number
    dice: gr.Button
    n: gr.Slider
    psi: gr.Slider
    cutoff: gr.Slider
    noise: gr.Radio
    noise_seed: gr.Number
    go: gr.Button

    def inputs(self) -> list:
        """The `sample` action's inputs after the session, in its order."""
        return [self.seed, self.n, self.psi, self.cutoff, self.noise, self.noise_seed]


@dataclass(frozen=True)
class SampleResults:
    """The Sample tab's right column: the gallery, what it shows, the image to send to Edit."""

    gallery: gr.Gallery
    info: gr.Markdown
    index: gr.Number
    send: gr.Button


@dataclass(frozen=True)
class SampleTab:
    settings: SampleSettings
    results: SampleResults


@dataclass(frozen=True)
class EncodeTab:
    """The Encode tab: uploads and their refinement, Encode; the reconstructions, their PSNR
    table, the image to send to Edit."""

    files: gr.File
    steps: gr.Slider
    space: gr.Radio
    go: gr.Button
    gallery: gr.Gallery
    table: gr.Markdown
    index: gr.Number
    send: gr.Button


@dataclass(frozen=True)
class MixSettings:
    """The Style-mixing tab's left column: sources and destinations (seeds and uploads), the
    refinement of the uploads, the styles copied, ψ and noise for seeds, Mix."""

    src_seeds: gr.Textbox
    src_files: gr.File
    dst_seeds: gr.Textbox
    dst_files: gr.File
    steps: gr.Slider
    space: gr.Radio
    layers: gr.Dropdown
    custom: gr.Textbox
    psi: gr.Slider
    noise_seed: gr.Number
    go: gr.Button

    def inputs(self) -> list:
        """The `mix` action's inputs after the session, in its order."""
        return [
            self.src_seeds,
            self.src_files,
            self.dst_seeds,
            self.dst_files,
            self.psi,
            self.layers,
            self.custom,
            self.noise_seed,
            self.steps,
            self.space,
        ]


@dataclass(frozen=True)
class MixTab:
    settings: MixSettings
    grid: gr.Image
    info: gr.Markdown


@dataclass(frozen=True)
class ModelTab:
    """The Model tab: the source and Load; loading progress, status, model info and card."""

    source: gr.Dropdown
    load: gr.Button
    progress: gr.Markdown
    status: gr.Markdown
    info: gr.Markdown
    card: gr.Markdown


def sample_tab(h: Handlers, run: Callable, session: gr.State, arch: Any) -> SampleTab:
    """The Sample tab: seeds, truncation and noise on the left, the samples on the right (one is
    picked to send to Edit, which `alae_hf.app.ui` wires)."""
    with gr.Tab("Sample", id="sample"):
        with gr.Row():
            settings = _sample_settings(arch)
            results = _sample_results()

    def cutoff_range(session: Session) -> tuple[float, float]:
        """The truncation cutoffs of the session's model: 0 to its number of styles."""
        return 0, h.act.model(session).model.num_styles

    for slider, bounds in ((settings.n, (1, MAX_IMAGES)), (settings.psi, PSI_RANGE)):
        guard_range(slider, bounds)
    guard_range(settings.cutoff, cutoff_range, [session])
    seed, *rest = settings.inputs()
    settings.go.click(
        run(h.act.sample),
        [session, seed, *rest],
        [results.gallery, results.info, session],
        **endpoint("sample"),
        **MODEL_EVENT,
    )
    settings.dice.click(
        run(h.act.sample_random),
        [session, *rest],
        [seed, results.gallery, results.info, session],
        **endpoint("sample_random"),
        **MODEL_EVENT,
    )
    results.gallery.select(
        h.select,
        None,
        results.index,
        **endpoint("select_sample"),
        show_progress="hidden",
        queue=False,
    )
    return SampleTab(settings, results)


def _sample_settings(arch: Any) -> SampleSettings:
    """The Sample tab's left column (inside the tab's Row)."""
    with gr.Column(scale=1, min_width=280):
        with gr.Row():
            seed = gr.Number(
                0,
                label="Seed",
                precision=0,
                minimum=0,
                maximum=SEED_MAX,
                elem_id="sample-seed",
                scale=3,
            )
            dice = gr.Button("Random seed", scale=1, min_width=80, elem_id="sample-dice")
        n = gr.Slider(
            1, MAX_IMAGES, 8, step=1, precision=0, label="Number of images", elem_id="sample-n"
        )
        psi = gr.Slider(
            *PSI_RANGE,
            arch.truncation_psi,
            step=0.05,
            label="Truncation ψ",
            info="1 = off, 0 = the mean face",
            elem_id="sample-psi",
        )
        cutoff = gr.Slider(
            0,
            arch.num_styles,
            min(arch.truncation_cutoff, arch.num_styles),
            step=1,
            precision=0,
            label="Truncation cutoff",
            info="ψ applies to the first N styles",
        )
        with gr.Row():
            noise = gr.Radio(
                NOISE_CHOICES,
                value="image seed",
                label="Noise",
                scale=2,
                info="image seed: each image as model.sample(1, seed=s)",
            )
            noise_seed = gr.Number(
                0, label="Noise seed", precision=0, minimum=0, maximum=SEED_MAX, scale=1
            )
        go = gr.Button("Generate", variant="primary", elem_id="sample-go")
    return SampleSettings(seed, dice, n, psi, cutoff, noise, noise_seed, go)


def _sample_results() -> SampleResults:
    """The Sample tab's right column (inside the tab's Row)."""
    with gr.Column(scale=2):
        # Six columns, never stretched to fewer images, no fixed height: 16 samples fit in three rows.
        gallery = gr.Gallery(
            label="Samples",
            columns=6,
            format="png",
            fit_columns=False,
            object_fit="contain",
            elem_id="sample-gallery",
            allow_preview=False,
            elem_classes="captions-below",
        )
        info = gr.Markdown(elem_id="sample-info", label="Info")
        with gr.Row():
            index = gr.Number(
                0,
                label="Selected image",
                info=PICK_HINT,
                precision=0,
                minimum=0,
                scale=1,
                elem_id="sample-index",
            )
            send = gr.Button("Send to Edit ➜", scale=1, elem_id="sample-send")
    return SampleResults(gallery, info, index, send)


def encode_tab(h: Handlers, run: Callable, session: gr.State) -> EncodeTab:
    """The Encode tab: uploads and their refinement on the left, the reconstructions on the right
    (one is picked to send to Edit, which `alae_hf.app.ui` wires)."""
    with gr.Tab("Encode & reconstruct", id="encode"):
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                files = files_input(
                    label=f"Images (up to {MAX_IMAGES}; any format, cropped to a square)",
                    elem_id="encode-files",
                )
                steps, space = refine_controls("encode")
                go = gr.Button("Encode & reconstruct", variant="primary", elem_id="encode-go")
            with gr.Column(scale=2):
                gallery = gr.Gallery(
                    label="Reconstructions",
                    columns=3,
                    format="png",
                    fit_columns=False,
                    object_fit="contain",
                    elem_id="encode-gallery",
                    allow_preview=False,
                    elem_classes="captions-below",
                )
                table = gr.Markdown(elem_id="encode-table", label="PSNR table")
                with gr.Row():
                    index = gr.Number(
                        0,
                        label="Selected image",
                        info="each image: original | reconstruction; " + PICK_HINT,
                        precision=0,
                        minimum=0,
                        scale=1,
                        elem_id="encode-index",
                    )
                    send = gr.Button("Edit this ➜", scale=1, elem_id="encode-send")
    # A run starts by clearing the previous one's results: a run that fails leaves none behind.
    go.click(h.clear_encoded, [session], [gallery, table, session], **UI_ONLY).then(
        run(h.encode),
        [session, files, steps, space],
        [gallery, table, session],
        **endpoint("encode"),
        **MODEL_EVENT,
    )
    gallery.select(
        h.select, None, index, **endpoint("select_encoded"), show_progress="hidden", queue=False
    )
    return EncodeTab(files, steps, space, go, gallery, table, index, send)


def mix_tab(h: Handlers, run: Callable, session: gr.State, loaded: LoadedModel) -> MixTab:
    """The Style-mixing tab: sources and destinations (seeds and uploads) and the styles to copy
    on the left, the grid on the right."""
    with gr.Tab("Style mixing", id="mix"):
        with gr.Row():
            settings = _mix_settings(loaded)
            with gr.Column(scale=2):
                grid = gr.Image(
                    label="Mixing grid",
                    format="png",
                    type="pil",
                    interactive=False,
                    height=480,
                    elem_id="mix-grid",
                    elem_classes="upscale",
                )
                info = gr.Markdown(label="Info", elem_id="mix-info")
    guard_range(settings.psi, PSI_RANGE)
    settings.go.click(
        run(h.mix),
        [session, *settings.inputs()],
        [grid, info],
        **endpoint("mix"),
        **MODEL_EVENT,
    )
    return MixTab(settings, grid, info)


def _mix_settings(loaded: LoadedModel) -> MixSettings:
    """The Style-mixing tab's left column (inside the tab's Row)."""
    with gr.Column(scale=1, min_width=280):
        src_seeds = gr.Textbox(
            "1, 2, 3, 4, 5", label="Source seeds (top row)", info="e.g. 1, 2, 5-8"
        )
        src_files = files_input(label="…and/or source images", height=110, elem_id="mix-src-files")
        dst_seeds = gr.Textbox("10, 11, 12", label="Destination seeds (left column)")
        dst_files = files_input(
            label="…and/or destination images", height=110, elem_id="mix-dst-files"
        )
        steps, space = refine_controls("mix")
        with gr.Row():
            layers = gr.Dropdown(
                mix_choices(loaded.layer_choices()),
                value="coarse",
                label="Styles to copy",
                info="from each source into each destination",
                scale=2,
            )
            custom = gr.Textbox("0-3", label="Custom styles", scale=1)
        with gr.Row():
            psi = gr.Slider(
                *PSI_RANGE, loaded.model.arch.truncation_psi, step=0.05, label="ψ for seeds"
            )
            noise_seed = gr.Number(0, label="Noise seed", precision=0, minimum=0, maximum=SEED_MAX)
        go = gr.Button("Mix", variant="primary", elem_id="mix-go")
    return MixSettings(
        src_seeds,
        src_files,
        dst_seeds,
        dst_files,
        steps,
        space,
        layers,
        custom,
        psi,
        noise_seed,
        go,
    )


def model_tab(h: Handlers, loaded: LoadedModel) -> ModelTab:
    """Load another model: a list of the bundled ones (an MLP ALAE says it opens in its own app)
    that also takes a Hub repo id or, unless the app is public, a local folder."""
    where = "" if h.act.studio.public else " or a local folder"
    with gr.Tab("Model", id="model"):
        with gr.Row():
            source = model_picker(
                h.act.studio.bundled,
                "StyleALAE",
                f"Model: a bundled one, or type a Hub repo id (owner/name){where}",
                f"empty: back to {loaded.name}",
            )
            load = gr.Button("Load", variant="primary", scale=1, elem_id="model-load")
        # Where loading shows its progress and, when it fails, gradio's "Error" badge: its own line,
        # so that neither covers the source box or the model's description.
        progress = gr.Markdown("", elem_id="model-progress", label="Loading", min_height=48)
        status = gr.Markdown(elem_id="model-status", label="Status")
        with gr.Row():
            with gr.Column(scale=1):
                info = gr.Markdown(elem_id="model-info", label="Model info")
            with gr.Column(scale=1):
                with gr.Accordion("Model card", open=True):
                    card = gr.Markdown(elem_id="model-card", max_height=720, label="Model card")
    return ModelTab(source, load, progress, status, info, card)
