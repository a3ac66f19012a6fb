"""Gradio demo for alae_hf: sample, encode & reconstruct, style mixing, latent editing, model loading.

UI only: every image comes from `StyleALAE` methods and `alae_hf.editing` / `alae_hf.directions`
(truncate-then-edit, shared noise maps, directions in σ units; see editing.py's docstring). This
file holds the layout, input checks, per-session state (`gr.State`) and an app-level cache of
loaded models and direction sets (`AppContext`, one per `build_app` call).

    python app.py                        # the bundled default checkpoint, http://127.0.0.1:7860
    python app.py --model DIR_OR_REPO_ID # any StyleALAE folder or Hub repo (env ALAE_MODEL too)

Every event has an `api_name` and can be called with `gradio_client` (see tests/test_app.py).
"""

from __future__ import annotations

import argparse
import atexit
import functools
import json
import logging
import math
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import torch
from PIL import Image

from alae_hf import StyleALAE, editing
from alae_hf.directions import Directions, describe_styles, ganspace, layer_range, list_directions, sefa
from alae_hf.imaging import ImageError, make_grid, tensor_to_pil, to_model_tensor
from alae_hf.metrics import reconstruction_metrics

ROOT = Path(__file__).resolve().parent
DEFAULT_MODEL = ROOT / "checkpoints" / "alae-synthetic-faces-64"
LOG = logging.getLogger("alae_app")

# Server-side limits (the UI sliders use the same ranges; clients can send anything).
SEED_MAX = 2**32 - 1          # numpy.random.RandomState seeds (the model's seed convention)
MAX_IMAGES = 16               # images per sample / encode request
MAX_MIX = 8                   # sources or destinations in the mixing grid
PSI_RANGE = (-1.0, 2.0)
MAX_K = 10                    # direction sliders
ALPHA_MAX = 5.0               # slider range in σ units
STEPS_RANGE = (3, 15)         # traversal frames
UPLOAD_PIXELS = 40_000_000    # refuse larger images from their header, before decoding
MAX_FILE_SIZE = "20mb"        # gradio's upload limit (launch(max_file_size=...))
GANSPACE_SAMPLES = 50_000     # when a model folder ships no GANSpace directions
METHODS = {"SeFa": "sefa", "GANSpace": "ganspace", "learned": "voynov"}
LAYER_CHOICES = ["all", "coarse", "middle", "fine", "custom"]
MIX_CHOICES = ["coarse", "middle", "fine", "all", "paper rows", "custom"]
PAPER_ROWS = ["coarse"] * 3 + ["middle"] * 2 + ["fine"]   # StyleGAN fig. 3 / ALAE stylemix.py
NOISE_CHOICES = ["fixed seed", "random", "off"]
QUEUE_SIZE = 32
CONCURRENCY = 2
# Queue groups: the events that run the networks share CONCURRENCY slots; slider edits have their
# own, so that a drag never waits behind a 16-image sample. Inputs arrive unprocessed so that the
# handlers' range checks (which name the field) answer instead of gradio's anonymous ones.
MODEL_EVENT = {"concurrency_id": "model", "concurrency_limit": CONCURRENCY, "preprocess": False}
SLIDER_EVENT = {"concurrency_id": "slider", "concurrency_limit": CONCURRENCY, "preprocess": False,
                "trigger_mode": "always_last", "show_progress": "hidden"}


# ---- input checks ------------------------------------------------------------------------------
def _number(name: str, value: Any, low: float, high: float, integer: bool = False) -> float | int:
    """A finite number in [low, high] (integers must be whole), else a gr.Error naming the range."""
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and integer and float(value) != int(value):
        ok = False
    if not ok or not low <= value <= high:
        kind = "a whole number" if integer else "a number"
        raise gr.Error(f"{name} must be {kind} in [{low:g}, {high:g}], got {value!r}", print_exception=False)
    return int(value) if integer else float(value)


def _choice(name: str, value: Any, choices: Sequence[str]) -> str:
    if value not in choices:
        raise gr.Error(f"{name} must be one of {list(choices)}, got {value!r}", print_exception=False)
    return value


def _parse_seeds(text: Any, name: str, limit: int = MAX_MIX) -> list[int]:
    """'1, 2, 5-8' -> [1, 2, 5, 6, 7, 8] (at most `limit` seeds)."""
    if text is None or str(text).strip() == "":
        return []
    seeds: list[int] = []
    for part in str(text).split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match:
            raise gr.Error(f"{name}: could not read {part.strip()!r}; write seeds like '1, 2, 5-8'",
                           print_exception=False)
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if last < first or last > SEED_MAX:
            raise gr.Error(f"{name}: bad range {part.strip()!r} (seeds are 0-{SEED_MAX})", print_exception=False)
        seeds += range(first, min(last, first + limit) + 1)
        if len(seeds) > limit:
            raise gr.Error(f"{name}: at most {limit} seeds, got more", print_exception=False)
    return seeds


def _upload_path(payload: Any, what: str = "image") -> tuple[str, str]:
    """(path, display name) of an uploaded file from a gradio FileData payload or a path."""
    if isinstance(payload, dict):
        path, name = payload.get("path"), payload.get("orig_name") or payload.get("path")
    else:
        path = name = getattr(payload, "path", payload)
    if not path or not isinstance(path, str) or not os.path.isfile(path):
        raise gr.Error(f"Upload an {what} first.", print_exception=False)
    return path, os.path.basename(str(name))


def _image_tensor(path: str, name: str, model: StyleALAE) -> torch.Tensor:
    """Model input [1, C, R, R] for an uploaded file, refusing huge images from their header."""
    try:
        with Image.open(path) as image:
            width, height = image.size
    except Exception as err:  # noqa: BLE001 - any Pillow failure means "not an image"
        raise gr.Error(f"{name} is not an image this app can read ({type(err).__name__}).",
                       print_exception=False) from err
    if width * height > UPLOAD_PIXELS:
        raise gr.Error(f"{name} is {width}x{height}; images up to {UPLOAD_PIXELS // 1_000_000} megapixels "
                       "are accepted. Please downscale it first.", print_exception=False)
    try:
        return to_model_tensor(path, model.arch.resolution, model.arch.channels)
    except ImageError as err:
        raise gr.Error(f"{name}: {err}", print_exception=False) from err


