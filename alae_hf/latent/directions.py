"""The `Directions` type: K latent directions in W with their σ and provenance, and its files
(`<name>.safetensors` + `<name>.json`, in a model folder's `directions/`).

SeFa and GANSpace (`alae_hf.latent.spectral`) and learned Voynov–Babenko directions
(`alae_hf.editing.learned`) all return a `Directions`; the app and the evaluation read it.

Sign convention (all methods): each vector's largest-magnitude coordinate is positive (the
first one on exact ties). Eigenvector signs are otherwise arbitrary: "+" would mean nothing.
σ convention: `sigma[k]` is the std of ⟨w − mean(w), v_k⟩ over w = F(z), z from
`numpy.random.RandomState(seed)`; an edit of α in "sigma" units moves w by α·σ_k·v_k.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors.torch import load_file, save_file

from ..models.loading import model_class
from .styles import describe_layers, describe_styles

if TYPE_CHECKING:
    from ..models.base import ALAEModel

METHODS = ("sefa", "ganspace", "voynov", "interfacegan", "custom")
SIGN_CONVENTION = "largest-magnitude coordinate of each vector is positive"
FORMAT = "alae_hf.directions"
FORMAT_VERSION = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


# ---- the Directions type -------------------------------------------------------------------
@dataclass
class Directions:
    """A set of K latent directions in W with what is needed to use them as sliders.

    Args:
        vectors: [K, Z] directions, one per row (unit norm for SeFa, GANSpace and Voynov).
        scores: [K] eigenvalues (SeFa), explained variances (GANSpace) or None.
        sigma: [K] std of ⟨w − mean, v_k⟩ over mapped samples; "sigma" units scale by it.
        method: one of "sefa", "ganspace", "voynov", "interfacegan" (`editing.supervised`), "custom".
        layers: style indices the directions were computed for and are applied to by default.
        provenance: JSON-serialisable facts (model fingerprint, samples, seed, date, ...).
    """

    vectors: torch.Tensor
    scores: torch.Tensor | None
    sigma: torch.Tensor
    method: str
    layers: list[int]
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        v, s = self.vectors, self.sigma
        if (
            not isinstance(v, torch.Tensor)
            or v.ndim != 2
            or v.shape[0] < 1
            or not v.is_floating_point()
        ):
            raise ValueError(
                f"vectors must be a float tensor [K, Z] with K >= 1, got {getattr(v, 'shape', v)}"
            )
        for name, t in (("sigma", s), ("scores", s if self.scores is None else self.scores)):
            if not isinstance(t, torch.Tensor) or tuple(t.shape) != (v.shape[0],):
                raise ValueError(
                    f"{name} must be a tensor [{v.shape[0]}], got {getattr(t, 'shape', t)}"
                )
        if not (torch.isfinite(v).all() and torch.isfinite(s).all() and (s >= 0).all()):
            raise ValueError("vectors and sigma must be finite and sigma non-negative")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        layers = [int(k) for k in self.layers]
        if not layers or layers != sorted(set(layers)) or layers[0] < 0:
            raise ValueError(
                f"layers must be sorted, distinct, non-negative style indices, got {self.layers!r}"
            )
        self.layers = layers
        json.dumps(self.provenance)  # fail now, not at save time

    def __repr__(self) -> str:
        """A one-line summary (the tensors would print thousands of numbers)."""
        sigma = self.sigma[:3].tolist()
        more = ", ..." if self.num_directions > 3 else ""
        source = (
            self.provenance.get("model", {}).get("name_or_path")
            if isinstance(self.provenance.get("model"), dict)
            else None
        )
        return (
            f"Directions(method={self.method!r}, num_directions={self.num_directions}, "
            f"latent_size={self.latent_size}, layers={describe_layers(self.layers)}, "
            f"sigma=[{', '.join(f'{x:.3g}' for x in sigma)}{more}], scores={self.scores is not None}"
            + (f", model={Path(str(source)).name!r}" if source else "")
            + ")"
        )

    @property
    def num_directions(self) -> int:
        return self.vectors.shape[0]

    @property
    def latent_size(self) -> int:
        return self.vectors.shape[1]

    def check_compatible(self, latent_size: int, num_styles: int, what: str = "this model") -> None:
        """Raise a clear error if these directions cannot edit a model of that shape."""
        if self.latent_size != latent_size:
            raise ValueError(
                f"these {self.method} directions have latent size {self.latent_size}, but {what} has "
                f"latent size {latent_size}: they were computed for another model "
                f"({self.provenance.get('model', 'unknown model')})"
            )
        if self.layers[-1] >= num_styles:
            raise ValueError(
                f"these directions are meant for styles {self.layers}, but {what} has only "
                f"{num_styles} styles ({describe_styles(num_styles)})"
            )

    def save_to(self, path: str | Path, overwrite: bool = True) -> Path:
        """Write `path.safetensors` and `path.json` (a given suffix is dropped); returns the stem.

        Raises:
            FileExistsError: `overwrite` is False and either file exists (nothing is written).
        """
        stem = _stem(path)
        existing = existing_pair(stem)
        if existing and not overwrite:
            raise FileExistsError(
                f"{existing[0]} already exists (a saved direction set); not replacing it"
            )
        stem.parent.mkdir(parents=True, exist_ok=True)
        named = {"vectors": self.vectors, "sigma": self.sigma, "scores": self.scores}
        tensors = {
            k: t.detach().to("cpu", torch.float32).contiguous()
            for k, t in named.items()
            if t is not None
        }
        save_file(tensors, str(stem.with_suffix(".safetensors")), metadata={"format": FORMAT})
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "method": self.method,
            "num_directions": self.num_directions,
            "latent_size": self.latent_size,
            "layers": self.layers,
            "has_scores": self.scores is not None,
            "sign_convention": self.provenance.get("sign", SIGN_CONVENTION),
            "sigma": "std of <w - mean(w), v_k> over mapped samples; 'sigma' units move w by alpha*sigma_k*v_k",
            "provenance": self.provenance,
        }
        stem.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        return stem

    def save(self, folder: str | Path, name: str, overwrite: bool = True) -> Path:
        """Write `folder/directions/<name>.safetensors` and `<name>.json` (e.g. into a model folder);
        `overwrite=False` refuses to replace a set of that name (FileExistsError)."""
        return self.save_to(set_path(folder, name), overwrite)

    @classmethod
    def load_from(cls, path: str | Path, model: ALAEModel | None = None) -> Directions:
        """Read a pair written by `save_to`, strictly; if `model` is given, check it fits."""
        stem = _stem(path)
        tensor_path, json_path = stem.with_suffix(".safetensors"), stem.with_suffix(".json")
        if not (tensor_path.is_file() and json_path.is_file()):
            raise FileNotFoundError(
                f"missing {tensor_path} or {json_path} (a .safetensors + .json pair)"
            )
        meta = json.loads(json_path.read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{json_path} is not {FORMAT} version {FORMAT_VERSION} metadata")
        tensors = load_file(str(tensor_path))
        expected = {"vectors", "sigma"} | ({"scores"} if meta.get("has_scores") else set())
        if set(tensors) != expected:
            raise ValueError(
                f"{tensor_path} holds tensors {sorted(tensors)}, expected {sorted(expected)}"
            )
        shape = (meta.get("num_directions"), meta.get("latent_size"))
        if tuple(tensors["vectors"].shape) != shape:
            raise ValueError(
                f"{tensor_path}: vectors {tuple(tensors['vectors'].shape)} but metadata says {shape}"
            )
        out = cls(
            tensors["vectors"],
            tensors.get("scores"),
            tensors["sigma"],
            meta.get("method"),
            meta.get("layers", []),
            meta.get("provenance", {}),
        )
        if model is not None:
            out.check_compatible(model.arch.latent_size, model.arch.num_styles)
        return out

    @classmethod
    def load(cls, folder: str | Path, name: str, model: ALAEModel | None = None) -> Directions:
        """Read `folder/directions/<name>`; check it against `model`, or else against
        `folder/config.json` when the folder is a model folder."""
        out = cls.load_from(Path(folder) / "directions" / _check_name(name), model)
        config = Path(folder) / "config.json"
        if model is None and config.is_file():
            arch = json.loads(config.read_text(encoding="utf-8"))
            if "latent_size" in arch and "resolution" in arch:
                fields = {k: v for k, v in arch.items() if not k.startswith("_")}
                styles = model_class(arch.get("_class_name")).arch_class(**fields).num_styles
                out.check_compatible(arch["latent_size"], styles, f"the model in {folder}")
        return out


def set_path(folder: str | Path, name: str) -> Path:
    """Where `Directions.save(folder, name)` writes: `folder/directions/<name>` (no suffix)."""
    return Path(folder) / "directions" / _check_name(name)


def existing_pair(path: str | Path) -> list[Path]:
    """The files of the `.safetensors` + `.json` pair named by `path` that already exist."""
    stem = _stem(path)
    return [p for p in (stem.with_suffix(".safetensors"), stem.with_suffix(".json")) if p.exists()]


def _stem(path: str | Path) -> Path:
    return (
        Path(path).with_suffix("") if Path(path).suffix in (".safetensors", ".json") else Path(path)
    )


def _check_name(name: str) -> str:
    if (
        not isinstance(name, str)
        or not _NAME.match(name)
        or name.endswith((".json", ".safetensors"))
    ):
        raise ValueError(
            f"a directions name is letters, digits, '_', '.', '-' (no suffix, no path), got {name!r}"
        )
    return name


def list_directions(folder: str | Path) -> list[str]:
    """Names of the complete direction sets saved in `folder/directions/`, sorted."""
    root = Path(folder) / "directions"
    return sorted(p.stem for p in root.glob("*.safetensors") if p.with_suffix(".json").is_file())
