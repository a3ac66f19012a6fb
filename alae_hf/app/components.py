"""Gradio pieces the UIs are built from: the one adapter from an action to a handler (its progress
bar and signature), errors shown as one clear line, a multiple-file input whose API also takes one
file and which lists each file once, the refinement controls of every tab that encodes uploads,
sliders that say when a typed value is outside their range (or widen to it), direction sliders
set from a `SliderSet`, and named slider parameters for the API."""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.data_classes import ListFiles
from pydantic import model_validator

from .api import UI_ONLY
from .inputs import ALPHA_MAX, MAX_K, MAX_REFINE_STEPS, REFINE_STEPS, InputError
from .sliders import SliderSet
from .sources import model_kind

LOG = logging.getLogger("alae_app")


def identity(fn: Callable) -> Callable:
    """The `gpu` decorator of an app that runs no model on a ZeroGPU (the handler as it is)."""
    return fn


def runner(gpu: Callable[[Callable], Callable]) -> Callable[[Callable], Callable]:
    """How an app wraps the handlers that run the networks: `gpu` (`spaces.GPU` on a ZeroGPU),
    then `user_errors`."""

    def run(fn: Callable) -> Callable:
        return user_errors(gpu(fn))

    return run


def handler(action: Callable, present: Callable | None = None) -> Callable:
    """`action` as a Gradio handler: the same parameters (what `view_api()` lists), a `progress`
    parameter given Gradio's progress bar (Gradio finds it by its default value) and passed to the
    action as a `(fraction, message)` callback, and the results turned into components by
    `present` (as they are without one)."""
    signature = inspect.signature(action)
    params = [
        p.replace(default=gr.Progress(), annotation=gr.Progress) if p.name == "progress" else p
        for p in signature.parameters.values()
    ]
    shown = signature.replace(parameters=params)

    @functools.wraps(action)
    def run(*args: Any, **kwargs: Any) -> Any:
        bound = shown.bind(*args, **kwargs)
        if "progress" in shown.parameters:
            bar = bound.arguments.get("progress")
            bound.arguments["progress"] = None if bar is None else progress_callback(bar)
        result = action(*bound.args, **bound.kwargs)
        return result if present is None else present(result)

    run.__signature__ = shown  # type: ignore[attr-defined]
    return run


def progress_callback(bar: gr.Progress) -> Callable[[float, str], None]:
    """A `(fraction, message)` callback (what the actions report) that moves Gradio's bar."""
    return lambda fraction, message: bar(fraction, desc=message)


def quiet(fn: Callable) -> Callable:
    """A UI helper that must never show an error (a failed check just leaves its output as it is)."""

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        try:
            return fn(*args)
        except (ValueError, OSError):
            return gr.skip()

    return wrapper


def slider_specs(sliders: SliderSet, count: int = MAX_K) -> list[dict[str, Any]]:
    """What each of `count` direction sliders says (its `info`: the direction, its measured
    effect and range) and how far it goes (beyond the set: ±ALPHA_MAX). The labels stay
    "Slider 1" ... : they are also the API's names for the values."""
    specs = [
        {"info": text, "minimum": -limit, "maximum": limit}
        for text, limit in zip(sliders.labels, sliders.limits)
    ][:count]
    return specs + [
        {"info": "", "minimum": -ALPHA_MAX, "maximum": ALPHA_MAX} for _ in range(len(specs), count)
    ]


def direction_sliders(
    sliders: SliderSet, k: int, elem_prefix: str, count: int = MAX_K
) -> list[gr.Slider]:
    """`count` direction sliders for a set (inside a Blocks context): the first k visible, all at
    0, with elem_ids `elem_prefix` + 0, 1, ... (what `thumb_values_js` looks for)."""
    return [
        gr.Slider(
            value=0.0,
            step=0.1,
            label=f"Slider {i + 1}",
            visible=i < k,
            elem_id=f"{elem_prefix}{i}",
            **spec,
        )
        for i, spec in enumerate(slider_specs(sliders, count))
    ]


def slider_updates(sliders: SliderSet, k: int, count: int = MAX_K) -> list[dict[str, Any]]:
    """Updates for `count` direction sliders of a new set: the first k visible, all at 0, each
    saying what its direction does and how far it goes."""
    return [
        gr.update(value=0.0, visible=i < k, **spec)
        for i, spec in enumerate(slider_specs(sliders, count))
    ]