def _psnr(a: Image.Image, b: Image.Image) -> float:
    """PSNR in dB of one reconstruction (`alae_hf.metrics`, the evaluation's definition)."""
    return reconstruction_metrics(None, np.asarray(a)[None], np.asarray(b)[None])["psnr"]


def user_errors(fn: Callable) -> Callable:
    """Show library errors (bad layer specs, incompatible directions, ...) as gr.Error and log
    anything unexpected, so that a user never sees a traceback or a bare 'Error'."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except (ValueError, OSError, TypeError) as err:
            raise gr.Error(str(err).splitlines()[0][:500] or type(err).__name__, print_exception=False) from err
        except Exception as err:  # noqa: BLE001
            LOG.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(f"Something went wrong ({type(err).__name__}); the server log has details.",
                           print_exception=False) from err
    return wrapper


# ---- app-level caches --------------------------------------------------------------------------
@dataclass
class LoadedModel:
    """A model with the folder it came from and the direction sets shipped in `folder/directions/`."""

    key: str
    folder: Path
    model: StyleALAE
    shipped: dict[str, Directions]
    card: str

    def methods(self) -> list[str]:
        """Edit methods offered for this model ("learned" only when it ships Voynov directions)."""
        have_voynov = any(d.method == "voynov" for d in self.shipped.values())
        return [label for label, method in METHODS.items() if method != "voynov" or have_voynov]

    def layer_choices(self) -> list[str]:
        """Named layer groups that select at least one style of this model, plus custom."""
        ok = ["custom"]
        for name in LAYER_CHOICES[:-1]:
            try:
                layer_range(self.model, name)
                ok.append(name)
            except ValueError:
                pass
        return ok[1:] + ok[:1]


class OutputFiles:
    """Files handed to gradio in a private temp folder, one folder per output; old ones are deleted.

    Every image output goes through `png` rather than being returned as a PIL image: gradio
    6.31 saves returned PIL images to a content-addressed cache path by rewriting it in place
    (`processing_utils.save_pil_to_cache`), so two requests producing the same image at the same
    moment (two visitors on the default seed) can serve a truncated file. Returned file paths are
    copied with a staging file and a rename, which is safe."""

    def __init__(self, keep: int = 512) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="alae_app_"))
        self._dirs: deque[Path] = deque()
        self._keep = keep
        self._lock = threading.Lock()
        atexit.register(shutil.rmtree, self.root, True)

    def folder(self) -> Path:
        path = self.root / uuid.uuid4().hex[:12]
        path.mkdir()
        with self._lock:
            self._dirs.append(path)
            while len(self._dirs) > self._keep:
                shutil.rmtree(self._dirs.popleft(), ignore_errors=True)
        return path

    def png(self, image: Image.Image, name: str = "image") -> str:
        """Write `image` as `<new folder>/<name>.png` (name made file-safe); returns the path."""
        path = self.folder() / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)[:80] or 'image'}.png"
        image.save(path, format="PNG")
        return str(path)


class AppContext:
    """What all sessions share: loaded models (LRU, the default pinned) and direction sets per
    (model, method, layers). Sessions only keep a model key and their own latents."""

    def __init__(self, default: str | os.PathLike, device: str | torch.device = "cpu", max_models: int = 3,
                 max_directions: int = 32, ganspace_samples: int = GANSPACE_SAMPLES) -> None:
        self.device = torch.device(device)
        self.max_models, self.max_directions, self.ganspace_samples = max_models, max_directions, ganspace_samples
        self._models: OrderedDict[str, LoadedModel] = OrderedDict()
        self._directions: OrderedDict[tuple, Directions] = OrderedDict()
        self._lock = threading.RLock()
        self._compute_lock = threading.Lock()
        self.files = OutputFiles()
        self.default_key = ""
        self.default_key = self.load(default).key

    # models
    def load(self, source: str | os.PathLike, progress: Callable[[float, str], None] | None = None) -> LoadedModel:
        """Load a folder or Hub repo (raises OSError/ValueError with a readable message)."""
        key = str(source).strip()
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
        report = progress or (lambda fraction, message: None)
        report(0.05, f"locating {key}")
        folder = _resolve_folder(key)
        report(0.5, "loading weights")
        model = StyleALAE.from_pretrained(folder).to(self.device).eval()
        report(0.85, "reading directions")
        shipped = {}
        for name in list_directions(folder):
            try:
                shipped[name] = Directions.load(folder, name, model)
            except (OSError, ValueError) as err:
                LOG.warning("skipping directions %s in %s: %s", name, folder, err)
        card_path = folder / "README.md"
        card = card_path.read_text(encoding="utf-8", errors="replace") if card_path.is_file() else ""
        loaded = LoadedModel(key, folder, model, shipped, card)
        with self._lock:
            self._models[key] = loaded
            evictable = [k for k in self._models if k != self.default_key]
            while len(self._models) > self.max_models and evictable:
                self._models.pop(evictable.pop(0))
        report(1.0, "ready")
        return loaded

    def get(self, key: str | None) -> LoadedModel:
        """The session's model (reloaded if it was evicted; the default if the key is unknown)."""
        key = key or self.default_key
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
        try:
            return self.load(key)
        except (OSError, ValueError):
            return self._models[self.default_key]

    # directions
    def directions(self, loaded: LoadedModel, method: str, layers: list[int],
                   progress: Callable[[float, str], None] | None = None) -> Directions:
        """Directions of `method` for `layers`: shipped with the model if it has them (an exact
        layer match first), else computed once (SeFa, GANSpace) and cached."""
        cache_key = (loaded.key, id(loaded.model), method, tuple(layers))
        with self._lock:
            if cache_key in self._directions:
                self._directions.move_to_end(cache_key)
                return self._directions[cache_key]
        with self._compute_lock:
            with self._lock:
                if cache_key in self._directions:
                    return self._directions[cache_key]
            found = _pick_shipped(loaded, method, layers)
            if found is None and method == "sefa":
                found = sefa(loaded.model, layers)
            elif found is None and method == "ganspace":
                found = ganspace(loaded.model, n_samples=self.ganspace_samples, n_components=32, layers=layers,
                                 progress=progress)
            elif found is None:
                raise ValueError(f"{loaded.key} ships no {method} directions")
        with self._lock:
            self._directions[cache_key] = found
            while len(self._directions) > self.max_directions:
                self._directions.popitem(last=False)
        return found


