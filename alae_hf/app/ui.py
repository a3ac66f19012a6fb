"""Gradio demo for alae_hf: sample, encode & reconstruct, style mixing, latent editing, model loading.

UI only: the layout, the event wiring and the conversion of results into Gradio components.
What each event computes lives in `alae_hf.app.actions`; the input checks and the app-level
cache of loaded models and direction sets (`Studio`, one per `build_app` call) in `alae_hf.app.state`.
Per-session state is a `gr.State` (`alae_hf.app.state.new_session`).

    python app.py                        # the bundled default checkpoint, http://127.0.0.1:7860
    python app.py --model DIR_OR_REPO_ID # any StyleALAE folder or Hub repo (env ALAE_MODEL too)
    python app.py --public               # the Model tab loads only Hub repo ids and bundled models

The root `app.py` is also the Hugging Face Space's entry point: on a Space (env SPACE_ID) the app
is public, runs on env ALAE_DEVICE (default cpu) and wraps model calls in `spaces.GPU` on cuda.
Every event has an `api_name` and named parameters, and can be called with `gradio_client` (see
tests/test_app.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import torch

from ..editing.styles import describe_styles
from .actions import MAX_REFINE_STEPS, Actions, mix_choices
from .cards import card_body, model_markdown
from .components import files_input, named_sliders, user_errors
from .mlp_ui import build_mlp_app
from .sliders import SliderSet
from .state import (
    ALPHA_MAX,
    GANSPACE_SAMPLES,
    MAX_IMAGES,
    MAX_K,
    NOISE_CHOICES,
    PSI_RANGE,
    SEED_MAX,
    STEPS_RANGE,
    LoadedModel,
    Studio,
    new_session,
)

ROOT = Path(__file__).resolve().parents[2]  # the checkout (or the Space folder) that holds checkpoints/
DEFAULT_MODEL = ROOT / "checkpoints" / "alae-synthetic-faces-64"
LOG = logging.getLogger("alae_app")

MAX_FILE_SIZE = "20mb"        # gradio's upload limit (launch(max_file_size=...))
QUEUE_SIZE = 32
CONCURRENCY = 2
# Queue groups: the events that run the networks share CONCURRENCY slots; slider edits have their
# own, so that a drag never waits behind a 16-image sample. Inputs arrive unprocessed so that the
# handlers' range checks (which name the field) answer instead of gradio's anonymous ones.
MODEL_EVENT = {"concurrency_id": "model", "concurrency_limit": CONCURRENCY, "preprocess": False}
SLIDER_EVENT = {"concurrency_id": "slider", "concurrency_limit": CONCURRENCY, "preprocess": False,
                "trigger_mode": "always_last", "show_progress": "hidden"}


# ---- handlers that return Gradio components ----------------------------------------------------
class Handlers:
    """The events whose results are Gradio components (tab switches, slider updates, progress,
    files); the others are wired straight to `self.act` (`alae_hf.app.actions.Actions`)."""

    def __init__(self, studio: Studio) -> None:
        self.act = Actions(studio)

    @staticmethod
    def select(evt: gr.EventData = None) -> int:
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

    def directions(self, session: dict, method: Any, layers: Any, custom: Any, k: Any,
                   progress: gr.Progress = gr.Progress()) -> tuple:
        """Pick a direction set and show its top K as sliders: (*sliders, direction picker, info, edited)."""
        sliders, shown, info, edited = self.act.directions(session, method, layers, custom, k,
                                                           lambda f, m: progress(f, desc=m))
        return (*_slider_updates(sliders, shown), info, edited)

    def encode(self, session: dict, files: Any, refine_steps: Any = 0, space: Any = "w+",
               progress: gr.Progress = gr.Progress()) -> tuple:
        """Encode (and refine) uploads: (gallery, PSNR table, session); a progress bar while refining."""
        return self.act.encode(session, files, refine_steps, space, lambda f, m: progress(f, desc=m))

    def edit_base_from_upload(self, session: dict, image: Any, refine_steps: Any = 0, space: Any = "w+",
                              progress: gr.Progress = gr.Progress()) -> tuple:
        """Base = an encoded (and refined) upload: (session, base, edited, *sliders)."""
        return self.act.edit_base_from_upload(session, image, refine_steps, space, lambda f, m: progress(f, desc=m))

    def export(self, session: dict, method: Any, layers: Any, custom: Any, *alphas: Any) -> gr.File:
        """Files (shown once there are some): the edited image (PNG), the direction set
        (.safetensors + .json) and the edit (JSON)."""
        return gr.File(value=self.act.export(session, method, layers, custom, *alphas), visible=True)

    def load_model(self, session: dict, source: Any, progress: gr.Progress = gr.Progress()) -> tuple:
        """Switch this session to another model; on failure the current one stays. Returns (session,
        status, info, card, the controls that depend on the model, the Edit tab's fresh view)."""
        loaded = self.act.load_model(session, source, lambda f, m: progress(f, desc=m))
        methods, layers, arch = loaded.methods(), loaded.layer_choices(), loaded.model.arch
        status = f"Loaded **{loaded.name}** ({describe_styles(loaded.model)})."
        controls = (gr.Radio(choices=methods, value="SeFa"), gr.Dropdown(choices=layers, value="all"),
                    gr.Slider(value=5), gr.Dropdown(choices=mix_choices(layers), value="coarse"),
                    gr.Slider(maximum=arch.num_styles, value=min(arch.truncation_cutoff, arch.num_styles)))
        image, sliders, k, info = self.act.edit_view(loaded)
        image = self.act.png(image, "base")
        return (new_session(loaded.key), status, model_markdown(loaded), card_body(loaded.card, loaded.folder),
                *controls, image, image, *_slider_updates(sliders, k), info)


def _slider_specs(sliders: SliderSet) -> list[dict[str, Any]]:
    """Label and range of each of the MAX_K direction sliders (beyond the set: hidden, ±ALPHA_MAX)."""
    specs = [{"label": text, "minimum": -limit, "maximum": limit} for text, limit in zip(sliders.labels, sliders.limits)]
    return specs + [{"label": f"direction {i + 1}", "minimum": -ALPHA_MAX, "maximum": ALPHA_MAX}
                    for i in range(len(specs), MAX_K)]


def _slider_updates(sliders: SliderSet, k: int) -> tuple:
    """Updates for the MAX_K direction sliders (the first k visible, all at 0) and the traversal's
    direction picker."""
    updates = [gr.Slider(value=0.0, visible=i < k, **spec) for i, spec in enumerate(_slider_specs(sliders))]
    return (*updates, gr.Dropdown(choices=[str(i + 1) for i in range(k)], value="1"))


# ---- layout ------------------------------------------------------------------------------------
def _identity(fn: Callable) -> Callable:
    return fn


def build_app(model_path: str | os.PathLike | None = None, *, device: str | torch.device = "cpu",
              gpu: Callable[[Callable], Callable] = _identity, ganspace_samples: int = GANSPACE_SAMPLES,
              public: bool = False) -> gr.Blocks:
    """The demo for a model folder or Hub repo id (default: the bundled checkpoint).

    Args:
        model_path: the default model for new sessions; users can load others in the Model tab.
        device: where models run.
        gpu: a decorator for the handlers that run the networks (`spaces.GPU` on ZeroGPU).
        ganspace_samples: mapped samples for GANSpace when a model ships no GANSpace directions.
        public: the Model tab loads only Hub repo ids and bundled models, never server folders.

    Raises:
        OSError / ValueError: the model cannot be loaded (the message says why).
    """
    ctx = Studio(model_path or DEFAULT_MODEL, device, ganspace_samples=ganspace_samples, public=public)
    h = Handlers(ctx)
    run = lambda fn: user_errors(gpu(fn))  # noqa: E731
    loaded = ctx.get(ctx.default_key)
    if not loaded.model.supports_style_mixing:  # one w (the MLP ALAE): alae_hf.app.mlp_ui
        return build_mlp_app(loaded, gpu)
    arch = loaded.model.arch
    with gr.Blocks(title="StyleALAE editor", analytics_enabled=False, delete_cache=(1800, 3600)) as demo:
        session = gr.State(new_session(ctx.default_key))
        gr.Markdown("# StyleALAE editor\nSample, encode, mix and edit with an Adversarial Latent Autoencoder "
                    "([Pidhorskyi et al., CVPR 2020](https://arxiv.org/abs/2004.04467)).")
        with gr.Tabs(selected="sample") as tabs:
            sample_ui = _sample_tab(h, run, session, arch)
            encode_ui = _encode_tab(h, run, session)
            mix_ui = _mix_tab(h, run, session, loaded)
            edit_ui = _edit_tab(h, run, session, loaded, encode_ui)
            model_ui = _model_tab(h, run, session, loaded)
        _wire_cross_tab(h, run, session, tabs, sample_ui, encode_ui, mix_ui, edit_ui, model_ui)
        demo.load(user_errors(h.act.model_info), [session], [model_ui["status"], model_ui["info"], model_ui["card"]],
                  api_name="model_info", show_progress="hidden")
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY)
    demo.alae_context = ctx  # for benchmarks and tests: the app-level caches
    return demo


