"""The editor app's event handlers: `Actions` methods adapted to Gradio (`components.handler`: their
progress bar and signature) and, where an event's results are Gradio components (tab switches,
slider updates, files, warnings), turned into them. `alae_hf.app.tabs` and `alae_hf.app.edit_tab`
lay out the tabs and wire these and the actions that need no adapting.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import gradio as gr

from ..latent.styles import describe_styles
from .actions import Actions, mix_choices
from .cards import card_body, model_markdown
from .components import handler, slider_updates, widen
from .sliders import SliderSet
from .state import LoadedModel, Session, Studio, new_session


def direction_updates(sliders: SliderSet, k: int) -> tuple:
    """Updates for the MAX_K direction sliders (the first k visible, all at 0) and the traversal's
    direction picker."""
    return (
        *slider_updates(sliders, k),
        gr.Dropdown(choices=[str(i + 1) for i in range(k)], value="1"),
    )


def to_edit_tab(result: tuple) -> tuple:
    """(session, base, edited, *sliders) of a new base, with the Edit tab selected after the session."""
    state, *rest = result
    return (state, gr.Tabs(selected="edit"), *rest)


def warn_skipped(result: tuple) -> tuple:
    """An Encode run's (gallery, table, session), after a warning naming each file that could not
    be read."""
    gallery, table, state = result
    skipped = state.encoded.skipped if state.encoded is not None else []
    if skipped:
        gr.Warning(f"Skipped {len(skipped)} file(s) that could not be read: " + " ".join(skipped))
    return gallery, table, state


class Handlers:
    """The events' handlers over one `Studio`; the actions that need no adapting are wired
    straight from `self.act`."""

    def __init__(self, studio: Studio) -> None:
        self.act = Actions(studio)
        act = self.act
        self.send_sample_to_edit = handler(act.send_sample_to_edit, to_edit_tab)
        self.send_encoded_to_edit = handler(act.send_encoded_to_edit, to_edit_tab)
        self.encode = handler(act.encode, warn_skipped)
        self.mix = handler(act.mix)
        self.edit_base_from_upload = handler(act.edit_base_from_upload)
        self.directions = handler(
            act.directions,
            lambda result: (*direction_updates(result[0], result[1]), *result[2:]),
        )
        self.export = handler(act.export, lambda paths: gr.File(value=paths, visible=True))
        self.load_model = handler(act.load_model, self.model_view)

    @staticmethod
    def select(evt: gr.EventData = None) -> int:  # type: ignore[assignment]  # Gradio injects it by annotation
        """The index of the clicked gallery image (0 when called from a client, without a click).

        Typed `gr.EventData` rather than `gr.SelectData`: gradio builds a SelectData from the
        click payload and fails when a client sends none."""
        data = getattr(evt, "_data", None)
        index = data.get("index") if isinstance(data, dict) else None
        return index if isinstance(index, int) else 0

    def base_fields(self, session: Session) -> tuple:
        """The Edit tab's seed, ψ and base line for the session's base (the seed box is emptied when
        the base is an encoded image, not a seed's sample), and its exports and traversal cleared
        (they were made from the previous base)."""
        seed, psi, line = self.act.base_fields(session)
        return gr.Number(value=seed), gr.Slider(value=psi), line, *self.clear_edit_outputs()

    @staticmethod
    def clear_edit_outputs() -> tuple:
        """The Edit tab's downloads (hidden) and traversal strip and GIF, emptied: what they show
        was made from a base, directions or slider values that have since changed."""
        return gr.File(value=None, visible=False), None, None

    def clear_encoded(self, session: Session) -> tuple:
        """Before an Encode run: no gallery, no table and no stored codes from the previous run
        (a run that fails must not leave them under its error)."""
        return [], "", replace(self.act.session(session), encoded=None)

    def widen(self, index: int) -> Any:
        """The handler that lets direction slider `index` of the session's set take a typed value
        past its range (inputs: session, method, styles, custom styles, the slider)."""

        def limit(session: Session, method: Any, layers: Any, custom: Any) -> float:
            return self.act.slider_limit(session, method, layers, custom, index)

        return widen(index, limit)

    def model_view(self, loaded: LoadedModel) -> tuple:
        """What a session switched to `loaded` shows: (session, status, info, card, the controls that
        depend on the model, the Edit tab's fresh view)."""
        methods, layers, arch = loaded.methods(), loaded.layer_choices(), loaded.model.arch
        status = f"Loaded **{loaded.name}** ({describe_styles(loaded.model)})."
        controls = (
            gr.Radio(choices=methods, value="SeFa"),
            gr.Dropdown(choices=layers, value="all"),
            gr.Slider(value=5),
            gr.Dropdown(choices=mix_choices(layers), value="coarse"),
            gr.Slider(maximum=arch.num_styles, value=min(arch.truncation_cutoff, arch.num_styles)),
        )
        image, sliders, k, info = self.act.edit_view(loaded)
        shown = self.act.png(image, "base")
        return (
            new_session(loaded.key),
            status,
            model_markdown(loaded),
            card_body(loaded.card, loaded.folder),
            *controls,
            shown,
            shown,
            *direction_updates(sliders, k),
            info,
        )