def _resolve_folder(source: str) -> Path:
    """A local folder as is; a Hub repo id through the Hub cache (only the files a model needs)."""
    if not source:
        raise ValueError("enter a Hub repo id (owner/name) or a local folder")
    if os.path.isdir(source):
        return Path(source)
    if os.path.exists(source) or source.startswith((".", "/", "~")) or source.count("/") > 1:
        raise OSError(f"{source!r} is not a folder and does not look like a Hub repo id (owner/name)")
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(source, allow_patterns=["config.json", "*.safetensors", "README.md",
                                                              "directions/*"]))
    except Exception as err:  # noqa: BLE001 - hub errors come in many classes; the message is what matters
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
        hint = " (offline: HF_HUB_OFFLINE is set and the repo is not cached)" if offline else ""
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise OSError(f"{source!r} is not a local folder, and could not download it from the Hub{hint}: "
                      f"{first}") from err


def _pick_shipped(loaded: LoadedModel, method: str, layers: list[int]) -> Directions | None:
    """A shipped set of `method`: the one computed for exactly `layers`, else (for layer-free
    methods: GANSpace PCA, learned) the first one, applied to `layers`."""
    candidates = [d for _, d in sorted(loaded.shipped.items()) if d.method == method]
    exact = [d for d in candidates if d.layers == list(layers)]
    if exact:
        return exact[0]
    return candidates[0] if candidates and method != "sefa" else None


# ---- handlers ----------------------------------------------------------------------------------
def new_session(key: str) -> dict[str, Any]:
    """Per-session state: the model key, the edit base (w+ and noise seed) and the last results."""
    return {"model": key, "base": None, "samples": None, "encoded": None}


