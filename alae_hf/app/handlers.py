"""The editor app's event handlers whose results are Gradio components (tab switches, slider
updates, progress bars, files, warnings). The others are `alae_hf.app.actions.Actions` methods,
wired as they are; `alae_hf.app.tabs` and `alae_hf.app.edit_tab` lay out the tabs and wire both.
"""

from __future__ import annotations

import math
from typing import Any

import gradio as gr

from ..latent.styles import describe_styles
from .actions import Actions
from .cards import card_body, model_markdown
from .inputs import ALPHA_MAX, MAX_K
from .sample_actions import mix_choices
from .sliders import SliderSet
from .state import Studio, new_session


def slider_specs(sliders: SliderSet) -> list[dict[str, Any]]:
    """What each of the MAX_K direction sliders says (its `info`: the direction, its measured
    effect and range) and how far it goes (beyond the set: hidden, ±ALPHA_MAX). The labels stay
    "Slider 1" ... "Slider 10": they are also the API's names for the values."""
    specs = [
        {"info": text, "minimum": -limit, "maximum": limit}
        for text, limit in zip(sliders.labels, sliders.limits)
    ]
    return specs + [
        {"info": "", "minimum": -ALPHA_MAX, "maximum": ALPHA_MAX} for _ in range(len(specs), MAX_K)
    ]


def slider_updates(sliders: SliderSet, k: int) -> tuple:
    """Updates for the MAX_K direction sliders (the first k visible, all at 0) and the traversal's
    direction picker."""
    updates = [
        gr.Slider(value=0.0, visible=i < k, **spec) for i, spec in enumerate(slider_specs(sliders))
    ]
    return (*updates, gr.Dropdown(choices=[str(i + 1) for i in range(k)], value="1"))


class Handlers:
    """The events whose results are Gradio components; the others are wired straight to `self.act`."""

    def __init__(self, studio: Studio) -> None:
        self.act = Actions(studio)

    @staticmethod
    def select(evt: gr.EventData = None) -> int:  # type: ignore[assignment]  # Gradio injects it by annotation
        """The index of the clicked gallery image (0 when called from a client, without a click).

        Typed `gr.EventData` rather than `gr.SelectData`: gradio builds a SelectData from the
        click payload and fails when a client sends none."""
        data = getattr(evt, "_data", None)
        index = data.get("index") if isinstance(data, dict) else None
        return index if isinstance(index, int) else 0

    def send_sample_to_edit(self, session: dict, index: Any) -> tuple:
        """Use sampled image #index as the edit base: (session, tabs, base, edited, *sliders)."""
        state, *rest = self.act.send_sample_to_edit(session, index)
        return (state, gr.Tabs(selected="edit"), *rest)

    def send_encoded_to_edit(self, session: dict, index: Any) -> tuple:
        """Use encoded image #index as the edit base (not truncated): (session, tabs, base, edited, *sliders)."""
        state, *rest = self.act.send_encoded_to_edit(session, index)
        return (state, gr.Tabs(selected="edit"), *rest)

    def base_fields(self, session: dict) -> tuple:
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

    @staticmethod
    def clear_encoded(session: dict) -> tuple:
        """Before an Encode run: no gallery, no table and no stored codes from the previous run
        (a run that fails must not leave them under its error)."""
        return [], "", {**(session or {}), "encoded": None}

    def directions(
        self,
        session: dict,
        method: Any,
        layers: Any,
        custom: Any,
        k: Any,
        progress: gr.Progress = gr.Progress(),
    ) -> tuple:
        """Pick a direction set and show its top K as sliders: (*sliders, direction picker, info, edited)."""
        sliders, shown, info, edited = self.act.directions(
            session, method, layers, custom, k, lambda f, m: progress(f, desc=m)
        )
        return (*slider_updates(sliders, shown), info, edited)

    def widen(self, index: int) -> Any:
        """The handler that lets direction slider `index` take a typed value past its range: the
        range grows to include it (up to ±ALPHA_MAX, the server's limit; past that it says so)."""

        def widen_slider(session: dict, method: Any, layers: Any, custom: Any, typed: Any) -> Any:
            if (
                isinstance(typed, bool)
                or not isinstance(typed, (int, float))
                or not math.isfinite(typed)
            ):
                return gr.skip()
            if abs(typed) <= self.act.slider_limit(session, method, layers, custom, index):
                return gr.skip()
            if abs(typed) > ALPHA_MAX:
                gr.Warning(
                    f"Slider {index + 1}: {typed:g}σ is past ±{ALPHA_MAX:g}σ, this app's limit; using "
                    f"{math.copysign(ALPHA_MAX, typed):g}σ."
                )
                typed = math.copysign(ALPHA_MAX, typed)
            return gr.Slider(minimum=-abs(typed), maximum=abs(typed), value=typed)

        return widen_slider

    def encode(
        self,
        session: dict,
        files: Any,
        refine_steps: Any = 0,
        space: Any = "w+",
        progress: gr.Progress = gr.Progress(),
    ) -> tuple:
        """Encode (and refine) uploads: (gallery, PSNR table, session); a progress bar while refining
        and a warning naming each file that could not be read."""
        gallery, table, state = self.act.encode(
            session, files, refine_steps, space, lambda f, m: progress(f, desc=m)
        )
        skipped = state["encoded"]["skipped"]
        if skipped:
            gr.Warning(
                f"Skipped {len(skipped)} file(s) that could not be read: " + " ".join(skipped)
            )
        return gallery, table, state

    def mix(
        self,
        session: dict,
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
        progress: gr.Progress = gr.Progress(),
    ) -> tuple:
        """The style-mixing grid: (grid, info); a progress bar while refining uploads.

        The uploads default to None: gradio lists a parameter whose component starts empty as
        optional only when the handler's default is None, and seeds alone make a grid. The
        defaults after them only keep the signature valid; clients get the components' values."""
        return self.act.mix(
            session,
            source_seeds,
            source_files,
            destination_seeds,
            destination_files,
            psi,
            layers,
            custom,
            noise_seed,
            refine_steps,
            space,
            lambda f, m: progress(f, desc=m),
        )

    def edit_base_from_upload(
        self,
        session: dict,
        image: Any,
        refine_steps: Any = 0,
        space: Any = "w+",
        progress: gr.Progress = gr.Progress(),
    ) -> tuple:
        """Base = an encoded (and refined) upload: (session, base, edited, *sliders)."""
        return self.act.edit_base_from_upload(
            session, image, refine_steps, space, lambda f, m: progress(f, desc=m)
        )

    def export(self, session: dict, method: Any, layers: Any, custom: Any, *alphas: Any) -> gr.File:
        """Files (shown once there are some): the edited image (PNG), the direction set
        (.safetensors + .json) and the edit (JSON)."""
        return gr.File(
            value=self.act.export(session, method, layers, custom, *alphas), visible=True
        )

    def load_model(
        self, session: dict, source: Any, progress: gr.Progress = gr.Progress()
    ) -> tuple:
        """Switch this session to another model; on failure the current one stays. Returns (session,
        status, info, card, the controls that depend on the model, the Edit tab's fresh view)."""
        loaded = self.act.load_model(session, source, lambda f, m: progress(f, desc=m))
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
            *slider_updates(sliders, k),
            info,
        )
