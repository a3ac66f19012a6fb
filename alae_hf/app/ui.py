"""Gradio demo for alae_hf: sample, encode & reconstruct, style mixing, latent editing, model loading.

UI only: `build_app` puts the tabs together (`alae_hf.app.tabs`, `alae_hf.app.edit_tab`) and wires
the events that cross tabs. What each event computes lives in `alae_hf.app.actions` (and `handlers`
for results that are Gradio components); the input checks in `alae_hf.app.inputs`; the app-level
cache of loaded models and direction sets (`Studio`, one per `build_app` call) in
`alae_hf.app.state`. Per-session state is a `gr.State` holding a frozen `alae_hf.app.state.Session`.

    python app.py                        # the bundled default checkpoint, http://127.0.0.1:7860
    python app.py --model DIR_OR_REPO_ID # any StyleALAE folder or Hub repo (env ALAE_MODEL too)
    python app.py --public               # the Model tab loads only Hub repo ids and bundled models

The root `app.py` is also the Hugging Face Space's entry point: on a Space (env SPACE_ID) the app
is public, runs on env ALAE_DEVICE (default cpu) and wraps model calls in `spaces.GPU` on cuda.
Every event has a name and a description (`alae_hf.app.api`) and named parameters, and can be
called with `gradio_client` (see tests/test_app.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import gradio as gr
import torch

from ..models.hub import bundled_checkpoints
from .api import UI_ONLY, endpoint
from .components import identity, runner, user_errors
from .edit_tab import EditTab, edit_tab, follow_base
from .handlers import Handlers
from .mlp_ui import build_mlp_app
from .state import GANSPACE_SAMPLES, Studio, new_session
from .tabs import (
    CONCURRENCY,
    MODEL_EVENT,
    EncodeTab,
    MixTab,
    ModelTab,
    SampleTab,
    encode_tab,
    mix_tab,
    model_tab,
    sample_tab,
)

DEFAULT_MODEL = bundled_checkpoints() / "alae-synthetic-faces-64"
LOG = logging.getLogger("alae_app")

MAX_FILE_SIZE = "20mb"  # gradio's upload limit (launch(max_file_size=...))
QUEUE_SIZE = 32
__all__ = ["CONCURRENCY", "CSS", "DEFAULT_MODEL", "MAX_FILE_SIZE", "build_app"]


def build_app(
    model_path: str | os.PathLike | None = None,
    *,
    device: str | torch.device = "cpu",
    gpu: Callable[[Callable], Callable] = identity,
    ganspace_samples: int = GANSPACE_SAMPLES,
    public: bool = False,
) -> gr.Blocks:
    """The demo for a model folder or Hub repo id (default: the bundled checkpoint).

    Args:
        model_path: the default model for new sessions; users can load others in the Model tab.
        device: where models run.
        gpu: a decorator for the handlers that run the networks (`spaces.GPU` on ZeroGPU).
        ganspace_samples: mapped samples for GANSpace when a model ships no GANSpace directions.
        public: the Model tab loads only Hub repo ids and bundled models, never server folders.

    Returns:
        The Blocks, with `alae_context`: the `Studio` (the app-level caches of models, direction
        sets and output files) that serves it, for callers that inspect or warm it (benchmarks,
        tests); the MLP ALAE app has none.

    Raises:
        OSError / ValueError: the model cannot be loaded (the message says why).
    """
    ctx = Studio(
        model_path or DEFAULT_MODEL, device, ganspace_samples=ganspace_samples, public=public
    )
    h = Handlers(ctx)
    run = runner(gpu)
    loaded = ctx.get(ctx.default_key)
    if not loaded.model.supports_style_mixing:  # one w (the MLP ALAE): alae_hf.app.mlp_ui
        return build_mlp_app(ctx, gpu)
    with gr.Blocks(
        title="StyleALAE editor", analytics_enabled=False, delete_cache=(1800, 3600)
    ) as demo:
        session = gr.State(new_session(ctx.default_key))
        gr.Markdown(
            "# StyleALAE editor\nSample, encode, mix and edit with an Adversarial Latent Autoencoder "
            "([Pidhorskyi et al., CVPR 2020](https://arxiv.org/abs/2004.04467))."
        )
        with gr.Tabs(selected="sample") as tabs:
            sample_ui = sample_tab(h, run, session, loaded.model.arch)
            encode_ui = encode_tab(h, run, session)
            mix_ui = mix_tab(h, run, session, loaded)
            edit_ui = edit_tab(h, run, session, loaded)
            model_ui = model_tab(h, loaded)
        _wire_cross_tab(h, run, session, tabs, sample_ui, encode_ui, mix_ui, edit_ui, model_ui)
        demo.load(
            user_errors(h.act.model_info),
            [session],
            [model_ui.status, model_ui.info, model_ui.card],
            **endpoint("model_info"),
            show_progress="hidden",
        )
        _sample_on_load(demo, h, run, session, sample_ui)
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY)
    demo.alae_context = ctx
    return demo


def _sample_on_load(
    demo: gr.Blocks, h: Handlers, run: Callable, session: gr.State, sample_ui: SampleTab
) -> None:
    """The Sample tab opens with the samples of its settings, not an empty gallery. The samples
    reach the session field-wise, once made (`Session.with_samples`): the visitor may have sent an
    image to Edit, encoded or sampled while they were being made, and writing back the session
    this event started from would undo that."""
    made = gr.State(None)
    demo.load(
        run(h.act.sample),
        [session, *sample_ui.settings.inputs()],
        [sample_ui.results.gallery, sample_ui.results.info, made],
        **{**MODEL_EVENT, **UI_ONLY},
    ).success(h.act.keep_samples, [session, made], session, queue=False, **UI_ONLY)


def _wire_cross_tab(
    h: Handlers,
    run: Callable,
    session: gr.State,
    tabs: gr.Tabs,
    sample_ui: SampleTab,
    encode_ui: EncodeTab,
    mix_ui: MixTab,
    edit_ui: EditTab,
    model_ui: ModelTab,
) -> None:
    """Events whose outputs live on other tabs: sending latents to Edit, switching models. The
    Edit tab's seed, ψ and base line follow each new base (`follow_base`)."""
    to_edit = [session, tabs, edit_ui.base.image, edit_ui.edited.image, *edit_ui.directions.sliders]
    follow_base(
        h,
        session,
        edit_ui,
        sample_ui.results.send.click(
            run(h.send_sample_to_edit),
            [session, sample_ui.results.index],
            to_edit,
            **endpoint("send_sample_to_edit"),
            **MODEL_EVENT,
        ),
    )
    follow_base(
        h,
        session,
        edit_ui,
        encode_ui.send.click(
            run(h.send_encoded_to_edit),
            [session, encode_ui.index],
            to_edit,
            **endpoint("send_encoded_to_edit"),
            **MODEL_EVENT,
        ),
    )
    _wire_model_switch(h, run, session, sample_ui, mix_ui, edit_ui, model_ui)