def _sample_tab(h: Handlers, run: Callable, session: gr.State, arch: Any) -> dict[str, Any]:
    with gr.Tab("Sample", id="sample"):
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                with gr.Row():
                    seed = gr.Number(0, label="Seed", precision=0, minimum=0, maximum=SEED_MAX, elem_id="sample-seed",
                                     scale=3)
                    dice = gr.Button("Random seed", scale=1, min_width=80, elem_id="sample-dice")
                n = gr.Slider(1, MAX_IMAGES, 8, step=1, label="Number of images", elem_id="sample-n")
                psi = gr.Slider(*PSI_RANGE, arch.truncation_psi, step=0.05, label="Truncation ψ",
                                info="1 = off, 0 = the mean face", elem_id="sample-psi")
                cutoff = gr.Slider(0, arch.num_styles, min(arch.truncation_cutoff, arch.num_styles), step=1,
                                   label="Truncation cutoff", info="ψ applies to the first N styles")
                with gr.Row():
                    noise = gr.Radio(NOISE_CHOICES, value="image seed", label="Noise", scale=2,
                                     info="image seed: each image as model.sample(1, seed=s)")
                    noise_seed = gr.Number(0, label="Noise seed", precision=0, minimum=0, maximum=SEED_MAX, scale=1)
                go = gr.Button("Generate", variant="primary", elem_id="sample-go")
            with gr.Column(scale=2):
                # Six columns, never stretched to fewer images, no fixed height: 16 samples fit in three rows.
                gallery = gr.Gallery(label="Samples (click one to select it)", columns=6, format="png",
                                     fit_columns=False, object_fit="contain", elem_id="sample-gallery",
                                     allow_preview=False)
                info = gr.Markdown(elem_id="sample-info")
                with gr.Row():
                    index = gr.Number(0, label="Selected image #", precision=0, minimum=0, scale=1)
                    send = gr.Button("Send to Edit ➜", scale=1, elem_id="sample-send")
    args = [session, n, psi, cutoff, noise, noise_seed]
    go.click(run(h.act.sample), [session, seed, *args[1:]], [gallery, info, session], api_name="sample", **MODEL_EVENT)
    dice.click(run(h.act.sample_random), args, [seed, gallery, info, session], api_name="sample_random", **MODEL_EVENT)
    gallery.select(h.select, None, index, api_name="select_sample", show_progress="hidden", queue=False)
    return {"index": index, "send": send, "cutoff": cutoff}


