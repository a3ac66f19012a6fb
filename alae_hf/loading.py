"""Hub loading shared by every ALAE model class, and `load(path)`, which opens any of them.

`HubModel` holds what `StyleALAE` and `MLPALAE` have in common on the Hub: strict safetensors
loading (a missing, unexpected or mis-shaped key raises), a `config.json` whose `_class_name`
names the architecture, our own model card on save, and `push_to_hub` through that save.
`load` reads `_class_name` and hands the folder to the matching class.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Sequence
from importlib import import_module
from typing import Any

import numpy as np
import torch

from diffusers.configuration_utils import ConfigMixin
from diffusers.models.modeling_utils import ModelMixin
from huggingface_hub.utils import HFValidationError, validate_repo_id

from .config import SEED_MAX
from .hub import config_problem, offline, push_folder, weights_problems

# config.json `_class_name` -> module (relative to alae_hf) holding that class.
MODEL_CLASSES = {"StyleALAE": "model", "MLPALAE": "mlp"}
# What a model folder carries besides config, weights and card: direction sets and the evaluation report.
FOLDER_EXTRAS = ("directions", "report")


def copy_folder_extras(source: str | os.PathLike | None, target: str | os.PathLike) -> list[str]:
    """Copy `directions/` and `report/` of the local folder a model was loaded from (its config's
    `_name_or_path`) into `target`, so that saving a loaded model keeps them; files already in
    `target` win. Returns the copied folder names (none for a model built in memory or loaded
    from the Hub, or when source and target are the same folder)."""
    import shutil

    if not source or not os.path.isdir(source) or os.path.realpath(source) == os.path.realpath(target):
        return []
    copied = []
    for name in FOLDER_EXTRAS:
        if os.path.isdir(os.path.join(source, name)):
            shutil.copytree(os.path.join(source, name), os.path.join(target, name), dirs_exist_ok=True,
                            copy_function=lambda src, dst: None if os.path.exists(dst) else shutil.copy2(src, dst))
            copied.append(name)
    return copied


class HubModel(ModelMixin, ConfigMixin):
    """Base of the ALAE model classes: strict `from_pretrained`, `save_pretrained` with a
    model card, `push_to_hub`, and the latent conventions every ALAE shares (seeded z, the
    running mean `w_avg`). A subclass has `arch` (with `latent_size`, `w_avg_beta`) and a
    `w_avg` buffer, and returns its card text from `_model_card`."""

    def _model_card(self) -> str:
        raise NotImplementedError

    @property
    def num_styles(self) -> int:
        """Styles in w+ (2 per StyleALAE block; 1 for the MLP ALAE)."""
        return self.arch.num_styles

    def _lod(self, lod: int | None) -> int:
        """A level of detail checked against the config (None: full resolution)."""
        if lod is None:
            return self.arch.max_lod
        if not 0 <= lod <= self.arch.max_lod:
            raise ValueError(f"lod must be in [0, {self.arch.max_lod}], got {lod}")
        return lod

    def _set_networks(self, arch: Any, mapping: torch.nn.Module, generator: torch.nn.Module,
                      encoder: torch.nn.Module, discriminator: torch.nn.Module) -> None:
        """The four ALAE networks under their state-dict names (public API: `mapping.*`,
        `generator.*`, `encoder.*`, `discriminator.*`, `w_avg`), and `w_avg` [num_styles, Z]."""
        self.arch = arch
        self.mapping, self.generator, self.encoder, self.discriminator = mapping, generator, encoder, discriminator
        self.register_buffer("w_avg", torch.zeros(arch.num_styles, arch.latent_size))

    @torch.no_grad()
    def update_w_avg(self, w: torch.Tensor) -> None:
        """EMA of the batch mean of w with decay `w_avg_beta` (training only; official
        `DLatent` update, applied to every row)."""
        target = w.detach().reshape(-1, self.arch.latent_size).mean(0).to(self.w_avg.dtype)
        self.w_avg.copy_(torch.lerp(target.expand_as(self.w_avg), self.w_avg, self.arch.w_avg_beta))

    def seed_latents(self, n: int, seed: int | Sequence[int]) -> torch.Tensor:
        """z [n, Z] from `numpy.random.RandomState(seed)` (the seed convention of NVlabs and the
        official ALAE figure scripts), on the model's device and dtype. A list of seeds gives
        one row per seed (each the first row of its own seed), as NVlabs `generate.py --seeds`."""
        if isinstance(seed, Sequence):
            if len(seed) != n:
                raise ValueError(f"got {len(seed)} seeds for {n} latents")
            return torch.cat([self.seed_latents(1, s) for s in seed]) if n else self.seed_latents(0, 0)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= SEED_MAX:
            raise ValueError(f"seed must be an integer in [0, {SEED_MAX}], got {seed!r}")
        z = np.random.RandomState(seed).randn(n, self.arch.latent_size)
        return torch.from_numpy(z).to(self.device, self.dtype)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs: Any) -> "HubModel":
        """Load `config.json` + safetensors from a folder or Hub repo id, strictly.

        Accepts diffusers' keyword arguments (`torch_dtype`, `variant`, `subfolder`,
        `revision`, `local_files_only`, ...). A missing, unexpected or mis-shaped key raises,
        and so does a folder that holds another architecture (see `alae_hf.load`). A local
        folder is checked first (`check_local_folder`), so a bad path or file is one line.

        Raises:
            OSError: no such folder or repo, a file instead of a folder, a symlink loop, pickle
                (`.bin`) weights only, a truncated or corrupt safetensors file.
            ValueError: the weights or the class do not match the config.
        """
        want_info = kwargs.pop("output_loading_info", False)
        path = os.fspath(pretrained_model_name_or_path)
        folder = check_local_folder(path, kwargs.get("subfolder"))
        config = read_config(cls, path, kwargs)
        if config.get("_class_name") not in (None, cls.__name__):
            raise ValueError(f"{path} holds a {config.get('_class_name')!r}, not a {cls.__name__} checkpoint")
        problems = weights_problems(folder, kwargs.get("variant")) if folder else []
        if problems:  # named here, before diffusers answers with a traceback or a pickle fallback
            raise OSError("; ".join(problems))
        kwargs.setdefault("use_safetensors", True)  # documented: safetensors only, never pickle
        model, info = super().from_pretrained(path, output_loading_info=True, **kwargs)
        problems = {k: v for k, v in info.items() if v}
        if problems:
            raise ValueError(f"{path}: the weights do not match the config: {problems}")
        return (model, info) if want_info else model

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs: Any) -> None:
        """Write config.json, safetensors and (if absent) a model card README.md."""
        super().save_pretrained(save_directory, **kwargs)
        readme = os.path.join(save_directory, "README.md")
        if kwargs.get("is_main_process", True) and not os.path.exists(readme):
            with open(readme, "w", encoding="utf-8") as handle:
                handle.write(self._model_card())
        if kwargs.get("is_main_process", True):
            copy_folder_extras(self.config.get("_name_or_path"), save_directory)

    def push_to_hub(self, repo_id: str, commit_message: str | None = None, private: bool | None = None,
                    token: str | None = None, variant: str | None = None, **kwargs: Any) -> str:
        """Save to a temporary folder (with our model card, not diffusers') and upload it with
        `alae_hf.hub.push_folder` (one line, not a traceback, when offline or refused).

        Args:
            repo_id: the Hub repo (created if needed).
            commit_message, private, token, variant: as in diffusers.
            kwargs: `ignore_patterns` for the upload.
        """
        with tempfile.TemporaryDirectory() as folder:
            self.save_pretrained(folder, variant=variant)
            return push_folder(folder, repo_id, token=token, private=private,
                               commit_message=commit_message or f"Upload {type(self).__name__}",
                               ignore_patterns=kwargs.get("ignore_patterns"))


def read_config(cls: type[ConfigMixin], path: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """`config.json` of a folder or Hub repo, or an OSError that says what is missing."""
    what = cls.__name__ if cls is not HubModel else " folder nor an ".join(MODEL_CLASSES)  # "... folder" follows
    keys = ("cache_dir", "force_download", "local_files_only", "token", "revision", "subfolder", "proxies")
    try:
        return cls.load_config(path, **{k: kwargs[k] for k in keys if k in kwargs})
    except (OSError, ValueError) as err:
        raise OSError(_missing_message(path, err, what)) from err


def _missing_message(path: str, err: Exception, what: str) -> str:
    reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if os.path.isdir(path):
        return f"{path} is not a {what} folder: no readable config.json ({reason})"
    hint = " HF_HUB_OFFLINE is set, so only cached repos can load." if offline() else ""
    return f"could not load {path!r}: not a local folder, and not a reachable or cached Hub repo.{hint} ({reason})"


def _looks_local(path: str) -> bool:
    """A string that can only be a local path (not a Hub repo id such as `user/name`)."""
    if path.startswith(("/", ".", "~")) or "\\" in path or os.path.isabs(path):
        return True
    try:
        validate_repo_id(path)
    except HFValidationError:
        return True
    return False


def check_local_folder(path: str, subfolder: str | None = None) -> str | None:
    """The local model folder `path` (+ `subfolder`) names, checked; None for a Hub repo id.

    Raises:
        OSError: a local path that does not exist, a file, a symlink loop or dangling link, or a
            `config.json` that is not a JSON object (one line each).
    """
    if not os.path.lexists(path):
        if _looks_local(path):
            raise OSError(f"{path} does not exist (no such local folder)")
        return None  # a Hub repo id
    try:
        real = os.path.realpath(path, strict=True)
    except OSError as err:
        why = "a symlink loop" if err.errno == errno.ELOOP else "a link to nothing"
        raise OSError(f"{path} cannot be opened: it is {why}") from None
    if not os.path.isdir(real):
        raise OSError(f"{path} is a file; pass the folder that holds config.json and the safetensors weights")
    folder = os.path.join(real, subfolder) if subfolder else real
    if os.path.exists(os.path.join(folder, "config.json")):  # else read_config names what is missing
        problem = config_problem(folder)
        if problem:
            raise OSError(problem)
    return folder


def model_class(name: str | None) -> type[HubModel]:
    """The model class a config's `_class_name` names (None: a StyleALAE config from before the field)."""
    name = name or "StyleALAE"
    if name not in MODEL_CLASSES:
        raise ValueError(f"unknown model class {name!r}; alae_hf opens {sorted(MODEL_CLASSES)}")
    return getattr(import_module(f".{MODEL_CLASSES[name]}", __package__), name)


def model_class_for(arch: Any) -> type[HubModel]:
    """The model class of an architecture config: `MLPConfig` -> MLPALAE, `ALAEConfig` -> StyleALAE."""
    from .mlp_networks import MLPConfig

    return model_class("MLPALAE" if isinstance(arch, MLPConfig) else "StyleALAE")


def load(pretrained_model_name_or_path: str | os.PathLike, **kwargs: Any) -> HubModel:
    """Open a StyleALAE or MLPALAE folder (or Hub repo id) as the class its config names.

    Args:
        pretrained_model_name_or_path: local folder or Hub repo id.
        kwargs: passed to that class's strict `from_pretrained`.
    """
    path = os.fspath(pretrained_model_name_or_path)
    check_local_folder(path, kwargs.get("subfolder"))
    name = read_config(HubModel, path, kwargs).get("_class_name") or "StyleALAE"
    if name not in MODEL_CLASSES:
        raise ValueError(f"{path} holds a {name!r}, not a {' or '.join(MODEL_CLASSES)} checkpoint")
    return model_class(name).from_pretrained(path, **kwargs)