def _wire_model_switch(
    h: Handlers,
    run: Callable,
    session: gr.State,
    sample_ui: SampleTab,
    mix_ui: MixTab,
    edit_ui: EditTab,
    model_ui: ModelTab,
) -> None:
    """Loading a model: the Model tab's texts and every control that depends on the model."""
    directions = edit_ui.directions
    outputs = [
        session,
        model_ui.status,
        model_ui.info,
        model_ui.card,
        directions.method,
        directions.layers,
        directions.k,
        mix_ui.settings.layers,
        sample_ui.settings.cutoff,
        edit_ui.base.image,
        edit_ui.edited.image,
        *directions.sliders,
        edit_ui.traversal.direction,
        directions.info,
    ]
    # Progress and a failure show on their own line (model_ui.progress), covering no field.
    follow_base(
        h,
        session,
        edit_ui,
        model_ui.load.click(
            run(h.load_model),
            [session, model_ui.source],
            outputs,
            **endpoint("load_model"),
            concurrency_limit=1,
            concurrency_id="load_model",
            show_progress_on=[model_ui.progress],
        ),
    )


# ---- styling -----------------------------------------------------------------------------------
# Model outputs are small (32-256 px): scale them up to their boxes instead of showing them at 1:1.
# Gallery captions sit under their thumbnails (gradio draws them over the image's lower right).
CSS = """
.upscale img { width: 100%; height: 100%; object-fit: contain; }
.captions-below .thumbnail-item { display: flex; flex-direction: column; }
.captions-below .thumbnail-item > img { flex: 1 1 0; min-height: 0; width: 100%; object-fit: contain; }
.captions-below .thumbnail-item > .caption-label { position: static; flex: none; max-width: 100%; margin: 0;
  border-radius: 0; text-align: center; }
"""