def widen(index: int, limit: Callable[..., float]) -> Callable:
    """The handler that lets direction slider `index` take a typed value past its range (the
    browser would clamp it without a word): the range grows to include it, up to ±ALPHA_MAX, the
    server's limit; past that it says so. Its inputs: those of `limit` (how far the slider reaches
    now), then the slider."""

    def widen_slider(*args: Any) -> Any:
        *setting, typed = args
        if (
            isinstance(typed, bool)
            or not isinstance(typed, (int, float))
            or not math.isfinite(typed)
        ):
            return gr.skip()
        if abs(typed) <= limit(*setting):
            return gr.skip()
        if abs(typed) > ALPHA_MAX:
            gr.Warning(
                f"Slider {index + 1}: {typed:g}σ is past ±{ALPHA_MAX:g}σ, this app's limit; using "
                f"{math.copysign(ALPHA_MAX, typed):g}σ."
            )
            typed = math.copysign(ALPHA_MAX, typed)
        return gr.Slider(minimum=-abs(typed), maximum=abs(typed), value=typed)

    return quiet(widen_slider)


def user_errors(fn: Callable) -> Callable:
    """Show input errors (`InputError`, verbatim) and library errors (bad layer specs, incompatible
    directions, ...: their first line) as gr.Error and log anything unexpected, so that a user never
    sees a traceback or a bare 'Error'."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except InputError as err:
            raise gr.Error(str(err), print_exception=False) from err
        except (ValueError, OSError, TypeError) as err:
            raise gr.Error(
                str(err).splitlines()[0][:500] or type(err).__name__, print_exception=False
            ) from err
        except Exception as err:  # noqa: BLE001
            LOG.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(
                f"Something went wrong ({type(err).__name__}); the server log has details.",
                print_exception=False,
            ) from err

    return wrapper


# A multiple-file input's payload that also accepts one file: gradio 6.31 validates the payload
# against a list before any handler runs, so a client's single file failed with a generic error and
# a server traceback. The docstring is what `view_api()` shows as the parameter's description.
class OneOrMoreFiles(ListFiles):
    """One image file or a list of image files (handle_file(path) for each)."""

    @model_validator(mode="before")
    @classmethod
    def _one_file_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value


def files_input(**kwargs: Any) -> gr.File:
    """gr.File(file_count="multiple", file_types=["image"]) whose API accepts one file or a list,
    and whose list shows each file once however often it is uploaded (inside a Blocks context)."""
    component = gr.File(file_count="multiple", file_types=["image"], **kwargs)
    component.data_model = OneOrMoreFiles
    # An upload adds to the list; uploading a file again would list (and encode) it twice.
    component.upload(unique_uploads, component, component, preprocess=False, **UI_ONLY)
    return component


def unique_uploads(files: Any) -> list[str]:
    """The paths of uploaded files (gradio FileData payloads) without repeats of the same content,
    in upload order; a warning names each repeat it leaves out."""
    seen: dict[str, str] = {}
    paths: list[str] = []
    repeats: list[str] = []
    for item in files or []:
        path: Any = item.get("path") if isinstance(item, dict) else getattr(item, "path", item)
        name = os.path.basename(
            str((item.get("orig_name") if isinstance(item, dict) else None) or path)
        )
        try:
            hashed = hashlib.sha256()
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    hashed.update(block)
            digest = hashed.hexdigest()
        except (OSError, TypeError):
            digest = str(path)  # unreadable here: the encoder names it when it gets there
        if digest in seen:
            repeats.append(
                name if name == seen[digest] else f"{name} (the same image as {seen[digest]})"
            )
            continue
        seen[digest] = name
        paths.append(path)
    if repeats:
        gr.Warning(f"Already in the list, so not added again: {', '.join(repeats)}.")
    return paths


def model_picker(bundled: dict[str, Path], opens: str, label: str, info: str) -> gr.Dropdown:
    """The Model tab's source: a list of the bundled models, each saying what it is (one of another
    kind than `opens`, the model class this app shows, opens in its own app), that also takes a
    typed Hub repo id or folder. The value is the name or text as typed (the `load_model` API's
    `source`)."""
    choices = []
    for name, folder in sorted(bundled.items()):
        kind = model_kind(folder) or "unreadable config"
        note = KIND_NAMES.get(kind, kind) + ("" if kind == opens else ", opens in its own app")
        choices.append((f"{name} ({note})", name))
    return gr.Dropdown(
        choices,
        value=None,
        allow_custom_value=True,
        filterable=True,
        label=label,
        info=info,
        scale=4,
        elem_id="model-source",
    )


KIND_NAMES = {"StyleALAE": "StyleALAE", "MLPALAE": "MLP ALAE"}


REFINE_INFO = (
    "How this tab encodes uploads. 0: the encoder alone, E(x). N: E(x), then N inversion steps that bring "
    "the reconstruction closer to the upload (about 50 ms per step and image)."
)


def refine_controls(elem_prefix: str, default: int = REFINE_STEPS) -> tuple[gr.Slider, gr.Radio]:
    """A tab's own "Refine steps" slider and "Refine in" (w+ or w) choice for its uploads."""
    steps = gr.Slider(
        0,
        MAX_REFINE_STEPS,
        default,
        step=5,
        precision=0,
        label="Refine steps",
        info=REFINE_INFO,
        elem_id=f"{elem_prefix}-steps",
    )
    space = gr.Radio(
        ["w+", "w"],
        value="w+",
        label="Refine in",
        elem_id=f"{elem_prefix}-space",
        info="w+: one code per style (closest); w: one code for all styles",
    )
    guard_range(steps, (0, MAX_REFINE_STEPS))
    return steps, space


