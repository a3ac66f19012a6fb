"""`MLPALAE`: the paper's fully-connected ALAE (its MNIST experiment), with the StyleALAE API.

Same method names as `StyleALAE` (`map`, `synthesize`, `encode`, `discriminate`,
`reconstruct`, `truncate`, `update_w_avg`, `sample`) and the same strict Hub loading
(`alae_hf.models.base.ALAEModel`), so the three training phases of `alae_hf.training.losses`, the
trainer and `alae_hf.load` take either model. What is StyleGAN-specific is accepted and
ignored: G has one w (`num_styles` 1, no style mixing) and no noise; `lod` only picks the
output resolution (the official `GeneratorFC` resizes to 2^(lod+2)) and `blend` is unused.
Architecture: official `configs/mnist_fc.yaml` (see `alae_hf.models.mlp_networks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from diffusers.configuration_utils import register_to_config

from .base import ALAEModel
from .layers import EqualLinear
from .mlp_networks import FCDiscriminator, FCEncoder, FCGenerator, Mapping, MLPConfig, mlp_preset


class MLPALAE(ALAEModel):
    """MLP ALAE with its four networks `mapping` (F), `generator` (G), `encoder` (E),
    `discriminator` (D), and the buffer `w_avg` [1, Z] (running mean of w, for truncation).

    Args: the fields of `alae_hf.models.mlp_networks.MLPConfig` (output resolution, the 28x28 side
    the linears read, hidden width, latent size, mapping depth, image channels, w_avg EMA
    decay, default truncation, resize mode), registered as the model's `config.json`, whose `_class_name`
    `MLPALAE` names the architecture.
    """

    arch_class = MLPConfig
    display_name = "MLP ALAE"
    supports_style_mixing = False  # G reads one w
    arch: MLPConfig
    mapping: Mapping
    generator: FCGenerator
    encoder: FCEncoder
    discriminator: FCDiscriminator

    @register_to_config
    def __init__(
        self,
        resolution: int = 32,
        fc_resolution: int = 28,
        hidden_size: int = 1024,
        latent_size: int = 50,
        mapping_layers: int = 6,
        channels: int = 1,
        w_avg_beta: float = 0.995,
        truncation_psi: float = 0.7,
        resize_mode: str = "nearest-exact",
    ) -> None:
        super().__init__()
        arch = MLPConfig(
            resolution,
            fc_resolution,
            hidden_size,
            latent_size,
            mapping_layers,
            channels,
            float(w_avg_beta),
            float(truncation_psi),
            resize_mode,
        )
        self._set_networks(
            arch, Mapping(arch), FCGenerator(arch), FCEncoder(arch), FCDiscriminator(arch)
        )

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> MLPALAE:
        """A randomly initialised model with a named config (`mnist-fc`), any field overridden."""
        return cls(**mlp_preset(name, **overrides).to_dict())

    # ---- shapes ---------------------------------------------------------------------------
    def to_w(self, w: torch.Tensor) -> torch.Tensor:
        """w [N, Z] (or [N, 1, Z], StyleALAE's w+ with one style) -> w [N, Z]."""
        z = self.arch.latent_size
        if w.ndim == 3 and w.shape[1:] == (1, z):
            return w[:, 0]
        if w.ndim != 2 or w.shape[1] != z:
            raise ValueError(f"expected w of shape [N, {z}] (or [N, 1, {z}]), got {tuple(w.shape)}")
        return w

    def to_w_plus(self, w: torch.Tensor) -> torch.Tensor:
        """w [N, Z] -> [N, 1, Z]: the one style of G, in StyleALAE's w+ layout."""
        return self.to_w(w)[:, None]

    def _input_lod(self, x: torch.Tensor) -> int | None:
        """The lod of a power-of-two input side, None for another size (e.g. MNIST's 28)."""
        side = x.shape[-1]
        if side & (side - 1) or not 4 <= side <= self.arch.resolution:
            return None
        return int(np.log2(side)) - 2

    # ---- the four networks ------------------------------------------------------------------
    def synthesize(
        self, w: torch.Tensor, noise: Any = None, lod: int | None = None, blend: float = 1.0
    ) -> torch.Tensor:
        """G: w [N, Z] -> images [N, C, r, r], nominally in [-1, 1], r = 2^(lod+2).

        Args:
            w: the latent (or [N, 1, Z]).
            noise: ignored (G has no noise inputs); accepted so callers of StyleALAE work.
            lod: level of detail, only the output size (default: full resolution).
            blend: ignored (no fade-in); must be in [0, 1].
        """
        if not 0.0 <= blend <= 1.0:
            raise ValueError(f"blend must be in [0, 1], got {blend}")
        return self.generator(self.to_w(w), self.arch.lod_resolution(self._lod(lod)))

    def encode(self, x: torch.Tensor, blend: float = 1.0) -> torch.Tensor:
        """E: images [N, C, r, r] in [-1, 1] (any r from 4 to 1024, resized to 28) -> w [N, Z]."""
        c = self.arch.channels
        if (
            x.ndim != 4
            or x.shape[1] != c
            or x.shape[2] != x.shape[3]
            or not 4 <= x.shape[-1] <= 1024
        ):
            raise ValueError(
                f"expected images [N, {c}, r, r] with r in [4, 1024], got {tuple(x.shape)}"
            )
        if not 0.0 <= blend <= 1.0:
            raise ValueError(f"blend must be in [0, 1], got {blend}")
        return self.encoder(x)

    def reconstruct(self, x: torch.Tensor, noise: Any = None) -> torch.Tensor:
        """G(E(x)), at the input's size when that is a level of detail, else at full resolution."""
        return self.synthesize(self.encode(x), lod=self._input_lod(x))

    # ---- mean latent and sampling ---------------------------------------------------------
    def truncate(
        self, w: torch.Tensor, psi: float | None = None, cutoff: int | None = None
    ) -> torch.Tensor:
        """`w_avg + psi * (w - w_avg)` as w+ [N, 1, Z] (StyleALAE's contract); psi = 1 is the
        identity. `cutoff` 0 turns it off (there is one style: any other cutoff truncates it)."""
        psi = self.arch.truncation_psi if psi is None else psi
        w = self.to_w(w)
        if cutoff != 0:
            w = torch.lerp(self.w_avg[0].to(w.dtype), w, psi)
        return w[:, None]

    def noise_maps(
        self, noise: Any, batch: int, lod: int | None = None, batch_constant: bool = False
    ) -> None:
        """No noise inputs: every noise spec resolves to None (StyleALAE's method, for shared callers)."""
        return None

    def make_noise(
        self,
        batch: int,
        generator: torch.Generator | None = None,
        lod: int | None = None,
        batch_constant: bool = False,
    ) -> list[torch.Tensor]:
        """No injection points: an empty list."""
        return []

    @torch.no_grad()
    def sample(
        self,
        n: int | None = None,
        seed: int | Sequence[int] = 0,
        truncation_psi: float | None = None,
        truncation_cutoff: int | None = None,
        noise: Any = "seed",
    ) -> torch.Tensor:
        """Generate images [n, C, R, R] in [-1, 1] from a seed (or one image per seed in a list).

        Deterministic given the seed (G draws no noise; `noise` is accepted and ignored).
        `truncation_psi` defaults to the config's; 1 disables truncation.
        """
        if n is None:
            n = len(seed) if isinstance(seed, Sequence) else 1
        w = self.truncate(self.map(self.seed_latents(n, seed)), truncation_psi, truncation_cutoff)
        return self.synthesize(w)

    # ---- styles (the `alae_hf.models.base.ALAEModel` interface) ---------------------------------
    def style_affine(self, style_index: int) -> EqualLinear:
        """G's first linear layer w -> hidden, the one layer w drives (style 0 is all there is);
        SeFa factorises it as genforce does for PGGAN's first layer."""
        if style_index != 0:
            raise ValueError(f"an MLP ALAE has one style (index 0), got {style_index}")
        return self.generator.fc_1
