"""The editor app's tabs: layout and the events that stay inside a tab (`alae_hf.app.ui` wires the
ones that cross tabs). Every tab that takes uploads has its own "Refine steps" (0 = the encoder
alone) and says how it encoded them. Output components carry short labels: `view_api()` names the
values an endpoint returns after them (see `alae_hf.app.api`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from ..config import SEED_MAX
from .api import UI_ONLY, endpoint
from .components import files_input, guard_range, named_sliders, refine_controls
from .handlers import Handlers, slider_specs
from .inputs import ALPHA_MAX, MAX_IMAGES, MAX_K, NOISE_CHOICES, PSI_RANGE, STEPS_RANGE
from .sample_actions import mix_choices
from .sources import model_kind
from .state import LoadedModel

# Queue groups: the events that run the networks share the "model" slots; slider edits have their
# own, so that a drag never waits behind a 16-image sample. Inputs arrive unprocessed so that the
# handlers' range checks (which name the field) answer instead of gradio's anonymous ones.
CONCURRENCY = 2
MODEL_EVENT = {"concurrency_id": "model", "concurrency_limit": CONCURRENCY, "preprocess": False}
SLIDER_EVENT = {
    "concurrency_id": "slider",
    "concurrency_limit": CONCURRENCY,
    "preprocess": False,
    "trigger_mode": "always_last",
    "show_progress": "hidden",
}
PICK_HINT = "click an image in the gallery to pick it"


def sample_tab(h: Handlers, run: Callable, session: gr.State, arch: Any) -> dict[str, Any]:
    with gr.Tab("Sample", id="sample"):
        with gr.Row():
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
                    1,
                    MAX_IMAGES,
                    8,
                    step=1,
                    precision=0,
                    label="Number of images",
                    elem_id="sample-n",
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
    for slider, bounds in ((n, (1, MAX_IMAGES)), (psi, PSI_RANGE)):
        guard_range(slider, bounds)
    guard_range(cutoff, lambda state: (0, h.act.model(state).model.num_styles), [session])
    args = [session, n, psi, cutoff, noise, noise_seed]
    go.click(
        run(h.act.sample),
        [session, seed, *args[1:]],
        [gallery, info, session],
        **endpoint("sample"),
        **MODEL_EVENT,
    )
    dice.click(
        run(h.act.sample_random),
        args,
        [seed, gallery, info, session],
        **endpoint("sample_random"),
        **MODEL_EVENT,
    )
    gallery.select(
        h.select, None, index, **endpoint("select_sample"), show_progress="hidden", queue=False
    )
    return {"index": index, "send": send, "cutoff": cutoff}


def encode_tab(h: Handlers, run: Callable, session: gr.State) -> dict[str, Any]:
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
    go.click(
        run(h.encode),
        [session, files, steps, space],
        [gallery, table, session],
        **endpoint("encode"),
        **MODEL_EVENT,
    )
    gallery.select(
        h.select, None, index, **endpoint("select_encoded"), show_progress="hidden", queue=False
    )
    return {"index": index, "send": send}


def mix_tab(h: Handlers, run: Callable, session: gr.State, loaded: LoadedModel) -> dict[str, Any]:
    with gr.Tab("Style mixing", id="mix"):
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                src_seeds = gr.Textbox(
                    "1, 2, 3, 4, 5", label="Source seeds (top row)", info="e.g. 1, 2, 5-8"
                )
                src_files = files_input(
                    label="…and/or source images", height=110, elem_id="mix-src-files"
                )
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
                    noise_seed = gr.Number(
                        0, label="Noise seed", precision=0, minimum=0, maximum=SEED_MAX
                    )
                go = gr.Button("Mix", variant="primary", elem_id="mix-go")
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
    guard_range(psi, PSI_RANGE)
    go.click(
        run(h.mix),
        [
            session,
            src_seeds,
            src_files,
            dst_seeds,
            dst_files,
            psi,
            layers,
            custom,
            noise_seed,
            steps,
            space,
        ],
        [grid, info],
        **endpoint("mix"),
        **MODEL_EVENT,
    )
    return {"layers": layers}


def edit_tab(h: Handlers, run: Callable, session: gr.State, loaded: LoadedModel) -> dict[str, Any]:
    # Initial view (shared by new sessions): the default base, SeFa on all styles.
    image0, sliders0, k0, info0 = h.act.edit_view(loaded)
    with gr.Tab("Edit", id="edit"):
        with gr.Row():
            ui = edit_base_column(h, image0, loaded.model.arch.truncation_psi)
            with gr.Column(scale=1, min_width=300):
                ui["edited"] = gr.Image(
                    image0,
                    label="Edited",
                    format="png",
                    type="pil",
                    interactive=False,
                    height=360,
                    elem_id="edit-out",
                    elem_classes="upscale",
                    buttons=["download", "fullscreen"],
                )
                with gr.Row():
                    reset = gr.Button("Reset sliders", elem_id="edit-reset")
                    export = gr.Button(
                        "Export files (PNG, directions, edit JSON)", elem_id="edit-export"
                    )
                files = gr.File(
                    label="Downloads",
                    file_count="multiple",
                    interactive=False,
                    visible=False,
                    elem_id="edit-files",
                )
            with gr.Column(scale=1, min_width=300):
                with gr.Row():
                    ui["method"] = gr.Radio(loaded.methods(), value="SeFa", label="Method", scale=3)
                    ui["k"] = gr.Slider(
                        1, MAX_K, 5, step=1, precision=0, label="Number of sliders", scale=2
                    )
                with gr.Row():
                    ui["layers"] = gr.Dropdown(
                        loaded.layer_choices(),
                        value="all",
                        label="Styles edited",
                        scale=2,
                        elem_id="edit-layers",
                    )
                    custom = gr.Textbox("0-3", label="Custom styles", scale=1)
                ui["sliders"] = [
                    gr.Slider(
                        value=0.0,
                        step=0.1,
                        label=f"Slider {i + 1}",
                        visible=i < k0,
                        elem_id=f"edit-slider-{i}",
                        **spec,
                    )
                    for i, spec in enumerate(slider_specs(sliders0))
                ]
                ui["info"] = gr.Markdown(info0, elem_id="edit-info", label="Directions info")
        direction, extent, frames, go_traverse, strip, gif = traversal_accordion(k0)
    ui["direction"] = direction
    guard_range(ui["k"], (1, MAX_K))
    guard_range(extent, (0.5, 3 * ALPHA_MAX))
    guard_range(frames, STEPS_RANGE)
    setting = [session, ui["method"], ui["layers"], custom]
    sliders, edited = ui["sliders"], ui["edited"]
    _wire_base(h, run, session, ui)
    gr.on(
        [ui["method"].change, ui["layers"].change, custom.submit, ui["k"].release],
        run(h.directions),
        [*setting, ui["k"]],
        [*sliders, direction, ui["info"], edited],
        **endpoint("directions"),
        show_progress="minimal",
        **MODEL_EVENT,
    )
    # Live editing: every slider change, only the newest pending value runs (always_last).
    gr.on(
        [s.change for s in sliders],
        run(named_sliders(h.act.edit)),
        [*setting, *sliders],
        edited,
        **endpoint("edit"),
        **SLIDER_EVENT,
    )
    for i, slider in enumerate(
        sliders
    ):  # a typed value past the range widens it (the browser would clamp it)
        slider.release(
            user_errors_free(h.widen(i)), [*setting, slider], slider, preprocess=False, **UI_ONLY
        )
    reset.click(
        run(h.act.reset), [session], [*sliders, edited], **endpoint("reset"), **SLIDER_EVENT
    )
    go_traverse.click(
        run(named_sliders(h.act.traversal)),
        [*setting, direction, extent, frames, *sliders],
        [strip, gif],
        **endpoint("traversal"),
        **MODEL_EVENT,
    )
    export.click(
        run(named_sliders(h.export)),
        [*setting, *sliders],
        files,
        **endpoint("export"),
        **MODEL_EVENT,
    )
    return ui


def user_errors_free(fn: Callable) -> Callable:
    """A UI helper that must never show an error (a failed check just leaves the slider as it is)."""

    def wrapper(*args: Any) -> Any:
        try:
            return fn(*args)
        except (ValueError, OSError):
            return gr.skip()

    return wrapper


def edit_base_column(h: Handlers, image0: Any, default_psi: float) -> dict[str, Any]:
    """The Edit tab's left column: the base image, what it is, and where a new one comes from
    (a seed, or an upload encoded with this tab's own refinement setting)."""
    seed0, _, line0 = h.act.base_fields(None)
    ui: dict[str, Any] = {}
    with gr.Column(scale=1, min_width=260):
        ui["base"] = gr.Image(
            image0,
            label="Base",
            format="png",
            type="pil",
            interactive=False,
            height=240,
            elem_id="edit-base",
            elem_classes="upscale",
        )
        ui["base_line"] = gr.Markdown(line0, elem_id="edit-base-line", label="Base info")
        with gr.Accordion("Base from a seed", open=True):
            with gr.Row():
                ui["seed"] = gr.Number(
                    seed0,
                    label="Seed",
                    precision=0,
                    minimum=0,
                    maximum=SEED_MAX,
                    scale=2,
                    elem_id="edit-seed",
                )
                ui["psi"] = gr.Slider(
                    *PSI_RANGE, default_psi, step=0.05, label="ψ", scale=3, elem_id="edit-psi"
                )
            ui["from_seed"] = gr.Button("Use this seed", elem_id="edit-from-seed")
        ui["upload"] = gr.Image(
            label="…or upload a photo to encode",
            type="filepath",
            sources=["upload", "clipboard"],
            height=160,
            elem_id="edit-upload",
        )
        ui["steps"], ui["space"] = refine_controls("edit")
    guard_range(ui["psi"], PSI_RANGE)
    return ui


def _wire_base(h: Handlers, run: Callable, session: gr.State, ui: dict[str, Any]) -> None:
    """A new base from a seed or an upload; the base fields follow every change of base."""
    base_out = [session, ui["base"], ui["edited"], *ui["sliders"]]
    ui["refresh_base"] = lambda event: event.success(
        h.base_fields, [session], [ui["seed"], ui["psi"], ui["base_line"]], **UI_ONLY
    )
    ui["refresh_base"](
        ui["from_seed"].click(
            run(h.act.edit_base_from_seed),
            [session, ui["seed"], ui["psi"]],
            base_out,
            **endpoint("edit_base_from_seed"),
            **MODEL_EVENT,
        )
    )
    ui["refresh_base"](
        ui["upload"].upload(
            run(h.edit_base_from_upload),
            [session, ui["upload"], ui["steps"], ui["space"]],
            base_out,
            **endpoint("edit_base_from_upload"),
            **MODEL_EVENT,
        )
    )


def traversal_accordion(k0: int) -> tuple:
    """The Edit tab's traversal controls and outputs (inside the tab's context)."""
    with gr.Accordion("Traversal of one direction (strip + GIF)", open=True):
        with gr.Row():
            direction = gr.Dropdown(
                [str(i + 1) for i in range(k0)], value="1", label="Direction", scale=1
            )
            extent = gr.Slider(0.5, 3 * ALPHA_MAX, 2.0, step=0.5, label="Extent (± σ)", scale=2)
            frames = gr.Slider(*STEPS_RANGE, 7, step=2, precision=0, label="Frames", scale=2)
            go_traverse = gr.Button("Make traversal", scale=1, elem_id="edit-traverse")
        with gr.Row():
            strip = gr.Image(
                label="Traversal strip",
                format="png",
                type="pil",
                interactive=False,
                height=160,
                scale=3,
                elem_id="edit-strip",
                elem_classes="upscale",
            )
            gif = gr.Image(
                label="Animated GIF",
                type="filepath",
                interactive=False,
                height=160,
                scale=1,
                elem_id="edit-gif",
                elem_classes="upscale",
                buttons=["download"],
            )
    return direction, extent, frames, go_traverse, strip, gif


def model_tab(h: Handlers, loaded: LoadedModel) -> dict[str, Any]:
    """Load another model: the bundled ones this app opens are listed (an MLP ALAE has its own app)."""
    kind = model_kind(loaded.folder)
    bundled = (
        ", ".join(
            name
            for name, folder in sorted(h.act.studio.bundled.items())
            if model_kind(folder) == kind
        )
        or "none"
    )
    with gr.Tab("Model", id="model"):
        with gr.Row():
            where = "or a bundled model" if h.act.studio.public else "bundled model or local folder"
            source = gr.Textbox(
                "",
                label=f"Hub repo id (owner/name), {where}",
                scale=4,
                elem_id="model-source",
                placeholder=f"empty: back to {loaded.name}",
                info=f"bundled: {bundled}",
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
    return {
        "source": source,
        "load": load,
        "progress": progress,
        "status": status,
        "info": info,
        "card": card,
    }
