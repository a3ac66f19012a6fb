"""The editor app's Edit tab: layout and the events that stay inside it (`alae_hf.app.ui` wires the
ones that bring a base from another tab, through `ui["refresh_base"]`).

Three columns and an accordion, each built by its own function: the base (`edit_base_column`: a
seed's sample or an encoded upload), the edited image with reset and export, the direction set
with its sliders, and the traversal of one direction. The sliders edit live (`SLIDER_EVENT`: only
the newest value of a drag runs); everything that runs the networks shares the "model" queue.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from ..models.config import SEED_MAX
from .api import UI_ONLY, endpoint
from .components import guard_range, named_sliders, refine_controls, slider_specs, thumb_values_js
from .handlers import Handlers
from .inputs import ALPHA_MAX, MAX_K, PSI_RANGE, STEPS_RANGE
from .sliders import SliderSet
from .state import LoadedModel
from .tabs import MODEL_EVENT, SLIDER_EVENT


def edit_tab(h: Handlers, run: Callable, session: gr.State, loaded: LoadedModel) -> dict[str, Any]:
    """The tab's components by name (what `_wire_cross_tab` updates among them)."""
    # Initial view (shared by new sessions): the default base, SeFa on all styles.
    image0, sliders0, k0, info0 = h.act.edit_view(loaded)
    with gr.Tab("Edit", id="edit"):
        with gr.Row():
            ui = edit_base_column(h, image0, loaded.model.arch.truncation_psi)
            ui.update(edited_column(image0))
            ui.update(directions_column(loaded, sliders0, k0, info0))
        ui.update(traversal_accordion(k0))
    guard_range(ui["extent"], (0.5, 3 * ALPHA_MAX))
    guard_range(ui["frames"], STEPS_RANGE)
    _wire_base(h, run, session, ui)
    _wire_sliders(h, run, session, ui)
    _wire_outputs(h, run, session, ui)
    return ui


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


def edited_column(image0: Any) -> dict[str, Any]:
    """The Edit tab's middle column: the edited image, reset, export and the exported files."""
    ui: dict[str, Any] = {}
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
            ui["reset"] = gr.Button("Reset sliders", elem_id="edit-reset")
            ui["export"] = gr.Button(
                "Export files (PNG, directions, edit JSON)", elem_id="edit-export"
            )
        ui["files"] = gr.File(
            label="Downloads",
            file_count="multiple",
            interactive=False,
            visible=False,
            elem_id="edit-files",
        )
    return ui


def directions_column(
    loaded: LoadedModel, sliders0: SliderSet, k0: int, info0: str
) -> dict[str, Any]:
    """The Edit tab's right column: the direction set (method, number of sliders, styles), its
    MAX_K sliders (the first `k0` visible) and what they are."""
    ui: dict[str, Any] = {}
    with gr.Column(scale=1, min_width=300):
        with gr.Row():
            ui["method"] = gr.Radio(loaded.methods(), value="SeFa", label="Method", scale=3)
            ui["k"] = gr.Slider(
                1,
                MAX_K,
                5,
                step=1,
                precision=0,
                label="Number of sliders",
                scale=2,
                elem_id="edit-k",
            )
        with gr.Row():
            ui["layers"] = gr.Dropdown(
                loaded.layer_choices(),
                value="all",
                label="Styles edited",
                scale=2,
                elem_id="edit-layers",
            )
            ui["custom"] = gr.Textbox("0-3", label="Custom styles", scale=1)
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
    return ui


def traversal_accordion(k0: int) -> dict[str, Any]:
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
    return {
        "direction": direction,
        "extent": extent,
        "frames": frames,
        "go_traverse": go_traverse,
        "strip": strip,
        "gif": gif,
    }


def _wire_base(h: Handlers, run: Callable, session: gr.State, ui: dict[str, Any]) -> None:
    """A new base from a seed or an upload; the base fields follow every change of base."""
    base_out = [session, ui["base"], ui["edited"], *ui["sliders"]]
    made = [ui["files"], ui["strip"], ui["gif"]]  # outputs of the previous base: cleared
    ui["refresh_base"] = lambda event: event.success(
        h.base_fields, [session], [ui["seed"], ui["psi"], ui["base_line"], *made], **UI_ONLY
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


def _setting(session: gr.State, ui: dict[str, Any]) -> list:
    """The inputs that name the direction set: session, method, styles, custom styles."""
    return [session, ui["method"], ui["layers"], ui["custom"]]


def _wire_sliders(h: Handlers, run: Callable, session: gr.State, ui: dict[str, Any]) -> None:
    """A new direction set (method, styles, number of sliders) and live edits by the sliders."""
    setting, sliders, edited = _setting(session, ui), ui["sliders"], ui["edited"]
    made = [ui["files"], ui["strip"], ui["gif"]]
    outputs = [*sliders, ui["direction"], ui["info"], edited]
    gr.on(
        [ui["method"].change, ui["layers"].change, ui["custom"].submit],
        run(h.directions),
        [*setting, ui["k"]],
        outputs,
        **endpoint("directions"),
        show_progress="minimal",
        **MODEL_EVENT,
    ).success(h.clear_edit_outputs, None, made, **UI_ONLY)
    # A typed number of sliders is clamped (and said) first; the sliders then follow the box.
    guard_range(ui["k"], (1, MAX_K)).then(
        run(h.directions),
        [*setting, ui["k"]],
        outputs,
        show_progress="minimal",
        **{**MODEL_EVENT, "api_visibility": "private"},
    ).success(h.clear_edit_outputs, None, made, **UI_ONLY)
    # Live editing: every slider change, only the newest pending value runs (always_last), with
    # the value its thumb shows: a typed value counts once committed (see `thumb_values_js`).
    gr.on(
        [s.change for s in sliders],
        run(named_sliders(h.act.edit)),
        [*setting, *sliders],
        edited,
        js=thumb_values_js(len(setting), "edit-slider-"),
        **endpoint("edit"),
        **SLIDER_EVENT,
    )
    # A typed value past a slider's range widens it (the browser would clamp it).
    for i, slider in enumerate(sliders):
        slider.release(h.widen(i), [*setting, slider], slider, preprocess=False, **UI_ONLY)


def _wire_outputs(h: Handlers, run: Callable, session: gr.State, ui: dict[str, Any]) -> None:
    """Reset, the traversal of one direction and the export, from the current slider values."""
    setting, sliders, edited = _setting(session, ui), ui["sliders"], ui["edited"]
    ui["reset"].click(
        run(h.act.reset), [session], [*sliders, edited], **endpoint("reset"), **SLIDER_EVENT
    )
    # Exports and the traversal were made from the slider values a user has now moved (or reset).
    gr.on(
        [s.release for s in sliders] + [ui["reset"].click],
        h.clear_edit_outputs,
        None,
        [ui["files"], ui["strip"], ui["gif"]],
        **UI_ONLY,
    )
    ui["go_traverse"].click(
        run(named_sliders(h.act.traversal)),
        [*setting, ui["direction"], ui["extent"], ui["frames"], *sliders],
        [ui["strip"], ui["gif"]],
        **endpoint("traversal"),
        **MODEL_EVENT,
    )
    ui["export"].click(
        run(named_sliders(h.export)),
        [*setting, *sliders],
        ui["files"],
        **endpoint("export"),
        **MODEL_EVENT,
    )