# The one rule for typed numbers: a value typed into a slider's box is committed when the box is
# left or Enter is pressed; then it is taken (its range widens to it), or clamped and said once.
# Gradio commits on leaving the box only; this page script makes Enter do the same.
COMMIT_ON_ENTER_JS = """() => document.addEventListener("keydown", (event) => {
  const box = event.target;
  if (event.key === "Enter" && box instanceof HTMLInputElement && box.type === "number"
      && box.closest(".block")?.querySelector("input[type=range]")) box.blur();
}, true)"""


def thumb_values_js(first: int, elem_prefix: str) -> str:
    """A listener's `js` that sends, for its inputs from `first` on (the sliders with elem_ids
    `elem_prefix` + 0, 1, ...), the value each thumb shows: a number still being typed past a
    slider's range is not rendered until it is committed (the thumb already sits at the range's end)."""
    return f"""(...values) => values.map((value, i) => {{
  const thumb = i < {first} ? null
    : document.querySelector("#{elem_prefix}" + (i - {first}) + " input[type=range]");
  if (!thumb) return value;
  if (typeof value !== "number" || !Number.isFinite(value)) return Number(thumb.value);
  return Math.min(Math.max(value, Number(thumb.min)), Number(thumb.max));
}})"""


def guard_range(
    slider: gr.Slider,
    bounds: tuple[float, float] | Callable[..., tuple[float, float]],
    state: list[Any] | None = None,
) -> Any:
    """Say so when a value typed into `slider`'s number box is outside `bounds` (the browser clamps
    it on blur without a word). `bounds` may be a function of the `state` components' values (a
    range that depends on the session's model). Returns the listener, for events that must run on
    the clamped value (`.then`)."""
    name = slider.label

    def check(*args: Any) -> Any:
        *values, typed = args
        low, high = bounds(*values) if callable(bounds) else bounds
        if isinstance(typed, bool) or not isinstance(typed, (int, float)) or low <= typed <= high:
            return gr.skip()
        kept = min(max(typed, low), high)
        gr.Warning(f"{name}: {typed:g} is outside [{low:g}, {high:g}]; using {kept:g}.")
        return gr.Slider(value=kept)

    return slider.release(check, [*(state or []), slider], slider, preprocess=False, **UI_ONLY)


def named_sliders(fn: Callable, count: int = MAX_K) -> Callable:
    """`fn(..., *alphas)` with the API signature `fn(..., slider_1, ..., slider_<count>)`, so that
    clients see named parameters instead of gradio's `param_4` ... `param_13`."""

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        return fn(*args)

    signature = inspect.signature(fn)
    params = [p for p in signature.parameters.values() if p.kind is not p.VAR_POSITIONAL]
    params += [
        inspect.Parameter(
            f"slider_{i + 1}",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=0.0,
            annotation=float,
        )
        for i in range(count)
    ]
    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    del wrapper.__wrapped__  # inspect.signature would follow it back to *alphas
    return wrapper
