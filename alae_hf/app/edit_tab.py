"""The editor app's Edit tab: layout and the events that stay inside it (`alae_hf.app.ui` wires the
ones that bring a base from another tab, each followed by `follow_base`).

Three columns and an accordion, each built by its own function and returned as its own group of
components (`EditTab` holds the four): the base (`BaseColumn`: a seed's sample or an encoded
upload), the edited image with reset and export (`EditedColumn`), the direction set with its
sliders (`DirectionsColumn`), and the traversal of one direction (`Traversal`). The sliders edit live (`SLIDER_EVENT`: only
the newest value of a drag runs); everything that runs the networks shares the "model" queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.events import Dependency

from ..models.config import SEED_MAX
from .api import UI_ONLY, endpoint
from .components import (
    direction_sliders,
    guard_range,
    named_sliders,
    refine_controls,
    thumb_values_js,
)
from .handlers import Handlers
from .inputs import ALPHA_MAX, MAX_K, PSI_RANGE, STEPS_RANGE
from .sliders import SliderSet
from .state import LoadedModel
from .tabs import MODEL_EVENT, SLIDER_EVENT


@dataclass(frozen=True)
class BaseColumn:
    """The Edit tab's left column: the base image and the line saying what it is; a seed and ψ
    with their button; an upload encoded with the tab's own refinement setting."""

    image: gr.Image
    line: gr.Markdown
    seed: gr.Number
    psi: gr.Slider
    from_seed: gr.Button
    upload: gr.Image
    steps: gr.Slider
    space: gr.Radio


@dataclass(frozen=True)
class EditedColumn:
    """The Edit tab's middle column: the edited image, reset, export and the exported files."""

    image: gr.Image
    reset: gr.Button
    export: gr.Button
    files: gr.File


@dataclass(frozen=True)
class DirectionsColumn:
    """The Edit tab's right column: what names the direction set (method, styles, custom styles),
    the number of sliders, the MAX_K sliders and what they are."""

    method: gr.Radio
    k: gr.Slider
    layers: gr.Dropdown
    custom: gr.Textbox
    sliders: list[gr.Slider]
    info: gr.Markdown

    def setting(self, session: gr.State) -> list:
        """The inputs that name the direction set: session, method, styles, custom styles."""
        return [session, self.method, self.layers, self.custom]


@dataclass(frozen=True)
class Traversal:
    """The Edit tab's traversal of one direction: which, how far, how many frames; strip and GIF."""

    direction: gr.Dropdown
    extent: gr.Slider
    frames: gr.Slider
    go: gr.Button
    strip: gr.Image
    gif: gr.Image


@dataclass(frozen=True)
class EditTab:
    """The Edit tab's components, by column (what `alae_hf.app.ui` updates among them)."""

    base: BaseColumn
    edited: EditedColumn
    directions: DirectionsColumn
    traversal: Traversal

    def made(self) -> list:
        """The outputs made from the current base, directions and slider values (cleared when one changes)."""
        return [self.edited.files, self.traversal.strip, self.traversal.gif]


def edit_tab(h: Handlers, run: Callable, session: gr.State, loaded: LoadedModel) -> EditTab:
    """The Edit tab (inside the app's Tabs) and the events that stay inside it."""
    # Initial view (shared by new sessions): the default base, SeFa on all styles.
    image0, sliders0, k0, info0 = h.act.edit_view(loaded)
    with gr.Tab("Edit", id="edit"):
        with gr.Row():
            base = base_column(h, image0, loaded.model.arch.truncation_psi)
            edited = edited_column(image0)
            directions = directions_column(loaded, sliders0, k0, info0)
        traversal = traversal_accordion(k0)
    tab = EditTab(base, edited, directions, traversal)
    guard_range(traversal.extent, (0.5, 3 * ALPHA_MAX))
    guard_range(traversal.frames, STEPS_RANGE)
    _wire_base(h, run, session, tab)
    _wire_sliders(h, run, session, tab)
    _wire_outputs(h, run, session, tab)
    return tab


def base_column(h: Handlers, image0: Any, default_psi: float) -> BaseColumn:
    """The Edit tab's left column (inside the tab's Row)."""
    seed0, _, line0 = h.act.base_fields(None)
    with gr.Column(scale=1, min_width=260):
        image = gr.Image(
            image0,
            label="Base",
            format="png",
            type="pil",
            interactive=False,
            height=240,
            elem_id="edit-base",
            elem_classes="upscale",
        )
        line = gr.Markdown(line0, elem_id="edit-base-line", label="Base info")
        with gr.Accordion("Base from a seed", open=True):
            with gr.Row():
                seed = gr.Number(
                    seed0,
                    label="Seed",
                    precision=0,
                    minimum=0,
                    maximum=SEED_MAX,
                    scale=2,
                    elem_id="edit-seed",
                )
                psi = gr.Slider(
                    *PSI_RANGE, default_psi, step=0.05, label="ψ", scale=3, elem_id="edit-psi"
                )
            from_seed = gr.Button("Use this seed", elem_id="edit-from-seed")
        upload = gr.Image(
            label="…or upload a photo to encode",
            type="filepath",
            sources=["upload", "clipboard"],
            height=160,
            elem_id="edit-upload",
        )
        steps, space = refine_controls("edit")
    guard_range(psi, PSI_RANGE)
    return BaseColumn(image, line, seed, psi, from_seed, upload, steps, space)