def _encode_tab(h: Handlers, run: Callable, session: gr.State) -> dict[str, Any]:
    with gr.Tab("Encode & reconstruct", id="encode"):
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                files = files_input(label=f"Images (up to {MAX_IMAGES}; any format, cropped to a square)",
                                    elem_id="encode-files")
                with gr.Row():
                    steps = gr.Slider(0, MAX_REFINE_STEPS, 25, step=5, label="Refine (steps)", scale=3,
                                      info="0 = the encoder alone; then Adam on pixel + feature loss from E(x)",
                                      elem_id="encode-steps")
                    space = gr.Radio(["w+", "w"], value="w+", label="Refine in", scale=1)
                go = gr.Button("Encode & reconstruct", variant="primary", elem_id="encode-go")
            with gr.Column(scale=2):
                gallery = gr.Gallery(label="Original | reconstruction", columns=3, format="png", fit_columns=False,
                                     object_fit="contain", elem_id="encode-gallery", allow_preview=False)
                table = gr.Markdown(elem_id="encode-table")
                with gr.Row():
                    index = gr.Number(0, label="Selected image #", precision=0, minimum=0, scale=1)
                    send = gr.Button("Edit this ➜", scale=1, elem_id="encode-send")
    go.click(run(h.encode), [session, files, steps, space], [gallery, table, session], api_name="encode",
             **MODEL_EVENT)
    gallery.select(h.select, None, index, api_name="select_encoded", show_progress="hidden", queue=False)
    return {"index": index, "send": send, "steps": steps, "space": space}


