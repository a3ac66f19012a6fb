"""`ALAEModel`: the interface both ALAEs implement, and what they share on the Hub.

`StyleALAE` (`alae_hf.models.style`) and `MLPALAE` (`alae_hf.models.mlp`, the paper's MNIST model) subclass it,
so everything above the models (training, editing, evaluation, the app) is typed against this
one class. What a model can do is asked of the model, never of its type:

- the four networks as methods: `map` (F), `synthesize` (G), `encode` (E), `discriminate` (D),
  `reconstruct`, `truncate`, `sample`, and the w+ and noise conventions (`to_w_plus`,
  `make_noise`, `noise_maps`);
- its styles: `num_styles`, `style_groups` (the named layer specs such as "coarse"),
  `supports_style_mixing`, and `style_affine(k)` (the layer that style k of w+ drives);
- its card: `card(...)`, the README.md that `save_pretrained` writes.

Shared here: strict safetensors loading (a missing, unexpected or mis-shaped key raises), a
`config.json` whose `_class_name` names the architecture (`alae_hf.load` reads it), our own model
card on save, `push_to_hub` through that save, and the latent conventions (seeded z, the running
mean `w_avg`). Pidhorskyi et al., "Adversarial Latent Autoencoders", CVPR 2020 (arXiv 2004.04467).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from diffusers.configuration_utils import ConfigMixin
from diffusers.models.modeling_utils import ModelMixin
from torch import nn
from typing_extensions import Self

from .card import card_for
from .config import SEED_MAX
from .hub import check_local_folder, copy_folder_extras, push_folder, read_config, weights_problems
from .layers import EqualLinear


# diffusers' two mixins declare `config_name` with different types; diffusers' models combine them alike.
class ALAEModel(ModelMixin, ConfigMixin):  # type: ignore[misc]
    """Base of the ALAE model classes: the model interface (see the module docstring), strict
    `from_pretrained`, `save_pretrained` with a model card, `push_to_hub`, seeded latents and
    the running mean of w.

    A subclass sets `arch_class` (its architecture config, which has `latent_size`,
    `num_styles`, `style_groups`, `max_lod`, `w_avg_beta`, ...) and `supports_style_mixing`,
    calls `_set_networks` in its constructor and implements the methods below that raise
    `NotImplementedError`.
    """

    arch_class: ClassVar[type]
    display_name: ClassVar[str]  # the default title of its card ("StyleALAE", "MLP ALAE")
    supports_style_mixing: ClassVar[bool]
    """Whether G reads several styles, so that mixing them and per-layer edits mean something."""
    arch: Any  # an instance of `arch_class`, set by `_set_networks`
    mapping: nn.Module
    generator: nn.Module
    encoder: nn.Module
    discriminator: nn.Module
    w_avg: torch.Tensor

    # ---- what the model can do ------------------------------------------------------------------
    @property
    def num_styles(self) -> int:
        """Styles in w+ (2 per StyleALAE block; 1 for the MLP ALAE)."""
        return self.arch.num_styles

    @property
    def style_groups(self) -> dict[str, list[int]]:
        """Named groups of style indices a layer spec may name besides "all" (StyleALAE: coarse,
        middle, fine; none for a model with one w)."""
        return self.arch.style_groups

    def style_affine(self, style_index: int) -> EqualLinear:
        """The layer of G that turns style `style_index` of w+ into its effect (an equalized-lr
        linear layer: SeFa factorises its weight)."""
        raise NotImplementedError

    def card(
        self,
        title: str | None = None,
        description: str = "",
        datasets: Sequence[str] = (),
        extra_sections: str = "",
        base_model: str | None = None,
        license: str = "cc-by-nc-4.0",
    ) -> str:
        """The model card (README.md with Hub metadata): what the model is, how to use it, its config
        (`alae_hf.models.card`); `license` is a Hub license id (the default is the official weights'
        terms)."""
        return card_for(
            self.arch,
            title=title or self.display_name,
            description=description,
            datasets=tuple(datasets),
            license=license,
            extra_sections=extra_sections,
            base_model=base_model,
        )

    # ---- the four networks, w+ and noise (F and D shared; the rest by each model) --------------------------
    def map(self, z: torch.Tensor) -> torch.Tensor:
        """F: z [N, Z] -> w [N, Z]."""
        if z.ndim != 2 or z.shape[1] != self.arch.latent_size:
            raise ValueError(
                f"expected z of shape [N, {self.arch.latent_size}], got {tuple(z.shape)}"
            )
        return self.mapping(z)

    def synthesize(
        self, w: torch.Tensor, noise: Any = None, lod: int | None = None, blend: float = 1.0
    ) -> torch.Tensor:
        """G: w [N, Z] or w+ [N, num_styles, Z] -> images [N, C, r, r] at level of detail `lod`."""
        raise NotImplementedError

    def encode(self, x: torch.Tensor, blend: float = 1.0) -> torch.Tensor:
        """E: images [N, C, r, r] in [-1, 1] -> w [N, Z]."""
        raise NotImplementedError

    def discriminate(self, w: torch.Tensor) -> torch.Tensor:
        """D: w [N, Z] -> real/fake logit [N]."""
        if w.ndim != 2 or w.shape[1] != self.arch.latent_size:
            raise ValueError(
                f"expected w of shape [N, {self.arch.latent_size}], got {tuple(w.shape)}"
            )
        return self.discriminator(w)

    def reconstruct(self, x: torch.Tensor, noise: Any = None) -> torch.Tensor:
        """G(E(x))."""
        raise NotImplementedError

    def truncate(
        self, w: torch.Tensor, psi: float | None = None, cutoff: int | None = None
    ) -> torch.Tensor:
        """The truncation trick toward `w_avg`; returns w+ [N, num_styles, Z]."""
        raise NotImplementedError

    def sample(
        self,
        n: int | None = None,
        seed: int | Sequence[int] = 0,
        truncation_psi: float | None = None,
        truncation_cutoff: int | None = None,
        noise: Any = "seed",
    ) -> torch.Tensor:
        """Images [n, C, R, R] in [-1, 1] from a seed, or one image per seed."""
        raise NotImplementedError

    def to_w_plus(self, w: torch.Tensor) -> torch.Tensor:
        """w [N, Z] -> w+ [N, num_styles, Z]; w+ passes through."""
        raise NotImplementedError

    def make_noise(
        self,
        batch: int,
        generator: torch.Generator | None = None,
        lod: int | None = None,
        batch_constant: bool = False,
    ) -> list[torch.Tensor]:
        """G's noise maps for `batch` images (an empty list for a G without noise inputs)."""
        raise NotImplementedError

    def noise_maps(
        self, noise: Any, batch: int, lod: int | None = None, batch_constant: bool = False
    ) -> list[torch.Tensor] | None:
        """A noise spec (`alae_hf.models.style.NoiseSpec`) resolved to the maps of `batch` images, or None."""
        raise NotImplementedError

    # ---- shared ---------------------------------------------------------------------------------
    def _lod(self, lod: int | None) -> int:
        """A level of detail checked against the config (None: full resolution)."""
        if lod is None:
            return self.arch.max_lod
        if not 0 <= lod <= self.arch.max_lod:
            raise ValueError(f"lod must be in [0, {self.arch.max_lod}], got {lod}")
        return lod

    def _set_networks(
        self,
        arch: Any,
        mapping: nn.Module,
        generator: nn.Module,
        encoder: nn.Module,
        discriminator: nn.Module,
    ) -> None:
        """The four ALAE networks under their state-dict names (public API: `mapping.*`,
        `generator.*`, `encoder.*`, `discriminator.*`, `w_avg`), and `w_avg` [num_styles, Z]."""
        self.arch = arch
        self.mapping, self.generator, self.encoder, self.discriminator = (
            mapping,
            generator,
            encoder,
            discriminator,
        )
        self.register_buffer("w_avg", torch.zeros(arch.num_styles, arch.latent_size))

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
            return (
                torch.cat([self.seed_latents(1, s) for s in seed]) if n else self.seed_latents(0, 0)
            )
        if (
            isinstance(seed, bool)
            or not isinstance(seed, (int, np.integer))
            or not 0 <= seed <= SEED_MAX
        ):
            raise ValueError(f"seed must be an integer in [0, {SEED_MAX}], got {seed!r}")
        z = np.random.RandomState(seed).randn(n, self.arch.latent_size)
        return torch.from_numpy(z).to(self.device, self.dtype)

    @classmethod
    def from_pretrained(
        cls, pretrained_model_name_or_path: str | os.PathLike | None, **kwargs: Any
    ) -> Self:
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
        if pretrained_model_name_or_path is None:
            raise ValueError("from_pretrained needs a model folder or a Hub repo id")
        path = os.fspath(pretrained_model_name_or_path)
        folder = check_local_folder(path, kwargs.get("subfolder"))
        config = read_config(cls, path, kwargs)
        if config.get("_class_name") not in (None, cls.__name__):
            raise ValueError(
                f"{path} holds a {config.get('_class_name')!r}, not a {cls.__name__} checkpoint"
            )
        problems = weights_problems(folder, kwargs.get("variant")) if folder else []
        if problems:  # named here, before diffusers answers with a traceback or a pickle fallback
            raise OSError("; ".join(problems))
        kwargs.setdefault("use_safetensors", True)  # documented: safetensors only, never pickle
        loaded: Any = super().from_pretrained(path, output_loading_info=True, **kwargs)
        model, info = loaded  # diffusers: output_loading_info=True gives (model, info)
        mismatched = {k: v for k, v in info.items() if v}
        if mismatched:
            raise ValueError(f"{path}: the weights do not match the config: {mismatched}")
        if want_info:  # diffusers' convention, kept: the pair instead of the model
            return (model, info)  # type: ignore[return-value]
        return model

    # Keyword arguments pass on to diffusers (`variant`, `max_shard_size`, `is_main_process`, ...).
    def save_pretrained(  # type: ignore[override]
        self, save_directory: str | os.PathLike, **kwargs: Any
    ) -> None:
        """Write config.json, safetensors and (if absent) a model card README.md.

        Raises:
            NotADirectoryError: `save_directory` is an existing file (nothing is written).
        """
        if os.path.isfile(save_directory):
            raise NotADirectoryError(
                f"{os.fspath(save_directory)} is a file, not a folder; save_pretrained writes a "
                "folder (config.json, weights, README.md): give a folder path"
            )
        super().save_pretrained(save_directory, **kwargs)
        readme = os.path.join(save_directory, "README.md")
        if kwargs.get("is_main_process", True) and not os.path.exists(readme):
            with open(readme, "w", encoding="utf-8") as handle:
                handle.write(self.card())
        if kwargs.get("is_main_process", True):
            copy_folder_extras(self.config.get("_name_or_path"), save_directory)

    def to_json_string(self) -> str:
        """config.json as diffusers writes it, less `_name_or_path`: where a model was loaded from
        is a path of this machine (or a repo id), not part of the model, and a published config
        must not carry it. The in-memory config keeps it (`copy_folder_extras` reads it)."""
        config = json.loads(super().to_json_string())
        config.pop("_name_or_path", None)
        return json.dumps(config, indent=2, sort_keys=True) + "\n"

    # `create_pr`, `safe_serialization` and `subfolder` of diffusers' signature are not offered:
    # the upload is always a safetensors folder, committed as-is by `push_folder`.
    def push_to_hub(  # type: ignore[override]
        self,
        repo_id: str,
        commit_message: str | None = None,
        private: bool | None = None,
        token: str | None = None,
        variant: str | None = None,
        **kwargs: Any,
    ) -> str:
        """Save to a temporary folder (with our model card, not diffusers') and upload it with
        `alae_hf.models.hub.push_folder` (one line, not a traceback, when offline or refused).

        Args:
            repo_id: the Hub repo (created if needed).
            commit_message, private, token, variant: as in diffusers.
            kwargs: `ignore_patterns` for the upload.
        """
        with tempfile.TemporaryDirectory() as folder:
            self.save_pretrained(folder, variant=variant)
            return push_folder(
                folder,
                repo_id,
                token=token,
                private=private,
                commit_message=commit_message or f"Upload {type(self).__name__}",
                ignore_patterns=kwargs.get("ignore_patterns"),
            )