def edited_column(image0: Any) -> EditedColumn:
    """The Edit tab's middle column (inside the tab's Row)."""
    with gr.Column(scale=1, min_width=300):
        image = gr.Image(
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
            export = gr.Button("Export files (PNG, directions, edit JSON)", elem_id="edit-export")
        files = gr.File(
            label="Downloads",
            file_count="multiple",
            interactive=False,
            visible=False,
            elem_id="edit-files",
        )
    return EditedColumn(image, reset, export, files)


def directions_column(
    loaded: LoadedModel, sliders0: SliderSet, k0: int, info0: str
) -> DirectionsColumn:
    """The Edit tab's right column (inside the tab's Row), the first `k0` sliders visible."""
    with gr.Column(scale=1, min_width=300):
        with gr.Row():
            method = gr.Radio(loaded.methods(), value="SeFa", label="Method", scale=3)
            k = gr.Slider(
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
            layers = gr.Dropdown(
                loaded.layer_choices(),
                value="all",
                label="Styles edited",
                scale=2,
                elem_id="edit-layers",
            )
            custom = gr.Textbox("0-3", label="Custom styles", scale=1)
        sliders = direction_sliders(sliders0, k0, "edit-slider-")
        info = gr.Markdown(info0, elem_id="edit-info", label="Directions info")
    return DirectionsColumn(method, k, layers, custom, sliders, info)


def traversal_accordion(k0: int) -> Traversal:
    """The Edit tab's traversal controls and outputs (inside the tab's context)."""
    with gr.Accordion("Traversal of one direction (strip + GIF)", open=True):
        with gr.Row():
            direction = gr.Dropdown(
                [str(i + 1) for i in range(k0)], value="1", label="Direction", scale=1
            )
            extent = gr.Slider(0.5, 3 * ALPHA_MAX, 2.0, step=0.5, label="Extent (± σ)", scale=2)
            frames = gr.Slider(*STEPS_RANGE, 7, step=2, precision=0, label="Frames", scale=2)
            go = gr.Button("Make traversal", scale=1, elem_id="edit-traverse")
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
    return Traversal(direction, extent, frames, go, strip, gif)


def follow_base(h: Handlers, session: gr.State, tab: EditTab, event: Dependency) -> Dependency:
    """After `event` set a new base: the tab's seed, ψ and base line show it, and what was made
    from the previous base is cleared."""
    fields = [tab.base.seed, tab.base.psi, tab.base.line, *tab.made()]
    return event.success(h.base_fields, [session], fields, **UI_ONLY)


def _wire_base(h: Handlers, run: Callable, session: gr.State, tab: EditTab) -> None:
    """A new base from a seed or an upload; the base fields follow every change of base."""
    base = tab.base
    base_out = [session, base.image, tab.edited.image, *tab.directions.sliders]
    follow_base(
        h,
        session,
        tab,
        base.from_seed.click(
            run(h.act.edit_base_from_seed),
            [session, base.seed, base.psi],
            base_out,
            **endpoint("edit_base_from_seed"),
            **MODEL_EVENT,
        ),
    )
    follow_base(
        h,
        session,
        tab,
        base.upload.upload(
            run(h.edit_base_from_upload),
            [session, base.upload, base.steps, base.space],
            base_out,
            **endpoint("edit_base_from_upload"),
            **MODEL_EVENT,
        ),
    )


def _wire_sliders(h: Handlers, run: Callable, session: gr.State, tab: EditTab) -> None:
    """A new direction set (method, styles, number of sliders) and live edits by the sliders."""
    d = tab.directions
    setting, sliders, edited = d.setting(session), d.sliders, tab.edited.image
    outputs = [*sliders, tab.traversal.direction, d.info, edited]
    gr.on(
        [d.method.change, d.layers.change, d.custom.submit],
        run(h.directions),
        [*setting, d.k],
        outputs,
        **endpoint("directions"),
        show_progress="minimal",
        **MODEL_EVENT,
    ).success(h.clear_edit_outputs, None, tab.made(), **UI_ONLY)
    # A typed number of sliders is clamped (and said) first; the sliders then follow the box.
    guard_range(d.k, (1, MAX_K)).then(
        run(h.directions),
        [*setting, d.k],
        outputs,
        show_progress="minimal",
        **{**MODEL_EVENT, "api_visibility": "private"},
    ).success(h.clear_edit_outputs, None, tab.made(), **UI_ONLY)
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


def _wire_outputs(h: Handlers, run: Callable, session: gr.State, tab: EditTab) -> None:
    """Reset, the traversal of one direction and the export, from the current slider values."""
    d, out, traversal = tab.directions, tab.edited, tab.traversal
    setting, sliders = d.setting(session), d.sliders
    out.reset.click(
        run(h.act.reset), [session], [*sliders, out.image], **endpoint("reset"), **SLIDER_EVENT
    )
    # Exports and the traversal were made from the slider values a user has now moved (or reset).
    gr.on(
        [s.release for s in sliders] + [out.reset.click],
        h.clear_edit_outputs,
        None,
        tab.made(),
        **UI_ONLY,
    )
    traversal.go.click(
        run(named_sliders(h.act.traversal)),
        [*setting, traversal.direction, traversal.extent, traversal.frames, *sliders],
        [traversal.strip, traversal.gif],
        **endpoint("traversal"),
        **MODEL_EVENT,
    )
    out.export.click(
        run(named_sliders(h.export)),
        [*setting, *sliders],
        out.files,
        **endpoint("export"),
        **MODEL_EVENT,
    )