def _mix_tab(h: Handlers, run: Callable, session: gr.State, loaded: LoadedModel) -> dict[str, Any]:
    with gr.Tab("Style mixing", id="mix"):
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                src_seeds = gr.Textbox("1, 2, 3, 4, 5", label="Source seeds (top row)", info="e.g. 1, 2, 5-8")
                src_files = files_input(label="…and/or source images", height=110, elem_id="mix-src-files")
                dst_seeds = gr.Textbox("10, 11, 12", label="Destination seeds (left column)")
                dst_files = files_input(label="…and/or destination images", height=110)
                with gr.Row():
                    layers = gr.Dropdown(mix_choices(loaded.layer_choices()), value="coarse",
                                         label="Styles copied from the source", scale=2)
                    custom = gr.Textbox("0-3", label="Custom styles", scale=1)
                with gr.Row():
                    psi = gr.Slider(*PSI_RANGE, loaded.model.arch.truncation_psi, step=0.05, label="ψ for seeds")
                    noise_seed = gr.Number(0, label="Noise seed", precision=0, minimum=0, maximum=SEED_MAX)
                go = gr.Button("Mix", variant="primary", elem_id="mix-go")
            with gr.Column(scale=2):
                grid = gr.Image(label="Style-mixing grid", format="png", type="pil", interactive=False, height=480,
                                elem_id="mix-grid", elem_classes="upscale")
                info = gr.Markdown()
    go.click(run(h.act.mix), [session, src_seeds, src_files, dst_seeds, dst_files, psi, layers, custom, noise_seed],
             [grid, info], api_name="mix", **MODEL_EVENT)
    return {"layers": layers}


