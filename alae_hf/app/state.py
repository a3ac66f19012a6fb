"""The editor app's shared state without the UI: loaded models, direction sets, output files.

`alae_hf.app.ui` (Gradio) is a layout over this module, `alae_hf.app.inputs` (what a request may
ask for) and `alae_hf.app.actions` (what each event computes). Nothing here imports gradio: a
model that cannot be loaded raises `OSError` / `ValueError` with a readable message.

`Studio` is what all sessions of one app share: an LRU of loaded models (the default pinned)
and of direction sets per (model, method, styles), and a private folder of output files.
Sessions only keep a model key and their own latents: a frozen `Session` (`new_session`), changed
with `dataclasses.replace` by the actions and handed back to Gradio as a whole. With `public=True` (a Space,
or `--public`) the Studio loads only Hub repo ids and the bundled models, never server folders.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import tempfile
import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from ..latent.directions import Directions, list_directions
from ..latent.spectral import ganspace, sefa
from ..latent.styles import layer_range
from ..models.base import ALAEModel
from ..models.loading import load as load_model
from .inputs import ALPHA_MAX, LAYER_CHOICES, MAX_K
from .sliders import SliderSet, slider_set
from .sources import HUB_ID, bundled_models, display_name, download, resolve_folder

LOG = logging.getLogger("alae_app")

GANSPACE_SAMPLES = 50_000  # when a model folder ships no GANSpace directions
METHODS = {"SeFa": "sefa", "GANSpace": "ganspace", "learned": "voynov"}

Progress = Callable[[float, str], None]


class _ByName:
    """Read access by field name (`state["base"]`), as the dict-era session offered it."""

    def __getitem__(self, name: str) -> Any:
        if name not in {f.name for f in fields(self)}:  # type: ignore[arg-type]
            raise KeyError(name)
        return getattr(self, name)

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name, default)


@dataclass(frozen=True, eq=False)
class EditBase(_ByName):
    """The image the Edit tab moves: its w+ code on `model`, noise seed (None: no noise) and a
    label saying what it is; `seed` and `psi` when it is a seed's sample (None for an upload)."""

    model: str
    w: torch.Tensor
    noise: int | None
    label: str
    seed: int | None = None
    psi: float | None = None


@dataclass(frozen=True, eq=False)
class Samples(_ByName):
    """The Sample tab's last images: their w+ codes, noise (one seed per image, one for all, or
    None) and the settings that made them, so that one can be sent to Edit."""

    model: str
    w: torch.Tensor
    noise: list[int] | int | None
    seeds: list[int]
    psi: float
    cutoff: int


@dataclass(frozen=True, eq=False)
class EncodedImages(_ByName):
    """The Encode tab's last codes (refined as asked), the uploads' names, how they were encoded
    and the files that could not be read."""

    model: str
    w: torch.Tensor
    names: list[str]
    how: str
    skipped: list[str]


@dataclass(frozen=True)
class Session(_ByName):
    """One visitor's state (a `gr.State`): the model key, the edit base and the last results of
    the Sample and Encode tabs. Each is None until made, or was made on the model of its own
    `model` field; the actions check that before using it."""

    model: str
    base: EditBase | None = None
    samples: Samples | None = None
    encoded: EncodedImages | None = None

    def with_samples(self, loaded: Session) -> Session:
        """This session with the samples of `loaded` (an event that started from an older copy of
        it), unless it has its own: what the page-load sample adds, without undoing what the
        visitor did while it ran."""
        if self.samples is not None or loaded.samples is None or loaded.model != self.model:
            return self
        return replace(self, samples=loaded.samples)


def new_session(key: str) -> Session:
    """Per-session state: the model key, no edit base and no results yet."""
    return Session(key)


