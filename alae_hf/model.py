"""`StyleALAE`: F, G, E, D and the running mean of w, with Hugging Face save/load.

Mirrors the official `model.Model` (podgorskiy/ALAE `model.py`) minus its hidden state: modes
are methods (`map`, `synthesize`, `encode`, `discriminate`, `reconstruct`), noise is an
argument, and nothing updates `w_avg` except an explicit `update_w_avg` call from training.
Pidhorskyi et al., "Adversarial Latent Autoencoders", CVPR 2020.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from typing import Any, Union

import numpy as np
import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin

from .card import model_card
from .config import ALAEConfig, preset
from .networks import Encoder, Generator, LatentDiscriminator, Mapping

# A noise spec: a generator to draw from, explicit tensors per injection point, or None (no noise).
NoiseSpec = Union[torch.Generator, Sequence[torch.Tensor], None]


class StyleALAE(ModelMixin, ConfigMixin):
    """StyleALAE with its four networks: `mapping` (F), `generator` (G), `encoder` (E),
    `discriminator` (D), and the buffer `w_avg` [2L, Z] (the official `dlatent_avg`).

    Args: the fields of `alae_hf.config.ALAEConfig` (resolution, channel schedule, latent
    size, mapping depth, image channels, w_avg EMA decay, truncation defaults, mixing
    probability), registered as the model's `config.json`.
    """

    @register_to_config
    def __init__(self, resolution: int = 256, start_channels: int = 64, max_channels: int = 512,
                 latent_size: int = 512, mapping_layers: int = 8, channels: int = 3, w_avg_beta: float = 0.995,
                 truncation_psi: float = 0.7, truncation_cutoff: int = 8, style_mixing_prob: float = 0.9) -> None:
        super().__init__()
        arch = ALAEConfig(resolution, start_channels, max_channels, latent_size, mapping_layers, channels,
                          float(w_avg_beta), float(truncation_psi), truncation_cutoff, float(style_mixing_prob))
        self.arch = arch
        self.mapping = Mapping(arch)
        self.generator = Generator(arch)
        self.encoder = Encoder(arch)
        self.discriminator = LatentDiscriminator(arch)
        self.register_buffer("w_avg", torch.zeros(arch.num_styles, arch.latent_size))

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> "StyleALAE":
        """A randomly initialised model with an official config (ffhq, celeba-hq256, bedroom,
        celeba, mnist), any field overridden."""
        return cls(**preset(name, **overrides).to_dict())

    # ---- shapes ---------------------------------------------------------------------------
    @property
    def num_styles(self) -> int:
        return self.arch.num_styles

    def _lod(self, lod: int | None) -> int:
        if lod is None:
            return self.arch.max_lod
        if not 0 <= lod <= self.arch.max_lod:
            raise ValueError(f"lod must be in [0, {self.arch.max_lod}], got {lod}")
        return lod

    def to_w_plus(self, w: torch.Tensor) -> torch.Tensor:
        """w [N, Z] -> w+ [N, 2L, Z] (the same style on every layer); w+ passes through."""
        z = self.arch.latent_size
        if w.ndim == 2 and w.shape[1] == z:
            return w[:, None, :].expand(-1, self.num_styles, -1)
        if w.ndim == 3 and w.shape[1:] == (self.num_styles, z):
            return w
        raise ValueError(f"expected w [N, {z}] or w+ [N, {self.num_styles}, {z}], got {tuple(w.shape)}")

    # ---- the four networks ------------------------------------------------------------------
    def map(self, z: torch.Tensor) -> torch.Tensor:
        """F: z [N, Z] -> w [N, Z]."""
        if z.ndim != 2 or z.shape[1] != self.arch.latent_size:
            raise ValueError(f"expected z of shape [N, {self.arch.latent_size}], got {tuple(z.shape)}")
        return self.mapping(z)

    def make_noise(self, batch: int, generator: torch.Generator | None = None, lod: int | None = None,
                   batch_constant: bool = False) -> list[torch.Tensor]:
        """Per-pixel N(0, 1) noise maps [N|1, 1, H, W] for every injection point up to `lod`.

        Drawn in the official order and shapes (block 0 point 1, block 0 point 2, block 1 ...),
        so the same seed gives the same maps as the official code seeded alike on the same
        device. The first map is [1, 1, 4, 4]: the official code draws it while G's constant
        still has batch size 1, so it is shared by the batch. `batch_constant` shares every
        map across the batch (as the official PPL metric does).
        """
        lod = self._lod(lod)
        device, dtype = self.generator.const.device, self.generator.const.dtype
        rows = 1 if batch_constant else batch
        shapes = [(1, 4)] + [(rows, self.arch.lod_resolution(k // 2)) for k in range(1, 2 * (lod + 1))]
        return [torch.randn(n, 1, r, r, generator=generator, device=device, dtype=dtype) for n, r in shapes]

    def _noise(self, noise: NoiseSpec, batch: int, lod: int) -> list[torch.Tensor] | None:
        if noise is None or isinstance(noise, torch.Generator):
            return None if noise is None else self.make_noise(batch, noise, lod)
        noise = list(noise)
        if len(noise) < 2 * (lod + 1):
            raise ValueError(f"expected {2 * (lod + 1)} noise tensors for lod {lod}, got {len(noise)}")
        return noise

    def synthesize(self, w: torch.Tensor, noise: NoiseSpec = None, lod: int | None = None,
                   blend: float = 1.0) -> torch.Tensor:
        """G: w [N, Z] or w+ [N, 2L, Z] -> images [N, C, R, R], nominally in [-1, 1].

        Args:
            w: one style for all layers, or one per layer.
            noise: a `torch.Generator` to draw noise from, explicit maps (see `make_noise`),
                or None for no noise (deterministic).
            lod: level of detail (default: full resolution).
            blend: fade-in factor in [0, 1] (1 = no fade).
        """
        lod = self._lod(lod)
        styles = self.to_w_plus(w)
        if not 0.0 <= blend <= 1.0 or (blend < 1 and lod == 0):
            raise ValueError(f"blend must be in [0, 1] (and 1 at lod 0), got {blend} at lod {lod}")
        return self.generator(styles, lod, blend, self._noise(noise, styles.shape[0], lod))

    def encode(self, x: torch.Tensor, blend: float = 1.0) -> torch.Tensor:
        """E: images [N, C, r, r] in [-1, 1] -> w [N, Z]; r picks the level of detail."""
        lod = self._input_lod(x)
        if not 0.0 <= blend <= 1.0 or (blend < 1 and lod == 0):
            raise ValueError(f"blend must be in [0, 1] (and 1 at lod 0), got {blend} at lod {lod}")
        return self.encoder(x, lod, blend)

    def _input_lod(self, x: torch.Tensor) -> int:
        c, res = self.arch.channels, self.arch.resolution
        ok = x.ndim == 4 and x.shape[1] == c and x.shape[2] == x.shape[3] and x.shape[2] >= 4
        side = x.shape[-1] if x.ndim == 4 else 0
        if not ok or side & (side - 1) or side > res:
            raise ValueError(
                f"expected images [N, {c}, r, r] with r a power of two in [4, {res}], got {tuple(x.shape)}"
            )
        return int(np.log2(side)) - 2

    def discriminate(self, w: torch.Tensor) -> torch.Tensor:
        """D: w [N, Z] -> real/fake logit [N]."""
        if w.ndim != 2 or w.shape[1] != self.arch.latent_size:
            raise ValueError(f"expected w of shape [N, {self.arch.latent_size}], got {tuple(w.shape)}")
        return self.discriminator(w)

    def reconstruct(self, x: torch.Tensor, noise: NoiseSpec = None) -> torch.Tensor:
        """G(E(x)) at the input's level of detail, without truncation (as the official demos)."""
        return self.synthesize(self.encode(x), noise=noise, lod=self._input_lod(x))

    # ---- mean latent and sampling ---------------------------------------------------------
    def truncate(self, w: torch.Tensor, psi: float | None = None, cutoff: int | None = None) -> torch.Tensor:
        """Pull the first `cutoff` styles toward `w_avg`: `w_avg + psi * (w - w_avg)`.

        psi = 1 is the identity and psi = 0 gives `w_avg` on those layers. Returns w+.
        Defaults come from the config (official 0.7 on the first 8 styles).
        """
        psi = self.arch.truncation_psi if psi is None else psi
        cutoff = self.arch.truncation_cutoff if cutoff is None else cutoff
        styles = self.to_w_plus(w)
        layer = torch.arange(self.num_styles, device=styles.device)[:, None]
        coef = torch.where(layer < cutoff, psi, 1.0).to(styles.dtype)
        return torch.lerp(self.w_avg.to(styles.dtype), styles, coef)

    @torch.no_grad()
    def update_w_avg(self, w: torch.Tensor) -> None:
        """EMA of the batch mean of w with decay `w_avg_beta` (training only; official
        `DLatent` update, applied to every row)."""
        target = w.detach().reshape(-1, self.arch.latent_size).mean(0).to(self.w_avg.dtype)
        self.w_avg.copy_(torch.lerp(target.expand_as(self.w_avg), self.w_avg, self.arch.w_avg_beta))

    def seed_latents(self, n: int, seed: int) -> torch.Tensor:
        """z [n, Z] from `numpy.random.RandomState(seed)` (the seed convention of NVlabs and the
        official ALAE figure scripts), on the model's device and dtype."""
        z = np.random.RandomState(seed).randn(n, self.arch.latent_size)
        return torch.from_numpy(z).to(self.generator.const.device, self.generator.const.dtype)

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0, truncation_psi: float | None = None,
               truncation_cutoff: int | None = None, noise: NoiseSpec | str = "seed") -> torch.Tensor:
        """Generate `n` images [n, C, R, R] in [-1, 1] from a seed.

        `noise="seed"` draws noise from a generator seeded with `seed` (reproducible); any
        other `NoiseSpec` is passed to `synthesize`.
        """
        w = self.truncate(self.map(self.seed_latents(n, seed)), truncation_psi, truncation_cutoff)
        if isinstance(noise, str):
            if noise != "seed":
                raise ValueError(f"noise must be 'seed', a torch.Generator, tensors or None, got {noise!r}")
            noise = torch.Generator(device=self.generator.const.device).manual_seed(seed)
        return self.synthesize(w, noise=noise)

    # ---- Hub ------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs: Any) -> "StyleALAE":
        """Load `config.json` + safetensors from a folder or Hub repo id, strictly.

        Accepts diffusers' keyword arguments (`torch_dtype`, `variant`, `subfolder`,
        `revision`, `local_files_only`, ...). A missing, unexpected or mis-shaped key raises.
        """
        want_info = kwargs.pop("output_loading_info", False)
        path = os.fspath(pretrained_model_name_or_path)
        try:
            config = cls.load_config(path, **_config_kwargs(kwargs))
        except (OSError, ValueError) as err:
            raise OSError(_missing_message(path, err)) from err
        if config.get("_class_name") not in (None, cls.__name__):
            raise ValueError(f"{path} holds a {config.get('_class_name')!r}, not a {cls.__name__} checkpoint")
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
                handle.write(model_card(self.arch))

    def push_to_hub(self, repo_id: str, commit_message: str = "Upload StyleALAE", private: bool | None = None,
                    token: str | None = None, variant: str | None = None, **kwargs: Any) -> str:
        """Save to a temporary folder (with our model card, not diffusers') and upload it."""
        from huggingface_hub import HfApi

        api = HfApi(token=token)
        repo_id = api.create_repo(repo_id, private=private, exist_ok=True).repo_id
        with tempfile.TemporaryDirectory() as folder:
            self.save_pretrained(folder, variant=variant)
            api.upload_folder(repo_id=repo_id, folder_path=folder, commit_message=commit_message, **kwargs)
        return repo_id


def _config_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    keys = ("cache_dir", "force_download", "local_files_only", "token", "revision", "subfolder", "proxies")
    return {k: kwargs[k] for k in keys if k in kwargs}


def _missing_message(path: str, err: Exception) -> str:
    if os.path.isdir(path):
        return f"{path} is not a StyleALAE folder: no readable config.json ({err})"
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
    hint = " HF_HUB_OFFLINE is set, so only cached repos can load." if offline else ""
    return f"could not load {path!r}: not a local folder, and not a reachable or cached Hub repo.{hint} ({err})"