class Handlers:
    """The functions behind every event; `gpu` wraps the ones that run the networks (spaces.GPU
    on ZeroGPU, identity elsewhere)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    # shared pieces
    def _model(self, session: dict | None) -> LoadedModel:
        return self.ctx.get((session or {}).get("model"))

    def _png(self, image: Image.Image, name: str) -> str:
        """An image output as a PNG file path (see `OutputFiles`)."""
        return self.ctx.files.png(image, name)

    def _layers(self, loaded: LoadedModel, choice: Any, custom: Any) -> list[int]:
        choice = _choice("Layers", choice, LAYER_CHOICES)
        spec = str(custom or "").strip() if choice == "custom" else choice
        if not spec:
            raise gr.Error("Enter the custom styles, e.g. '0-3' or '4,5,8-9'.", print_exception=False)
        try:
            return layer_range(loaded.model, spec)
        except ValueError as err:
            raise gr.Error(str(err), print_exception=False) from err

    def _seed_w(self, loaded: LoadedModel, n: int, seed: int, psi: float, cutoff: int) -> torch.Tensor:
        model = loaded.model
        return editing.truncate(model, model.map(model.seed_latents(n, seed)), psi, cutoff)

    def _base(self, session: dict | None, loaded: LoadedModel) -> dict[str, Any]:
        base = (session or {}).get("base")
        if base is None or base.get("model") != loaded.key:
            w = self._seed_w(loaded, 1, 0, loaded.model.arch.truncation_psi, loaded.model.arch.truncation_cutoff)
            base = {"model": loaded.key, "w": w, "noise": 0, "label": "seed 0"}
        return base

    def _alphas(self, alphas: Sequence[Any]) -> list[float]:
        if len(alphas) > MAX_K:
            raise gr.Error(f"at most {MAX_K} slider values, got {len(alphas)}", print_exception=False)
        return [_number(f"Slider {i + 1}", a, -ALPHA_MAX, ALPHA_MAX) for i, a in enumerate(alphas)]

    def _edited_w(self, session: dict | None, method: Any, layers: Any, custom: Any,
                  alphas: Sequence[Any]) -> tuple[LoadedModel, dict, Directions, list[int], torch.Tensor]:
        loaded = self._model(session)
        method = METHODS[_choice("Method", method, loaded.methods())]
        indices = self._layers(loaded, layers, custom)
        values = self._alphas(alphas)
        directions = self.ctx.directions(loaded, method, indices)
        base = self._base(session, loaded)
        values = values[:directions.num_directions]
        w = editing.apply_directions(base["w"], directions, values, indices)
        return loaded, base, directions, indices, w

    def _set_base(self, session: dict | None, loaded: LoadedModel, w: torch.Tensor, noise: int | None,
                  label: str) -> tuple:
        """New edit base: (session, base image, edited image, *sliders reset to 0)."""
        session = dict(session or new_session(loaded.key))
        session["base"] = {"model": loaded.key, "w": loaded.model.to_w_plus(w).clone(), "noise": noise,
                           "label": label}
        image = self._png(editing.render(loaded.model, session["base"]["w"], noise)[0], "base")
        return (session, image, image, *[0.0] * MAX_K)

    # Sample tab
    def sample(self, session: dict, seed: Any, n: Any, psi: Any, cutoff: Any, noise_mode: Any,
               noise_seed: Any) -> tuple:
        """Generate n images from a seed: (gallery, info, session)."""
        loaded = self._model(session)
        seed = _number("Seed", seed, 0, SEED_MAX, integer=True)
        n = _number("Number of images", n, 1, MAX_IMAGES, integer=True)
        psi = _number("Truncation ψ", psi, *PSI_RANGE)
        cutoff = _number("Truncation cutoff", cutoff, 0, loaded.model.num_styles, integer=True)
        noise_mode = _choice("Noise", noise_mode, NOISE_CHOICES)
        noise_seed = _number("Noise seed", noise_seed, 0, SEED_MAX, integer=True)
        if noise_mode == "random":
            noise_seed = random.randint(0, SEED_MAX)
        noise = None if noise_mode == "off" else noise_seed
        start = time.perf_counter()
        w = self._seed_w(loaded, n, seed, psi, cutoff)
        images = editing.render(loaded.model, w, noise)
        took = (time.perf_counter() - start) * 1000
        session = dict(session or new_session(loaded.key))
        session["samples"] = {"model": loaded.key, "w": w, "noise": noise, "seed": seed}
        gallery = [(self._png(image, f"seed{seed}_{i}"), f"#{i} · seed {seed}") for i, image in enumerate(images)]
        noise_text = "no noise" if noise is None else f"noise seed {noise}"
        info = (f"seed {seed} · ψ {psi:g} on styles 0–{cutoff - 1 if cutoff else '(none)'} · {noise_text} · "
                f"{n} × {loaded.model.arch.resolution}² px in {took:.0f} ms")
        return gallery, info, session

    def sample_random(self, session: dict, n: Any, psi: Any, cutoff: Any, noise_mode: Any,
                      noise_seed: Any) -> tuple:
        """🎲: a random seed, then `sample`: (seed, gallery, info, session)."""
        seed = random.randint(0, 2**31 - 1)
        return (seed, *self.sample(session, seed, n, psi, cutoff, noise_mode, noise_seed))

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
        loaded = self._model(session)
        samples = (session or {}).get("samples")
        if not samples or samples.get("model") != loaded.key:
            raise gr.Error("Generate some samples first.", print_exception=False)
        index = _number("Image #", index, 0, samples["w"].shape[0] - 1, integer=True)
        w = samples["w"][index:index + 1]
        label = f"sample #{index} of seed {samples['seed']}"
        state, *rest = self._set_base(session, loaded, w, samples["noise"], label)
        return (state, gr.Tabs(selected="edit"), *rest)

    # Encode tab
    def encode(self, session: dict, files: Any) -> tuple:
        """Encode uploads and reconstruct them: (gallery of original|reconstruction, table, session)."""
        loaded = self._model(session)
        files = [files] if isinstance(files, (dict, str)) else list(files or [])
        if not files:
            raise gr.Error("Upload one or more images first.", print_exception=False)
        if len(files) > MAX_IMAGES:
            raise gr.Error(f"At most {MAX_IMAGES} images at once, got {len(files)}.", print_exception=False)
        named = [_upload_path(f) for f in files]
        x = torch.cat([_image_tensor(path, name, loaded.model) for path, name in named])
        start = time.perf_counter()
        w = editing.encode_images(loaded.model, x)
        recon = editing.render(loaded.model, w, 0)
        took = (time.perf_counter() - start) * 1000
        originals = tensor_to_pil(x)
        scores = [_psnr(a, b) for a, b in zip(originals, recon)]
        gallery = [(self._png(make_grid([a, b], columns=2), f"{Path(name).stem}_reconstruction"),
                    f"{name} · PSNR {p:.1f} dB") for (_, name), a, b, p in zip(named, originals, recon, scores)]
        rows = "\n".join(f"| {i} | {name} | {p:.2f} |" for i, ((_, name), p) in enumerate(zip(named, scores)))
        table = (f"| # | image | PSNR (dB) |\n| --- | --- | --- |\n{rows}\n\nMean PSNR {np.mean(scores):.2f} dB over "
                 f"{len(scores)} image(s) at {loaded.model.arch.resolution}² px, encode + decode {took:.0f} ms.")
        session = dict(session or new_session(loaded.key))
        session["encoded"] = {"model": loaded.key, "w": w, "names": [name for _, name in named]}
        return gallery, table, session

    def send_encoded_to_edit(self, session: dict, index: Any) -> tuple:
        """Use encoded image #index as the edit base (not truncated): (session, tabs, base, edited, *sliders)."""
        loaded = self._model(session)
        encoded = (session or {}).get("encoded")
        if not encoded or encoded.get("model") != loaded.key:
            raise gr.Error("Encode some images first.", print_exception=False)
        index = _number("Image #", index, 0, encoded["w"].shape[0] - 1, integer=True)
        state, *rest = self._set_base(session, loaded, encoded["w"][index:index + 1], 0,
                                      f"encoded {encoded['names'][index]}")
        return (state, gr.Tabs(selected="edit"), *rest)

    # Style mixing tab
    def _mix_latents(self, loaded: LoadedModel, seeds_text: Any, files: Any, psi: float, what: str) -> torch.Tensor:
        """w+ [N, 2L, Z] of the seeds (truncated) then the uploads (encoded) of one side of the grid."""
        model = loaded.model
        seeds = _parse_seeds(seeds_text, f"{what.capitalize()} seeds")
        files = [files] if isinstance(files, (dict, str)) else list(files or [])
        if len(seeds) + len(files) > MAX_MIX:
            raise gr.Error(f"At most {MAX_MIX} {what}s (seeds + uploads), got {len(seeds) + len(files)}.",
                           print_exception=False)
        parts = [editing.truncate(model, model.map(model.seed_latents(1, s)), psi) for s in seeds]
        if files:
            x = torch.cat([_image_tensor(*_upload_path(f), model) for f in files])
            parts.append(model.to_w_plus(editing.encode_images(model, x)))
        if not parts:
            raise gr.Error(f"Give at least one {what} (a seed or an upload).", print_exception=False)
        return torch.cat(parts)

    def mix(self, session: dict, source_seeds: Any, source_files: Any, destination_seeds: Any,
            destination_files: Any, psi: Any, layers: Any, custom: Any, noise_seed: Any) -> tuple:
        """The style-mixing figure: sources across the top, destinations down the side: (grid, info)."""
        loaded = self._model(session)
        psi = _number("Truncation ψ", psi, *PSI_RANGE)
        noise_seed = _number("Noise seed", noise_seed, 0, SEED_MAX, integer=True)
        layers = _choice("Styles to copy", layers, MIX_CHOICES)
        src = self._mix_latents(loaded, source_seeds, source_files, psi, "source")
        dst = self._mix_latents(loaded, destination_seeds, destination_files, psi, "destination")
        if layers == "paper rows":
            specs = [layer_range(loaded.model, PAPER_ROWS[i % len(PAPER_ROWS)]) for i in range(dst.shape[0])]
            text = "rows: coarse ×3, middle ×2, fine ×1 (repeating)"
        else:
            specs = self._layers(loaded, layers, custom)
            text = f"styles {specs}"
        start = time.perf_counter()
        grid = editing.mixing_grid(loaded.model, src, dst, specs, noise=noise_seed)
        took = (time.perf_counter() - start) * 1000
        info = (f"Top row: {src.shape[0]} sources; left column: {dst.shape[0]} destinations; each cell is the "
                f"destination with the source's {text}. {describe_styles(loaded.model)}. {took:.0f} ms.")
        return self._png(grid, "style_mixing"), info

    # Edit tab
    def edit_base_from_seed(self, session: dict, seed: Any, psi: Any) -> tuple:
        """Base = a sampled image: (session, base, edited, *sliders)."""
        loaded = self._model(session)
        seed = _number("Seed", seed, 0, SEED_MAX, integer=True)
        psi = _number("Truncation ψ", psi, *PSI_RANGE)
        w = self._seed_w(loaded, 1, seed, psi, loaded.model.arch.truncation_cutoff)
        return self._set_base(session, loaded, w, seed, f"seed {seed}, ψ {psi:g}")

    def edit_base_from_upload(self, session: dict, image: Any) -> tuple:
        """Base = an encoded upload (no truncation): (session, base, edited, *sliders)."""
        loaded = self._model(session)
        path, name = _upload_path(image)
        w = editing.encode_images(loaded.model, _image_tensor(path, name, loaded.model))
        return self._set_base(session, loaded, w, 0, f"encoded {name}")

    def directions(self, session: dict, method: Any, layers: Any, custom: Any, k: Any,
                   progress: gr.Progress = gr.Progress()) -> tuple:
        """Pick a direction set and show its top K as sliders: (*sliders, direction picker, info, edited)."""
        loaded = self._model(session)
        label = _choice("Method", method, loaded.methods())
        k = _number("Number of sliders", k, 1, MAX_K, integer=True)
        indices = self._layers(loaded, layers, custom)
        found = self.ctx.directions(loaded, METHODS[label], indices, lambda f, m: progress(f, desc=m))
        labels, info = self.describe_directions(loaded, found, label, indices)
        base = self._base(session, loaded)
        edited = self._png(editing.render(loaded.model, base["w"], base["noise"])[0], "edited")
        return (*_slider_updates(labels, min(k, found.num_directions)), info, edited)

    @classmethod
    def describe_directions(cls, loaded: LoadedModel, found: Directions, label: str,
                            indices: list[int]) -> tuple[list[str], str]:
        """Slider labels and a one-line description of a direction set."""
        source = "shipped with the model" if any(found is d for d in loaded.shipped.values()) else "computed here"
        info = (f"{label}: {found.num_directions} directions ({source}), applied to styles {indices}. Sliders are "
                f"in σ units (1 = one standard deviation of w along the direction).")
        return [cls._slider_label(found, label, i) for i in range(MAX_K)], info

    def edit_view(self, loaded: LoadedModel, k: int = 5) -> tuple[Image.Image, list[str], int, str]:
        """The Edit tab of a fresh session on `loaded` (its default base, SeFa on all styles):
        (base image, slider labels, number of visible sliders, info)."""
        base = self._base(None, loaded)
        image = editing.render(loaded.model, base["w"], base["noise"])[0]
        indices = layer_range(loaded.model, "all")
        found = self.ctx.directions(loaded, "sefa", indices)
        labels, info = self.describe_directions(loaded, found, "SeFa", indices)
        return image, labels, min(k, found.num_directions), info

    @staticmethod
    def _slider_label(found: Directions, label: str, i: int) -> str:
        if i >= found.num_directions:
            return f"direction {i + 1}"
        score = "" if found.scores is None else f" · score {float(found.scores[i]):.3g}"
        return f"{label} {i + 1} (σ = {float(found.sigma[i]):.3g}{score})"

    def edit(self, session: dict, method: Any, layers: Any, custom: Any, *alphas: Any) -> str:
        """Render the base with the slider values applied (the hot path: cached base and directions)."""
        loaded, base, _, _, w = self._edited_w(session, method, layers, custom, alphas)
        return self._png(editing.render(loaded.model, w, base["noise"])[0], "edited")

    def reset(self, session: dict) -> tuple:
        """Sliders back to 0: (*sliders, base image)."""
        loaded = self._model(session)
        base = self._base(session, loaded)
        return (*[0.0] * MAX_K, self._png(editing.render(loaded.model, base["w"], base["noise"])[0], "edited"))

    def traversal(self, session: dict, method: Any, layers: Any, custom: Any, direction: Any, extent: Any,
                  steps: Any, *alphas: Any) -> tuple:
        """One direction from −extent to +extent σ around the current edit: (strip, GIF path)."""
        k = _number("Direction", int(direction) if str(direction).isdigit() else direction, 1, MAX_K, integer=True)
        extent = _number("Extent (σ)", extent, 0.1, 3 * ALPHA_MAX)
        steps = _number("Frames", steps, *STEPS_RANGE, integer=True)
        values = list(alphas) + [0.0] * (MAX_K - len(alphas))
        values[k - 1] = 0.0
        loaded, base, found, indices, w = self._edited_w(session, method, layers, custom, values)
        if k > found.num_directions:
            raise gr.Error(f"This set has only {found.num_directions} directions.", print_exception=False)
        strengths = np.linspace(-extent, extent, steps).tolist()
        frames_w = editing.sweep(w, found, k - 1, strengths, indices)[:, 0]
        frames = editing.render(loaded.model, frames_w, base["noise"])
        strip = self._png(make_grid(frames, columns=len(frames)), f"direction_{k}_strip")
        gif = self.ctx.files.folder() / f"direction_{k}.gif"
        big = [f.resize((max(256, f.width), max(256, f.height)), Image.LANCZOS) for f in frames]
        loop = big + big[-2:0:-1]
        loop[0].save(gif, save_all=True, append_images=loop[1:], duration=90, loop=0)
        return strip, str(gif)

    def export(self, session: dict, method: Any, layers: Any, custom: Any, *alphas: Any) -> gr.File:
        """Files (shown once there are some): the edited image (PNG), the direction set
        (.safetensors + .json) and the edit (JSON)."""
        loaded, base, found, indices, w = self._edited_w(session, method, layers, custom, alphas)
        folder = self.ctx.files.folder()
        editing.render(loaded.model, w, base["noise"])[0].save(folder / "edited.png")
        stem = found.save_to(folder / f"{found.method}_directions")
        edit = {"model": loaded.key, "base": base["label"], "noise_seed": base["noise"], "method": found.method,
                "styles": indices, "alphas_sigma": [float(a) for a in alphas][:found.num_directions]}
        (folder / "edit.json").write_text(json.dumps(edit, indent=2) + "\n", encoding="utf-8")
        paths = [folder / "edited.png", stem.with_suffix(".safetensors"), stem.with_suffix(".json"),
                 folder / "edit.json"]
        return gr.File(value=[str(p) for p in paths], visible=True)

    # Model tab
    def model_info(self, session: dict) -> tuple:
        """(status, info, card) for the session's model."""
        loaded = self._model(session)
        return f"Using **{loaded.key}**.", _model_markdown(loaded), _card_body(loaded.card)

    def load_model(self, session: dict, source: Any, progress: gr.Progress = gr.Progress()) -> tuple:
        """Switch this session to another model; on failure the current one stays. Returns (session,
        status, info, card, the controls that depend on the model, the Edit tab's fresh view)."""
        source = str(source or "").strip() or self.ctx.default_key
        try:
            loaded = self.ctx.load(source, lambda f, m: progress(f, desc=m))
        except (OSError, ValueError) as err:
            current = self._model(session).key
            message = str(err).strip().splitlines()[0][:400]
            raise gr.Error(f"Could not load {source!r}: {message}. Still using {current}.",
                           print_exception=False) from err
        methods, layers, arch = loaded.methods(), loaded.layer_choices(), loaded.model.arch
        status = f"Loaded **{loaded.key}** ({describe_styles(loaded.model)})."
        controls = (gr.Radio(choices=methods, value="SeFa"), gr.Dropdown(choices=layers, value="all"),
                    gr.Slider(value=5), gr.Dropdown(choices=_mix_choices(layers), value="coarse"),
                    gr.Slider(maximum=arch.num_styles, value=min(arch.truncation_cutoff, arch.num_styles)))
        image, labels, k, info = self.edit_view(loaded)
        image = self._png(image, "base")
        return (new_session(loaded.key), status, _model_markdown(loaded), _card_body(loaded.card), *controls,
                image, image, *_slider_updates(labels, k), info)


