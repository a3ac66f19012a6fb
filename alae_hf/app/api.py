"""The apps' HTTP API as `gradio_client` users see it: every endpoint's name and description.

Gradio documents an endpoint with its handler's docstring unless told otherwise; those docstrings
are written for maintainers (return tuples, gradio workarounds), so every event is registered with
`endpoint(name)`, which gives the description below. Parameter names come from the handlers'
signatures and return names from the output components' labels (`view_api()` writes them in
snake case), so outputs carry short labels such as "Samples" or "Slider 3". UI-only events
(range guards, duplicate uploads, refreshing fields after a change) use `UI_ONLY`: clients
cannot call them and the API page does not list them.
"""

from __future__ import annotations

from typing import Any

DESCRIPTIONS: dict[str, str] = {
    # the StyleALAE editor (alae_hf.app.ui)
    "sample": "Generate n images for seeds seed, seed + 1, ... (the same images as model.sample(1, seed=s)).",
    "sample_random": "Generate n images from a random first seed; returns that seed too.",
    "select_sample": "The index of the sample clicked in the gallery (0 from a client).",
    "send_sample_to_edit": "Make sample #index of this session's last generation the Edit base (sliders back to 0).",
    "encode": "Encode images and reconstruct them: E(x), then refine_steps steps of inversion (0: the encoder "
    "alone). Unreadable files are skipped and named in the table.",
    "select_encoded": "The index of the reconstruction clicked in the gallery (0 from a client).",
    "send_encoded_to_edit": "Make encoded image #index of this session's last encoding the Edit base.",
    "mix": "The style-mixing grid: sources across the top, destinations down the side, each cell the destination "
    "with the source's styles on the chosen layers. Uploads are encoded with refine_steps steps of "
    "inversion (0: the encoder alone).",
    "edit_base_from_seed": "Make the sample of a seed (truncated with psi) the Edit base.",
    "edit_base_from_upload": "Encode an image (refine_steps steps of inversion; 0: the encoder alone) and make it "
    "the Edit base.",
    "directions": "Choose a direction set (method, styles) for the edit sliders; returns the sliders, "
    "the traversal's direction choices, a description and the edited image.",
    "edit": "Render the Edit base moved along the chosen directions by slider_1 ... slider_10 (in σ).",
    "reset": "Put every slider back to 0.",
    "traversal": "A strip and a GIF of one direction from -extent to +extent σ around the current edit.",
    "export": "The edited image (PNG), the direction set (.safetensors + .json) and the edit (JSON).",
    "load_model": "Switch this session to another model (a Hub repo id, a bundled model or, unless the app is "
    "public, a local folder); an empty source goes back to the default.",
    "model_info": "The model this session uses: status, description and model card.",
    # the MLP ALAE app (alae_hf.app.mlp_ui)
    "mlp_sample": "Generate n digits for seeds seed, seed + 1, ...",
    "mlp_edit": "The sample of a seed next to the same w moved along directions 1-5 (in σ).",
    "mlp_reconstruct": "Each uploaded image as the model sees it, next to its reconstruction G(E(x)).",
    "mlp_interpolate": "A strip of images along the straight line in W between the w of two seeds.",
}

# Queued (gr.Warning reaches the page only through the queue), hidden from clients and the API page.
UI_ONLY: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}


def endpoint(name: str) -> dict[str, Any]:
    """`api_name` and `api_description` for an event listener (KeyError: an undescribed endpoint)."""
    return {"api_name": name, "api_description": DESCRIPTIONS[name]}