def _edit_tab(h: Handlers, run: Callable, session: gr.State, loaded: LoadedModel, encode_ui: dict) -> dict[str, Any]:
    arch = loaded.model.arch
    # Initial view (shared by new sessions): the default base, SeFa on all styles.
    image0, sliders0, k0, info0 = h.act.edit_view(loaded)
    with gr.Tab("Edit", id="edit"):
        with gr.Row():
            base, seed, psi, from_seed, upload = _edit_base_column(image0, arch.truncation_psi)
            with gr.Column(scale=1, min_width=300):
                edited = gr.Image(image0, label="Edited", format="png", type="pil", interactive=False, height=360,
                                  elem_id="edit-out", elem_classes="upscale", buttons=["download", "fullscreen"])
                with gr.Row():
                    reset = gr.Button("Reset sliders", elem_id="edit-reset")
                    export = gr.Button("Export files", elem_id="edit-export")
                files = gr.File(label="Downloads: edited PNG, directions, edit JSON", file_count="multiple",
                                interactive=False, visible=False, elem_id="edit-files")
            with gr.Column(scale=1, min_width=300):
                with gr.Row():
                    method = gr.Radio(loaded.methods(), value="SeFa", label="Method", scale=3)
                    k = gr.Slider(1, MAX_K, 5, step=1, label="Sliders", scale=2)
                with gr.Row():
                    layers = gr.Dropdown(loaded.layer_choices(), value="all", label="Styles edited", scale=2)
                    custom = gr.Textbox("0-3", label="Custom styles", scale=1)
                sliders = [gr.Slider(value=0.0, step=0.1, visible=i < k0, elem_id=f"edit-slider-{i}", **spec)
                           for i, spec in enumerate(_slider_specs(sliders0))]
                info = gr.Markdown(info0, elem_id="edit-info")
        direction, extent, steps, go_traverse, strip, gif = _traversal_accordion(k0)
    ui = {"base": base, "edited": edited, "sliders": sliders, "method": method, "layers": layers, "k": k,
          "info": info, "direction": direction}
    setting = [session, method, layers, custom]
    base_out = [session, base, edited, *sliders]
    from_seed.click(run(h.act.edit_base_from_seed), [session, seed, psi], base_out, api_name="edit_base_from_seed",
                    **MODEL_EVENT)
    # An upload is refined with the Encode tab's settings (steps, space).
    upload.upload(run(h.edit_base_from_upload), [session, upload, encode_ui["steps"], encode_ui["space"]], base_out,
                  api_name="edit_base_from_upload",
                  **MODEL_EVENT)
    gr.on([method.change, layers.change, custom.submit, k.release], run(h.directions), [*setting, k],
          [*sliders, direction, info, edited], api_name="directions", show_progress="minimal", **MODEL_EVENT)
    # Live editing: every slider change, only the newest pending value runs (always_last).
    gr.on([s.change for s in sliders], run(named_sliders(h.act.edit)), [*setting, *sliders], edited, api_name="edit",
          **SLIDER_EVENT)
    reset.click(run(h.act.reset), [session], [*sliders, edited], api_name="reset", **SLIDER_EVENT)
    go_traverse.click(run(named_sliders(h.act.traversal)), [*setting, direction, extent, steps, *sliders], [strip, gif],
                      api_name="traversal", **MODEL_EVENT)
    export.click(run(named_sliders(h.export)), [*setting, *sliders], files, api_name="export", **MODEL_EVENT)
    return ui


def _edit_base_column(image0: Any, default_psi: float) -> tuple:
    """The Edit tab's left column: the base image and where it comes from (a seed or an upload)."""
    with gr.Column(scale=1, min_width=260):
        base = gr.Image(image0, label="Base", format="png", type="pil", interactive=False, height=240,
                        elem_id="edit-base", elem_classes="upscale")
        with gr.Accordion("Base from a seed", open=True):
            with gr.Row():
                seed = gr.Number(0, label="Seed", precision=0, minimum=0, maximum=SEED_MAX, scale=2,
                                 elem_id="edit-seed")
                psi = gr.Slider(*PSI_RANGE, default_psi, step=0.05, label="ψ", scale=3)
            from_seed = gr.Button("Use this seed", elem_id="edit-from-seed")
        upload = gr.Image(label="…or upload a photo to encode", type="filepath", sources=["upload", "clipboard"],
                          height=160, elem_id="edit-upload")
    return base, seed, psi, from_seed, upload