def _slider_updates(labels: list[str], k: int) -> tuple:
    """Updates for the MAX_K direction sliders (the first k visible, all at 0) and the traversal's
    direction picker."""
    sliders = [gr.Slider(value=0.0, label=labels[i], visible=i < k) for i in range(MAX_K)]
    return (*sliders, gr.Dropdown(choices=[str(i + 1) for i in range(k)], value="1"))


def _mix_choices(layer_choices: Sequence[str]) -> list[str]:
    """Mixing ranges a model supports: its named groups, plus the paper's rows when it has all three."""
    paper = all(name in layer_choices for name in ("coarse", "middle", "fine"))
    return [c for c in MIX_CHOICES if c in layer_choices or c == "custom" or (c == "paper rows" and paper)]


def _model_markdown(loaded: LoadedModel) -> str:
    model = loaded.model
    counts = {name: sum(p.numel() for p in getattr(model, name).parameters())
              for name in ("mapping", "generator", "encoder", "discriminator")}
    rows = "\n".join(f"| `{k}` | {v} |" for k, v in model.arch.to_dict().items())
    nets = ", ".join(f"{name} {n / 1e6:.2f} M" for name, n in counts.items())
    shipped = ", ".join(f"`{n}` ({d.method}, {d.num_directions} × styles {d.layers[0]}–{d.layers[-1]})"
                        for n, d in sorted(loaded.shipped.items())) or "none (computed on demand)"
    return (f"**{loaded.key}**  \nfolder `{loaded.folder}`  \n{describe_styles(model)}  \n"
            f"**Parameters:** {sum(counts.values()) / 1e6:.2f} M ({nets})  \n**Directions:** {shipped}\n\n"
            f"| config | value |\n| --- | --- |\n{rows}")