@dataclass
class LoadedModel:
    """A model with the folder it came from and the direction sets shipped in `folder/directions/`."""

    key: str
    folder: Path
    model: ALAEModel
    shipped: dict[str, Directions]
    card: str

    @property
    def name(self) -> str:
        """What the UI shows: the key, or a local folder's name (never a server path)."""
        return display_name(self.key)

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
    """Files handed to the UI in a private temp folder, one folder per output; old ones are deleted.

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


class Studio:
    """What all sessions share: loaded models (LRU, the default pinned) and direction sets per
    (model, method, layers). Sessions only keep a model key and their own latents.

    Args:
        default: the default model (folder or Hub repo id), loaded now and never evicted.
        device: where models run.
        max_models, max_directions: LRU sizes.
        ganspace_samples: mapped samples for GANSpace when a model ships no GANSpace directions.
        public: load only Hub repo ids and the bundled models after the default (a Space, `--public`).
        bundled: name -> folder of the bundled models (default: `checkpoints/*` of the checkout).

    Raises:
        OSError / ValueError: the default model cannot be loaded (the message says why).
    """

    def __init__(
        self,
        default: str | os.PathLike,
        device: str | torch.device = "cpu",
        max_models: int = 3,
        max_directions: int = 32,
        ganspace_samples: int = GANSPACE_SAMPLES,
        public: bool = False,
        bundled: dict[str, Path] | None = None,
    ) -> None:
        self.device = torch.device(device)
        self.public = public
        self.bundled = bundled_models() if bundled is None else dict(bundled)
        self.max_models, self.max_directions, self.ganspace_samples = (
            max_models,
            max_directions,
            ganspace_samples,
        )
        self._models: OrderedDict[str, LoadedModel] = OrderedDict()
        self._directions: OrderedDict[tuple, Directions] = OrderedDict()
        self._sliders: OrderedDict[tuple, SliderSet] = OrderedDict()
        self._lock = threading.RLock()
        self._compute_lock = threading.Lock()
        self.files = OutputFiles()
        self.default_key = ""
        self.default_key = self.load(default, trusted=True).key

    # models
    def _cached(self, key: str) -> LoadedModel | None:
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
        return None

    def key(self, source: str | os.PathLike) -> str:
        """The cache key of a source: a bundled model's name (also when given by its folder), else as given."""
        key = str(source).strip()
        if key and key not in self.bundled and os.path.isdir(key):
            here = Path(key).resolve()
            key = next(
                (name for name, folder in self.bundled.items() if folder.resolve() == here), key
            )
        return key

    def locate(self, key: str, trusted: bool = False) -> Path:
        """The folder of a model key; in public mode only bundled names and Hub repo ids."""
        if key in self.bundled:
            return self.bundled[key]
        if self.public and not trusted:
            names = ", ".join(sorted(self.bundled)) or "none"
            if not HUB_ID.fullmatch(key):
                raise OSError(
                    f"this app loads Hub repo ids (owner/name) and the bundled models ({names}), "
                    "not server folders"
                )
            return download(key)
        return resolve_folder(key)

    def load(
        self, source: str | os.PathLike, progress: Progress | None = None, trusted: bool = False
    ) -> LoadedModel:
        """Load a folder, bundled model or Hub repo (raises OSError/ValueError with a readable
        message); the models already loaded stay as they are when it fails. `trusted` skips the
        public-mode restriction (the default model, models this Studio already loaded)."""
        key = self.key(source)
        cached = self._cached(key)
        if cached is not None:
            return cached
        report = progress or (lambda fraction, message: None)
        report(0.05, f"locating {display_name(key)}")
        folder = self.locate(key, trusted)
        report(0.5, "loading weights")
        try:
            # StyleALAE or MLPALAE, as its config says
            model: ALAEModel = load_model(folder).to(self.device).eval()  # type: ignore[arg-type]
        except (OSError, ValueError) as err:
            if str(folder) == key:
                raise
            # a bundled or downloaded model: name it as the user knows it, not by its server path
            raise type(err)(str(err).replace(str(folder), key)) from err
        report(0.85, "reading directions")
        shipped = {}
        for name in list_directions(folder):
            try:
                shipped[name] = Directions.load(folder, name, model)
            except (OSError, ValueError) as err:
                LOG.warning("skipping directions %s in %s: %s", name, folder, err)
        card_path = folder / "README.md"
        card = (
            card_path.read_text(encoding="utf-8", errors="replace") if card_path.is_file() else ""
        )
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
        cached = self._cached(key)
        if cached is not None:
            return cached
        try:
            return self.load(key, trusted=True)  # a key this Studio loaded before (then evicted)
        except (OSError, ValueError):
            return self._models[self.default_key]

    # directions
    def directions(
        self, loaded: LoadedModel, method: str, layers: list[int], progress: Progress | None = None
    ) -> Directions:
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
            found = find_directions(loaded, method, layers, self.ganspace_samples, progress)
        with self._lock:
            self._directions[cache_key] = found
            while len(self._directions) > self.max_directions:
                self._directions.popitem(last=False)
        return found

    def sliders(
        self, loaded: LoadedModel, label: str, layers: list[int], progress: Progress | None = None
    ) -> SliderSet:
        """The MAX_K sliders of `label`'s directions on `layers`: sorted, labelled, ranged (once per set)."""
        found = self.directions(loaded, METHODS[label], layers, progress)
        cache_key = (id(found), label)
        with self._lock:
            if cache_key in self._sliders and self._sliders[cache_key].directions is found:
                return self._sliders[cache_key]
        made = slider_set(
            loaded.model, loaded.folder, found, label, MAX_K, ALPHA_MAX, progress=progress
        )
        with self._lock:
            self._sliders[cache_key] = made
            while len(self._sliders) > self.max_directions:
                self._sliders.popitem(last=False)
        return made


def find_directions(
    loaded: LoadedModel,
    method: str,
    layers: list[int],
    ganspace_samples: int = GANSPACE_SAMPLES,
    progress: Progress | None = None,
) -> Directions:
    """Directions of `method` for `layers`: shipped with the model if it has them (`pick_shipped`),
    else computed (SeFa from the weights; GANSpace from `ganspace_samples` mapped samples, at most
    32 components). Raises ValueError for a method that is only shipped ("learned")."""
    found = pick_shipped(loaded, method, layers)
    if found is None and method == "sefa":
        found = sefa(loaded.model, layers)
    elif found is None and method == "ganspace":
        found = ganspace(
            loaded.model,
            n_samples=ganspace_samples,
            n_components=min(32, loaded.model.arch.latent_size),
            layers=layers,
            progress=progress,
        )
    elif found is None:
        raise ValueError(f"{loaded.name} ships no {method} directions")
    return found


def pick_shipped(loaded: LoadedModel, method: str, layers: list[int]) -> Directions | None:
    """A shipped set of `method`: the one computed for exactly `layers`, else (for layer-free
    methods: GANSpace PCA, learned) the first one, applied to `layers`."""
    candidates = [d for _, d in sorted(loaded.shipped.items()) if d.method == method]
    exact = [d for d in candidates if d.layers == list(layers)]
    if exact:
        return exact[0]
    return candidates[0] if candidates and method != "sefa" else None
