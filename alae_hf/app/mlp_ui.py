"""The app for an MLP ALAE (`alae_hf.MLPALAE`, the paper's MNIST model): Sample, Edit,
Encode & reconstruct, Interpolate, Model.

Style mixing and layer-range edits need StyleALAE's per-layer styles; an MLP ALAE has one w per
image (`num_styles` 1), so those tabs are not offered and the first tab says why. The Edit tab
moves the whole w along GANSpace (PCA of mapped w) or SeFa (G's first linear layer) directions
(`alae_hf.latent.spectral`): shipped in the folder's `directions/` if there, else computed
once per app. `build_app` hands a one-style default model to `build_mlp_app`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr
import torch
from PIL import Image

from ..imaging import make_grid, tensor_to_pil
from ..latent.ops import apply_directions, render
from ..latent.styles import layer_range
from ..models.config import SEED_MAX
from . import components
from .api import UI_ONLY, endpoint
from .components import (
    direction_sliders,
    files_input,
    guard_range,
    identity,
    named_sliders,
    runner,
    widen,
)
from .inputs import (
    ALPHA_MAX,
    MAX_IMAGES,
    PSI_RANGE,
    as_list,
    check_alphas,
    check_choice,
    check_number,
    image_tensor,
    upload_path,
)
from .mlp_model import mlp_model_tab
from .sliders import SliderSet, slider_set
from .state import METHODS, LoadedModel, Studio, find_directions

DISPLAY = 96  # pixels per shown image (the model's 32 px, enlarged without smoothing)
MAX_STEPS = 16  # interpolation frames
EDIT_SLIDERS = 5  # direction sliders in the Edit tab
EDIT_METHODS = ["GANSpace", "SeFa"]
NOTE = (
    "An MLP ALAE (the paper's MNIST model) has a single latent w per image, not one style per layer: "
    "style mixing and layer-range edits do not apply to it, so those tabs are not shown; the Edit tab "
    "moves the whole w."
)


def _big(images: list[Image.Image]) -> list[Image.Image]:
    return [im.resize((DISPLAY, DISPLAY), Image.Resampling.NEAREST) for im in images]


def sample(loaded: LoadedModel, seed: Any, n: Any, psi: Any) -> list[Image.Image]:
    """Images for seeds seed, seed + 1, ..., each `model.sample(1, seed=s, truncation_psi=psi)`."""
    seed = check_number("Seed", seed, 0, SEED_MAX, integer=True)
    n = check_number("Number of images", n, 1, MAX_IMAGES, integer=True)
    psi = check_number("Truncation ψ", psi, *PSI_RANGE)
    seeds = [(seed + i) % (SEED_MAX + 1) for i in range(n)]
    model = loaded.model
    with torch.no_grad():
        return _big(render(model, model.truncate(model.map(model.seed_latents(n, seeds)), psi)))


def reconstruct(loaded: LoadedModel, files: Any) -> list[tuple[Image.Image, str]]:
    """(input as the model sees it, G(E(x))) for each uploaded image."""
    items = as_list(files)
    if not items:
        raise gr.Error("Upload one or more images first.", print_exception=False)
    model, out = loaded.model, []
    for payload in items[:MAX_IMAGES]:
        path, name = upload_path(payload)
        x = image_tensor(path, name, model).to(model.device, model.dtype)
        with torch.no_grad():
            rec = model.reconstruct(x)
        out += [
            (_big(tensor_to_pil(x.float().cpu()))[0], name),
            (_big(tensor_to_pil(rec.float().cpu()))[0], f"{name}: reconstruction"),
        ]
    return out


def interpolate(loaded: LoadedModel, seed_a: Any, seed_b: Any, steps: Any, psi: Any) -> Image.Image:
    """A strip of G((1 - t) w_a + t w_b), t from 0 to 1, between the w of two seeds."""
    seed_a = check_number("Seed A", seed_a, 0, SEED_MAX, integer=True)
    seed_b = check_number("Seed B", seed_b, 0, SEED_MAX, integer=True)
    steps = check_number("Steps", steps, 2, MAX_STEPS, integer=True)
    psi = check_number("Truncation ψ", psi, *PSI_RANGE)
    model = loaded.model
    with torch.no_grad():
        w = model.truncate(model.map(model.seed_latents(2, [seed_a, seed_b])), psi)[:, 0]
        t = torch.linspace(0, 1, steps, device=w.device, dtype=w.dtype)[:, None]
        frames = render(model, torch.lerp(w[:1], w[1:], t))
    return make_grid(_big(frames), columns=steps)


def edit_sliders(
    loaded: LoadedModel, method_label: Any, cache: dict[tuple, SliderSet]
) -> SliderSet:
    """The Edit tab's sliders for a method label: the directions the editor's `Studio` would use
    (`find_directions`: shipped, else computed once), kept in `cache` under (model key, label)."""
    label = check_choice("Method", method_label, EDIT_METHODS)
    if (loaded.key, label) not in cache:
        model = loaded.model
        found = find_directions(loaded, METHODS[label], layer_range(model, "all"))
        cache[loaded.key, label] = slider_set(
            model, loaded.folder, found, label, EDIT_SLIDERS, ALPHA_MAX
        )
    return cache[loaded.key, label]


def slider_updates(
    loaded: LoadedModel | str,
    method_label: Any,
    cache: dict[tuple, SliderSet],
    studio: Studio | None = None,
) -> list[dict]:
    """What the Edit sliders say (their `info`) and how far they go for a method, values back to 0
    (`loaded` may be a session's model key, looked up in `studio`)."""
    if isinstance(loaded, str):
        if studio is None:
            raise ValueError("slider_updates needs the Studio to look up a model key")
        loaded = studio.get(loaded)
    found = edit_sliders(loaded, method_label, cache)
    return components.slider_updates(found, len(found.order), EDIT_SLIDERS)


def slider_limit(studio: Studio, cache: dict[tuple, SliderSet], index: int) -> Callable[..., float]:
    """How far Edit slider `index` of a session's set reaches (inputs: model key, method label),
    as in the editor (`SliderSet.limit`)."""

    def limit(model: str, method_label: Any) -> float:
        return edit_sliders(studio.get(model), method_label, cache).limit(index, ALPHA_MAX)

    return limit


def edit(
    loaded: LoadedModel,
    cache: dict[tuple, SliderSet],
    seed: Any,
    method: Any,
    psi: Any,
    *values: Any,
) -> Image.Image:
    """[the sample of `seed` | the same w moved by Σ α_k σ_k v_k] (α from the sliders, in σ)."""
    seed = check_number("Seed", seed, 0, SEED_MAX, integer=True)
    psi = check_number("Truncation ψ", psi, *PSI_RANGE)
    found = edit_sliders(loaded, method, cache)
    alphas = found.alphas(check_alphas(list(values)))
    model = loaded.model
    with torch.no_grad():
        w = model.truncate(model.map(model.seed_latents(1, seed)), psi)
        edited = apply_directions(w, found.directions, alphas)
        return make_grid(_big(render(model, torch.cat([w, edited]))), columns=2)


def on_model(studio: Studio, fn: Callable) -> Callable:
    """`fn(loaded, *args)` as a handler `(model, *args)` of the session's model key (a gr.State,
    hidden from the API), with `fn`'s other parameter names for the API."""

    @functools.wraps(fn)
    def handler(model: str, *args: Any) -> Any:
        return fn(studio.get(model), *args)

    signature = inspect.signature(fn)
    first = inspect.Parameter("model", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    handler.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[first, *list(signature.parameters.values())[1:]]
    )
    del handler.__wrapped__  # inspect.signature would follow it back to `fn`
    return handler


def build_mlp_app(studio: Studio, gpu: Callable[[Callable], Callable] = identity) -> gr.Blocks:
    """The Blocks for the MLP ALAEs of `studio` (its default model first; the Model tab switches a
    session to another). Endpoints are named and described as in the StyleALAE app
    (`alae_hf.app.api`)."""
    run = runner(gpu)
    loaded = studio.get(studio.default_key)
    cache: dict[tuple, SliderSet] = {}
    with gr.Blocks(title="MLP ALAE", analytics_enabled=False) as demo:
        key = gr.State(loaded.key)
        gr.Markdown(
            f"# MLP ALAE — {loaded.name}\nSample, edit, encode & reconstruct and interpolate with the fully "
            "connected Adversarial Latent Autoencoder of the paper's MNIST experiment "
            "([Pidhorskyi et al., CVPR 2020](https://arxiv.org/abs/2004.04467)).\n\n" + NOTE
        )
        with gr.Tabs(selected="sample"):
            sample_inputs, gallery = _sample_tab(studio, key, run, demo)
            edit_ui = _edit_tab(studio, key, run, cache)
            with gr.Tab("Encode & reconstruct", id="encode"):
                files = files_input(
                    label="Images (any size; shown as the model sees them)",
                    elem_id="mlp-encode-files",
                )
                go = gr.Button("Encode & reconstruct", variant="primary", elem_id="mlp-encode-go")
                pairs = gr.Gallery(columns=8, label="Reconstructions", elem_id="mlp-encode-gallery")
                go.click(
                    run(on_model(studio, reconstruct)),
                    [key, files],
                    pairs,
                    **endpoint("mlp_reconstruct"),
                )
            strip = _interpolate_tab(studio, key, run)
            load = mlp_model_tab(studio, key, run)
        # A new model: its sliders and samples; the other outputs were the previous model's.
        load.success(
            run(functools.partial(slider_updates, studio=studio, cache=cache)),
            [key, edit_ui.method],
            edit_ui.sliders,
            **UI_ONLY,
        ).success(cleared_outputs, None, [edit_ui.out, pairs, strip], **UI_ONLY).success(
            run(on_model(studio, sample)), sample_inputs, gallery, **UI_ONLY
        )
    return demo


def cleared_outputs() -> tuple[None, list, None]:
    """The Edit image, the reconstructions and the interpolation strip, emptied (they were made
    with the previous model)."""
    return None, [], None


def _sample_tab(
    studio: Studio, key: gr.State, run: Callable[[Callable], Callable], demo: gr.Blocks
) -> tuple[list, Any]:
    """Sample: digits of seeds, shown when the page opens (returns the inputs and the gallery)."""
    with gr.Tab("Sample", id="sample"):
        with gr.Row():
            seed = gr.Number(0, label="Seed", precision=0, minimum=0, maximum=SEED_MAX)
            n = gr.Slider(1, MAX_IMAGES, 16, step=1, precision=0, label="Number of images")
            psi = gr.Slider(
                *PSI_RANGE,
                studio.get(studio.default_key).model.arch.truncation_psi,
                step=0.05,
                label="Truncation ψ",
                info="1 = off, 0 = the mean w",
            )
        go = gr.Button("Generate", variant="primary", elem_id="mlp-sample-go")
        gallery = gr.Gallery(columns=8, label="Samples", elem_id="mlp-sample-gallery")
    inputs = [key, seed, n, psi]
    go.click(run(on_model(studio, sample)), inputs, gallery, **endpoint("mlp_sample"))
    guard_range(n, (1, MAX_IMAGES))
    guard_range(psi, PSI_RANGE)
    # The tab opens with the samples of its settings, not an empty gallery.
    demo.load(run(on_model(studio, sample)), inputs, gallery, **UI_ONLY)
    return inputs, gallery


def _interpolate_tab(studio: Studio, key: gr.State, run: Callable[[Callable], Callable]) -> Any:
    """Interpolate: G along the straight line between the w of two seeds (returns the strip)."""
    loaded = studio.get(studio.default_key)
    with gr.Tab("Interpolate", id="interpolate"):
        with gr.Row():
            seed_a = gr.Number(0, label="Seed A", precision=0, minimum=0, maximum=SEED_MAX)
            seed_b = gr.Number(1, label="Seed B", precision=0, minimum=0, maximum=SEED_MAX)
            steps = gr.Slider(2, MAX_STEPS, 8, step=1, precision=0, label="Steps")
            psi = gr.Slider(
                *PSI_RANGE, loaded.model.arch.truncation_psi, step=0.05, label="Truncation ψ"
            )
        go = gr.Button("Interpolate in W", variant="primary", elem_id="mlp-interpolate-go")
        strip = gr.Image(label="Interpolation", type="pil", elem_id="mlp-interpolate-out")
    go.click(
        run(on_model(studio, interpolate)),
        [key, seed_a, seed_b, steps, psi],
        strip,
        **endpoint("mlp_interpolate"),
    )
    guard_range(steps, (2, MAX_STEPS))
    guard_range(psi, PSI_RANGE)
    return strip


@dataclass(frozen=True)
class EditTab:
    """The MLP app's Edit tab: seed, direction method, ψ, the EDIT_SLIDERS sliders, Edit, and the
    image of the sample beside its edit."""

    seed: gr.Number
    method: gr.Radio
    psi: gr.Slider
    sliders: list[gr.Slider]
    go: gr.Button
    out: gr.Image


def _edit_tab(
    studio: Studio,
    key: gr.State,
    run: Callable[[Callable], Callable],
    cache: dict[tuple, SliderSet],
) -> EditTab:
    """Edit: one seed's w moved along GANSpace or SeFa directions (whole w: there are no layers)."""
    loaded = studio.get(studio.default_key)
    first = edit_sliders(
        loaded, EDIT_METHODS[0], cache
    )  # computed at start: F is small (a few seconds at most)
    with gr.Tab("Edit", id="edit"):
        gr.Markdown(
            "Move the whole w along GANSpace (PCA of mapped w) or SeFa (G's first layer) directions, "
            "in σ of mapped w. Left: the sample, right: the edit."
        )
        with gr.Row():
            seed = gr.Number(
                0, label="Seed", precision=0, minimum=0, maximum=SEED_MAX, elem_id="mlp-edit-seed"
            )
            method = gr.Radio(
                EDIT_METHODS, value=EDIT_METHODS[0], label="Directions", elem_id="mlp-edit-method"
            )
            psi = gr.Slider(
                *PSI_RANGE, loaded.model.arch.truncation_psi, step=0.05, label="Truncation ψ"
            )
        sliders = direction_sliders(first, len(first.order), "mlp-edit-slider-", EDIT_SLIDERS)
        go = gr.Button("Edit", variant="primary", elem_id="mlp-edit-go")
        out = gr.Image(label="Sample and edit", type="pil", elem_id="mlp-edit-out")
    inputs = [key, seed, method, psi, *sliders]

    def edit_session(model: str, seed: Any, method: Any, psi: Any, *values: Any) -> Image.Image:
        return edit(studio.get(model), cache, seed, method, psi, *values)

    handler = run(named_sliders(edit_session, EDIT_SLIDERS))
    go.click(handler, inputs, out, **endpoint("mlp_edit"))
    for i, slider in enumerate(sliders):
        # A typed value past the range widens it first; the edit then runs on the value typed.
        slider.release(
            widen(i, slider_limit(studio, cache, i)),
            [key, method, slider],
            slider,
            preprocess=False,
            **UI_ONLY,
        ).then(handler, inputs, out, **UI_ONLY)
    guard_range(psi, PSI_RANGE)
    method.change(
        run(functools.partial(slider_updates, studio=studio, cache=cache)),
        [key, method],
        sliders,
        **UI_ONLY,
    ).then(handler, inputs, out, **UI_ONLY)
    return EditTab(seed, method, psi, sliders, go, out)