def _card_body(card: str) -> str:
    """The model card without its YAML front matter."""
    if card.startswith("---"):
        end = card.find("\n---", 3)
        card = card[end + 4:] if end != -1 else card
    return card.strip() or "*This model folder has no README.md (model card).*"


# ---- layout ------------------------------------------------------------------------------------
def _identity(fn: Callable) -> Callable:
    return fn


def build_app(model_path: str | os.PathLike | None = None, *, device: str | torch.device = "cpu",
              gpu: Callable[[Callable], Callable] = _identity, ganspace_samples: int = GANSPACE_SAMPLES) -> gr.Blocks:
    """The demo for a model folder or Hub repo id (default: the bundled checkpoint).

    Args:
        model_path: the default model for new sessions; users can load others in the Model tab.
        device: where models run.
        gpu: a decorator for the handlers that run the networks (`spaces.GPU` on ZeroGPU).
        ganspace_samples: mapped samples for GANSpace when a model ships no GANSpace directions.

    Raises:
        OSError / ValueError: the model cannot be loaded (the message says why).
    """
    ctx = AppContext(model_path or DEFAULT_MODEL, device, ganspace_samples=ganspace_samples)
    h = Handlers(ctx)
    run = lambda fn: user_errors(gpu(fn))  # noqa: E731
    loaded = ctx.get(ctx.default_key)
    arch = loaded.model.arch
    with gr.Blocks(title="StyleALAE editor", analytics_enabled=False, delete_cache=(1800, 3600)) as demo:
        session = gr.State(new_session(ctx.default_key))
        gr.Markdown("# StyleALAE editor\nSample, encode, mix and edit with an Adversarial Latent Autoencoder "
                    "([Pidhorskyi et al., CVPR 2020](https://arxiv.org/abs/2004.04467)).")
        with gr.Tabs(selected="sample") as tabs:
            sample_ui = _sample_tab(h, run, session, arch)
            encode_ui = _encode_tab(h, run, session)
            mix_ui = _mix_tab(h, run, session, loaded)
            edit_ui = _edit_tab(h, run, session, loaded)
            model_ui = _model_tab(h, run, session, loaded)
        _wire_cross_tab(h, run, session, tabs, sample_ui, encode_ui, mix_ui, edit_ui, model_ui)
        demo.load(user_errors(h.model_info), [session], [model_ui["status"], model_ui["info"], model_ui["card"]],
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
                    dice = gr.Button("🎲 Random", scale=1, min_width=80, elem_id="sample-dice")
                n = gr.Slider(1, MAX_IMAGES, 8, step=1, label="Number of images", elem_id="sample-n")
                psi = gr.Slider(*PSI_RANGE, arch.truncation_psi, step=0.05, label="Truncation ψ",
                                info="1 = off, 0 = the mean face", elem_id="sample-psi")
                cutoff = gr.Slider(0, arch.num_styles, min(arch.truncation_cutoff, arch.num_styles), step=1,
                                   label="Truncation cutoff", info="ψ applies to the first N styles")
                with gr.Row():
                    noise = gr.Radio(NOISE_CHOICES, value="fixed seed", label="Noise", scale=2)
                    noise_seed = gr.Number(0, label="Noise seed", precision=0, minimum=0, maximum=SEED_MAX, scale=1)
                go = gr.Button("Generate", variant="primary", elem_id="sample-go")
            with gr.Column(scale=2):
                gallery = gr.Gallery(label="Samples (click one to select it)", columns=4, format="png", height=420,
                                     object_fit="contain", elem_id="sample-gallery", allow_preview=False)
                info = gr.Markdown(elem_id="sample-info")
                with gr.Row():
                    index = gr.Number(0, label="Selected image #", precision=0, minimum=0, scale=1)
                    send = gr.Button("Send to Edit ➜", scale=1, elem_id="sample-send")
    args = [session, n, psi, cutoff, noise, noise_seed]
    go.click(run(h.sample), [session, seed, *args[1:]], [gallery, info, session], api_name="sample", **MODEL_EVENT)
    dice.click(run(h.sample_random), args, [seed, gallery, info, session], api_name="sample_random", **MODEL_EVENT)
    gallery.select(h.select, None, index, api_name="select_sample", show_progress="hidden", queue=False)
    return {"index": index, "send": send, "cutoff": cutoff}


def _encode_tab(h: Handlers, run: Callable, session: gr.State) -> dict[str, Any]:
    with gr.Tab("Encode & reconstruct", id="encode"):
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                files = gr.File(label=f"Images (up to {MAX_IMAGES}; any format, cropped to a square)",
                                file_count="multiple", file_types=["image"], elem_id="encode-files")
                go = gr.Button("Encode & reconstruct", variant="primary", elem_id="encode-go")
            with gr.Column(scale=2):
                gallery = gr.Gallery(label="Original | reconstruction", columns=3, format="png", height=420,
                                     object_fit="contain", elem_id="encode-gallery", allow_preview=False)
                table = gr.Markdown(elem_id="encode-table")
                with gr.Row():
                    index = gr.Number(0, label="Selected image #", precision=0, minimum=0, scale=1)
                    send = gr.Button("Edit this ➜", scale=1, elem_id="encode-send")
    go.click(run(h.encode), [session, files], [gallery, table, session], api_name="encode", **MODEL_EVENT)
    gallery.select(h.select, None, index, api_name="select_encoded", show_progress="hidden", queue=False)
    return {"index": index, "send": send}


def _mix_tab(h: Handlers, run: Callable, session: gr.State, loaded: LoadedModel) -> dict[str, Any]:
    with gr.Tab("Style mixing", id="mix"):
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                src_seeds = gr.Textbox("1, 2, 3, 4, 5", label="Source seeds (top row)", info="e.g. 1, 2, 5-8")
                src_files = gr.File(label="…and/or source images", file_count="multiple", file_types=["image"],
                                    height=110, elem_id="mix-src-files")
                dst_seeds = gr.Textbox("10, 11, 12", label="Destination seeds (left column)")
                dst_files = gr.File(label="…and/or destination images", file_count="multiple", file_types=["image"],
                                    height=110)
                with gr.Row():
                    layers = gr.Dropdown(_mix_choices(loaded.layer_choices()), value="coarse",
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
    go.click(run(h.mix), [session, src_seeds, src_files, dst_seeds, dst_files, psi, layers, custom, noise_seed],
             [grid, info], api_name="mix", **MODEL_EVENT)
    return {"layers": layers}


def _edit_tab(h: Handlers, run: Callable, session: gr.State, loaded: LoadedModel) -> dict[str, Any]:
    arch = loaded.model.arch
    # Initial view (shared by new sessions): the default base, SeFa on all styles.
    image0, labels0, k0, info0 = h.edit_view(loaded)
    with gr.Tab("Edit", id="edit"):
        with gr.Row():
            with gr.Column(scale=1, min_width=260):
                base = gr.Image(image0, label="Base", format="png", type="pil", interactive=False, height=240,
                                elem_id="edit-base", elem_classes="upscale")
                with gr.Accordion("Base from a seed", open=True):
                    with gr.Row():
                        seed = gr.Number(0, label="Seed", precision=0, minimum=0, maximum=SEED_MAX, scale=2,
                                         elem_id="edit-seed")
                        psi = gr.Slider(*PSI_RANGE, arch.truncation_psi, step=0.05, label="ψ", scale=3)
                    from_seed = gr.Button("Use this seed", elem_id="edit-from-seed")
                upload = gr.Image(label="…or upload a photo to encode", type="filepath",
                                  sources=["upload", "clipboard"],
                                  height=160, elem_id="edit-upload")
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
                sliders = [gr.Slider(-ALPHA_MAX, ALPHA_MAX, 0.0, step=0.1, label=labels0[i],
                                     visible=i < k0, elem_id=f"edit-slider-{i}") for i in range(MAX_K)]
                info = gr.Markdown(info0, elem_id="edit-info")
        with gr.Accordion("Traversal of one direction (strip + GIF)", open=True):
            with gr.Row():
                direction = gr.Dropdown([str(i + 1) for i in range(k0)], value="1", label="Direction", scale=1)
                extent = gr.Slider(0.5, 3 * ALPHA_MAX, 3.0, step=0.5, label="Extent (± σ)", scale=2)
                steps = gr.Slider(*STEPS_RANGE, 7, step=2, label="Frames", scale=2)
                go_traverse = gr.Button("Make traversal", scale=1, elem_id="edit-traverse")
            with gr.Row():
                strip = gr.Image(label="Traversal strip", format="png", type="pil", interactive=False, height=160,
                                 scale=3, elem_id="edit-strip", elem_classes="upscale")
                gif = gr.Image(label="Animated GIF", type="filepath", interactive=False, height=160, scale=1,
                               elem_id="edit-gif", elem_classes="upscale", buttons=["download"])
    ui = {"base": base, "edited": edited, "sliders": sliders, "method": method, "layers": layers, "k": k,
          "info": info, "direction": direction}
    setting = [session, method, layers, custom]
    base_out = [session, base, edited, *sliders]
    from_seed.click(run(h.edit_base_from_seed), [session, seed, psi], base_out, api_name="edit_base_from_seed",
                    **MODEL_EVENT)
    upload.upload(run(h.edit_base_from_upload), [session, upload], base_out, api_name="edit_base_from_upload",
                  **MODEL_EVENT)
    gr.on([method.change, layers.change, custom.submit, k.release], run(h.directions), [*setting, k],
          [*sliders, direction, info, edited], api_name="directions", show_progress="minimal", **MODEL_EVENT)
    # Live editing: every slider change, only the newest pending value runs (always_last).
    gr.on([s.change for s in sliders], run(h.edit), [*setting, *sliders], edited, api_name="edit", **SLIDER_EVENT)
    reset.click(run(h.reset), [session], [*sliders, edited], api_name="reset", **SLIDER_EVENT)
    go_traverse.click(run(h.traversal), [*setting, direction, extent, steps, *sliders], [strip, gif],
                      api_name="traversal", **MODEL_EVENT)
    export.click(run(h.export), [*setting, *sliders], files, api_name="export", **MODEL_EVENT)
    return ui


def _model_tab(h: Handlers, run: Callable, session: gr.State, loaded: LoadedModel) -> dict[str, Any]:
    with gr.Tab("Model", id="model"):
        with gr.Row():
            source = gr.Textbox(loaded.key, label="Hub repo id (owner/name) or local folder", scale=4,
                                elem_id="model-source")
            load = gr.Button("Load", variant="primary", scale=1, elem_id="model-load")
        status = gr.Markdown(elem_id="model-status")
        with gr.Row():
            with gr.Column(scale=1):
                info = gr.Markdown(elem_id="model-info")
            with gr.Column(scale=1):
                with gr.Accordion("Model card", open=True):
                    card = gr.Markdown(elem_id="model-card")
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
    model_ui["load"].click(run(h.load_model), [session, model_ui["source"]], outputs, api_name="load_model",
                           concurrency_limit=1, concurrency_id="load_model")


# ---- command line ------------------------------------------------------------------------------
# Model outputs are small (32-256 px): scale them up to their boxes instead of showing them at 1:1.
CSS = """
.upscale img { width: 100%; height: 100%; object-fit: contain; }
"""


def launch_options(host: str = "127.0.0.1", port: int | None = None, share: bool = False) -> dict[str, Any]:
    """`launch()` arguments shared by `main` and spaces/app.py (theme/css go to launch in Gradio 6)."""
    return {"server_name": host, "server_port": port, "share": share, "ssr_mode": False,
            "max_file_size": MAX_FILE_SIZE, "show_error": False, "css": CSS}


def serving_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads for serving: by default CPU cores / concurrency limit.

    Requests already run CONCURRENCY at a time; more threads per request only oversubscribe, and
    when a co-tenant holds a core, two spinning threads on a 2-core box turned a 14 ms slider edit
    into ~770 ms (64 px model, measured with bench/app_latency.py's direct calls)."""
    threads = threads or max(1, (os.cpu_count() or 1) // CONCURRENCY)
    torch.set_num_threads(threads)
    return threads


def missing_default_message(path: Path = DEFAULT_MODEL) -> str:
    return (f"The bundled default checkpoint is missing: {path} does not exist (it is produced by training; see "
            "README.md). Start the app on another model with `python app.py --model DIR_OR_HUB_REPO_ID` "
            "or set ALAE_MODEL.")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=os.environ.get("ALAE_MODEL") or str(DEFAULT_MODEL),
                        help="StyleALAE folder or Hub repo id (default: env ALAE_MODEL, else the bundled checkpoint)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default: env GRADIO_SERVER_PORT or 7860+)")
    parser.add_argument("--share", action="store_true", help="create a public gradio.live link (off by default)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=None,
                        help=f"torch threads (default: CPU cores / {CONCURRENCY} concurrent requests, at least 1)")
    args = parser.parse_args(argv)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if Path(args.model) == DEFAULT_MODEL and not DEFAULT_MODEL.is_dir():
        print(missing_default_message(), file=sys.stderr)
        return 2
    serving_threads(args.threads)
    try:
        demo = build_app(args.model, device=args.device)
    except (OSError, ValueError) as err:
        print(f"Could not load the model {args.model!r}: {err}", file=sys.stderr)
        return 2
    demo.launch(**launch_options(args.host, args.port, args.share))
    return 0


if __name__ == "__main__":
    sys.exit(main())