def _traversal_accordion(k0: int) -> tuple:
    """The Edit tab's traversal controls and outputs (inside the tab's context)."""
    with gr.Accordion("Traversal of one direction (strip + GIF)", open=True):
        with gr.Row():
            direction = gr.Dropdown([str(i + 1) for i in range(k0)], value="1", label="Direction", scale=1)
            extent = gr.Slider(0.5, 3 * ALPHA_MAX, 2.0, step=0.5, label="Extent (± σ)", scale=2)
            steps = gr.Slider(*STEPS_RANGE, 7, step=2, label="Frames", scale=2)
            go_traverse = gr.Button("Make traversal", scale=1, elem_id="edit-traverse")
        with gr.Row():
            strip = gr.Image(label="Traversal strip", format="png", type="pil", interactive=False, height=160,
                             scale=3, elem_id="edit-strip", elem_classes="upscale")
            gif = gr.Image(label="Animated GIF", type="filepath", interactive=False, height=160, scale=1,
                           elem_id="edit-gif", elem_classes="upscale", buttons=["download"])
    return direction, extent, steps, go_traverse, strip, gif


def _model_tab(h: Handlers, run: Callable, session: gr.State, loaded: LoadedModel) -> dict[str, Any]:
    with gr.Tab("Model", id="model"):
        with gr.Row():
            where = "or a bundled model" if h.act.studio.public else "bundled model or local folder"
            bundled = ", ".join(sorted(h.act.studio.bundled)) or "none"
            source = gr.Textbox("", label=f"Hub repo id (owner/name), {where}", scale=4, elem_id="model-source",
                                placeholder=f"empty: back to {loaded.name}", info=f"bundled: {bundled}")
            load = gr.Button("Load", variant="primary", scale=1, elem_id="model-load")
        status = gr.Markdown(elem_id="model-status")
        with gr.Row():
            with gr.Column(scale=1):
                info = gr.Markdown(elem_id="model-info")
            with gr.Column(scale=1):
                with gr.Accordion("Model card", open=True):
                    card = gr.Markdown(elem_id="model-card", max_height=720)
    return {"source": source, "load": load, "status": status, "info": info, "card": card}


def _wire_cross_tab(h: Handlers, run: Callable, session: gr.State, tabs: gr.Tabs, sample_ui: dict, encode_ui: dict,
                    mix_ui: dict, edit_ui: dict, model_ui: dict) -> None:
    """Events whose outputs live on other tabs: sending latents to Edit, switching models."""
    to_edit = [session, tabs, edit_ui["base"], edit_ui["edited"], *edit_ui["sliders"]]
    sample_ui["send"].click(run(h.send_sample_to_edit), [session, sample_ui["index"]], to_edit,
                            api_name="send_sample_to_edit", **MODEL_EVENT)
    encode_ui["send"].click(run(h.send_encoded_to_edit), [session, encode_ui["index"]], to_edit,
                            api_name="send_encoded_to_edit", **MODEL_EVENT)
    outputs = [session, model_ui["status"], model_ui["info"], model_ui["card"], edit_ui["method"], edit_ui["layers"],
               edit_ui["k"], mix_ui["layers"], sample_ui["cutoff"], edit_ui["base"], edit_ui["edited"],
               *edit_ui["sliders"], edit_ui["direction"], edit_ui["info"]]
    # Progress and a failure show on the source box only (not as "Error" badges over status, info, card).
    model_ui["load"].click(run(h.load_model), [session, model_ui["source"]], outputs, api_name="load_model",
                           concurrency_limit=1, concurrency_id="load_model", show_progress_on=[model_ui["source"]])


# ---- styling -----------------------------------------------------------------------------------
# Model outputs are small (32-256 px): scale them up to their boxes instead of showing them at 1:1.
CSS = """
.upscale img { width: 100%; height: 100%; object-fit: contain; }
"""

