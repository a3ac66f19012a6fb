"""The MLP ALAE app's Model tab: what the session's model is, and a loader for another one.

A session's model is a key in the app's `Studio` (a `gr.State`): the bundled models, Hub repo ids
and (unless the app is public) local folders load as in the StyleALAE editor's Model tab. A
StyleALAE is not opened here: its per-layer styles need the editor, and the message names the
command that starts it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from .api import UI_ONLY
from .cards import card_body
from .components import model_picker
from .inputs import InputError
from .state import LoadedModel, Studio


def mlp_markdown(loaded: LoadedModel) -> str:
    """The model's description: name and config (never the server folder it was read from)."""
    rows = "\n".join(f"| `{k}` | {v} |" for k, v in loaded.model.arch.to_dict().items())
    return (
        f"**{loaded.name}**: MLPALAE, one w per image\n\n| field | value |\n| --- | --- |\n{rows}"
    )


def load_mlp(studio: Studio, current: str, source: Any) -> tuple[str, str, str, str]:
    """Switch a session to the MLP ALAE `source` (empty: the app's default): (its key, status,
    description, card). On failure, or for a StyleALAE, the session keeps its model and the
    InputError says why in one line."""
    source = str(source or "").strip() or studio.default_key
    now = studio.get(current).name
    try:
        loaded = studio.load(source)
    except (OSError, ValueError) as err:
        message = str(err).strip().splitlines()[0][:400]
        raise InputError(f"Could not load {source!r}: {message}. Still using {now}.") from err
    if loaded.model.supports_style_mixing:
        raise InputError(
            f"{source!r} is a StyleALAE (per-layer styles), which the editor opens: "
            f"python app.py --model {source}. Still using {now}."
        )
    status = f"Loaded **{loaded.name}**."
    return loaded.key, status, mlp_markdown(loaded), card_body(loaded.card, loaded.folder)


def mlp_model_tab(studio: Studio, key: gr.State, run: Callable[[Callable], Callable]) -> Any:
    """The tab (inside the app's Tabs); returns the load event, for what follows a new model."""
    loaded = studio.get(studio.default_key)
    where = "" if studio.public else " or a local folder"
    with gr.Tab("Model", id="model"):
        with gr.Row():
            source = model_picker(
                studio.bundled,
                "MLPALAE",
                f"Model: a bundled one, or type a Hub repo id (owner/name){where}",
                f"empty: back to {loaded.name}",
            )
            load = gr.Button("Load", variant="primary", scale=1, elem_id="model-load")
        progress = gr.Markdown("", elem_id="model-progress", label="Loading", min_height=48)
        status = gr.Markdown(f"Using **{loaded.name}**.", elem_id="model-status")
        info = gr.Markdown(mlp_markdown(loaded), elem_id="model-info")
        card = gr.Markdown(card_body(loaded.card, loaded.folder), elem_id="model-card")

    def switch(current: str, source: Any) -> tuple[str, str, str, str]:
        return load_mlp(studio, current, source)

    return load.click(
        run(switch),
        [key, source],
        [key, status, info, card],
        show_progress_on=[progress],
        **{**UI_ONLY, "show_progress": "full"},
    )
