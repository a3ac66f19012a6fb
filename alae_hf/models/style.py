"""`StyleALAE`: F, G, E, D and the running mean of w, with Hugging Face save/load.

Mirrors the official `model.Model` (podgorskiy/ALAE `model.py`) minus its hidden state: modes
are methods (`map`, `synthesize`, `encode`, `discriminate`, `reconstruct`), noise is an
argument, and nothing updates `w_avg` except an explicit `update_w_avg` call from training.
Pidhorskyi et al., "Adversarial Latent Autoencoders", CVPR 2020.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from diffusers.configuration_utils import register_to_config

from .base import ALAEModel
from .config import ALAEConfig, preset
from .layers import EqualLinear
from .style_networks import Encoder, Generator, LatentDiscriminator, Mapping

# The noise spec, one convention for every caller (`synthesize`, `sample`, `alae_hf.editing.render`,
# the app); `StyleALAE.noise_maps` resolves it:
#   None              no noise (deterministic);
#   int               a seed: the maps drawn from `torch.Generator(model.device).manual_seed(seed)`;
#   torch.Generator   the maps drawn from it;
#   Sequence[int]     one seed per image: image i gets the maps seed i gives a batch of one, so an
#                     image is the same alone or in any batch (`sample(seed=[7, 8])` = 7 then 8);
#   Sequence[Tensor]  explicit maps (see `make_noise`), used as given ([1, ...] maps are shared).
# Drawing from an int or a generator gives every image its own maps, unless `batch_constant`
# (one set shared by the batch: editing's sliders, strips and grids keep the noise fixed).
# For a batch of one both agree: `sample(1, seed=s)` = `render(seed_to_w_plus(model, 1, s), noise=s)`.
NoiseSpec = int | torch.Generator | Sequence[int] | Sequence[torch.Tensor] | None


class StyleALAE(ALAEModel):
    """StyleALAE with its four networks: `mapping` (F), `generator` (G), `encoder` (E),
    `discriminator` (D), and the buffer `w_avg` [2L, Z] (the official `dlatent_avg`).

    Args: the fields of `alae_hf.models.config.ALAEConfig` (resolution, channel schedule, latent
    size, mapping depth, image channels, w_avg EMA decay, truncation defaults, mixing
    probability), registered as the model's `config.json`.
    """

    arch_class = ALAEConfig
    display_name = "StyleALAE"
    supports_style_mixing = True
    arch: ALAEConfig
    mapping: Mapping
    generator: Generator
    encoder: Encoder
    discriminator: LatentDiscriminator

    @register_to_config
    def __init__(
        self,
        resolution: int = 256,
        start_channels: int = 64,
        max_channels: int = 512,
        latent_size: int = 512,
        mapping_layers: int = 8,
        channels: int = 3,
        w_avg_beta: float = 0.995,
        truncation_psi: float = 0.7,
        truncation_cutoff: int = 8,
        style_mixing_prob: float = 0.9,
    ) -> None:
        super().__init__()
        arch = ALAEConfig(
            resolution,
            start_channels,
            max_channels,
            latent_size,
            mapping_layers,
            channels,
            float(w_avg_beta),
            float(truncation_psi),
            truncation_cutoff,
            float(style_mixing_prob),
        )
        self._set_networks(
            arch, Mapping(arch), Generator(arch), Encoder(arch), LatentDiscriminator(arch)
        )

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> StyleALAE:
        """A randomly initialised model with an official config (ffhq, celeba-hq256, bedroom,
        celeba, mnist), any field overridden."""
        return cls(**preset(name, **overrides).to_dict())

    # ---- shapes ---------------------------------------------------------------------------
    def to_w_plus(self, w: torch.Tensor) -> torch.Tensor:
        """w [N, Z] -> w+ [N, 2L, Z] (the same style on every layer); w+ passes through."""
        z = self.arch.latent_size
        if w.ndim == 2 and w.shape[1] == z:
            return w[:, None, :].expand(-1, self.num_styles, -1)
        if w.ndim == 3 and w.shape[1:] == (self.num_styles, z):
            return w
        raise ValueError(
            f"expected w [N, {z}] or w+ [N, {self.num_styles}, {z}], got {tuple(w.shape)}"
        )

    # ---- the four networks ------------------------------------------------------------------
    def make_noise(
        self,
        batch: int,
        generator: torch.Generator | None = None,
        lod: int | None = None,
        batch_constant: bool = False,
    ) -> list[torch.Tensor]:
        """Per-pixel N(0, 1) noise maps [N|1, 1, H, W] for every injection point up to `lod`.

        Drawn in the official order and shapes (block 0 point 1, block 0 point 2, block 1 ...),
        so the same seed gives the same maps as the official code seeded alike on the same
        device. The first map is [1, 1, 4, 4]: the official code draws it while G's constant
        still has batch size 1, so it is shared by the batch. `batch_constant` shares every
        map across the batch (as the official PPL metric does).
        """
        lod = self._lod(lod)
        device, dtype = self.device, self.dtype
        rows = 1 if batch_constant else batch
        shapes = [(1, 4)] + [
            (rows, self.arch.lod_resolution(k // 2)) for k in range(1, 2 * (lod + 1))
        ]
        return [
            torch.randn(n, 1, r, r, generator=generator, device=device, dtype=dtype)
            for n, r in shapes
        ]

    def noise_maps(
        self, noise: NoiseSpec, batch: int, lod: int | None = None, batch_constant: bool = False
    ) -> list[torch.Tensor] | None:
        """Resolve a noise spec (see `NoiseSpec` above) to the maps of `batch` images, or None."""
        lod = self._lod(lod)
        if noise is None:
            return None
        if isinstance(noise, int) and not isinstance(noise, bool):
            noise = torch.Generator(device=self.device).manual_seed(noise)
        if isinstance(noise, torch.Generator):
            return self.make_noise(batch, noise, lod, batch_constant)
        if isinstance(noise, (str, bytes)) or not isinstance(noise, Sequence):
            raise TypeError(
                "noise must be None, an int seed, a torch.Generator, a list of seeds or a list of "
                f"tensors, got {type(noise).__name__}"
            )
        items = list(noise)
        seeds = [s for s in items if isinstance(s, int) and not isinstance(s, bool)]
        if items and len(seeds) == len(items):
            if len(seeds) != batch:
                raise ValueError(f"got {len(seeds)} noise seeds for {batch} images")
            per_image = [
                self.make_noise(1, torch.Generator(device=self.device).manual_seed(s), lod)
                for s in seeds
            ]
            return [torch.cat(maps) for maps in zip(*per_image)]
        maps = [m for m in items if isinstance(m, torch.Tensor)]
        if len(items) < 2 * (lod + 1) or len(maps) != len(items):
            raise ValueError(
                f"expected {2 * (lod + 1)} noise tensors for lod {lod}, got {len(items)} items"
            )
        return maps

    def synthesize(
        self, w: torch.Tensor, noise: NoiseSpec = None, lod: int | None = None, blend: float = 1.0
    ) -> torch.Tensor:
        """G: w [N, Z] or w+ [N, 2L, Z] -> images [N, C, R, R], nominally in [-1, 1].

        Args:
            w: one style for all layers, or one per layer.
            noise: a noise spec (`NoiseSpec`): a seed, a `torch.Generator`, one seed per
                image, explicit maps (see `make_noise`), or None for no noise (deterministic).
            lod: level of detail (default: full resolution).
            blend: fade-in factor in [0, 1] (1 = no fade).
        """
        lod = self._lod(lod)
        styles = self.to_w_plus(w)
        if not 0.0 <= blend <= 1.0 or (blend < 1 and lod == 0):
            raise ValueError(f"blend must be in [0, 1] (and 1 at lod 0), got {blend} at lod {lod}")
        return self.generator(styles, lod, blend, self.noise_maps(noise, styles.shape[0], lod))

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

    def reconstruct(self, x: torch.Tensor, noise: NoiseSpec = None) -> torch.Tensor:
        """G(E(x)) at the input's level of detail, without truncation (as the official demos)."""
        return self.synthesize(self.encode(x), noise=noise, lod=self._input_lod(x))

    # ---- mean latent and sampling ---------------------------------------------------------
    def truncate(
        self, w: torch.Tensor, psi: float | None = None, cutoff: int | None = None
    ) -> torch.Tensor:
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
    def sample(
        self,
        n: int | None = None,
        seed: int | Sequence[int] = 0,
        truncation_psi: float | None = None,
        truncation_cutoff: int | None = None,
        noise: NoiseSpec | str = "seed",
    ) -> torch.Tensor:
        """Generate images [n, C, R, R] in [-1, 1] from a seed, or one image per seed.

        Args:
            n: number of images (default 1, or the number of seeds).
            seed: one seed for `n` images (z rows of `numpy.random.RandomState(seed)`), or a list
                of seeds, one image each (the app's Sample tab: image i is `sample(1, seed=seeds[i])`).
            truncation_psi, truncation_cutoff: see `truncate` (None: the config's defaults).
            noise: "seed" draws the noise from the same seed(s) as z; any other `NoiseSpec`
                (see the top of this module) is passed to `synthesize`.

        To get PIL images or a PNG grid (`alae_hf.imaging`)::

            from alae_hf.imaging import make_grid, tensor_to_pil
            images = tensor_to_pil(model.sample(8, seed=0))      # list of PIL.Image
            make_grid(images, columns=4).save("samples.png")
        """
        seeds = list(seed) if isinstance(seed, Sequence) else None
        n = (len(seeds) if seeds is not None else 1) if n is None else n
        w = self.truncate(self.map(self.seed_latents(n, seed)), truncation_psi, truncation_cutoff)
        if isinstance(noise, str):
            if noise != "seed":
                raise ValueError(
                    f"noise must be 'seed' or a noise spec (see alae_hf.models.style.NoiseSpec), got {noise!r}"
                )
            noise = seeds if seeds is not None else seed
        return self.synthesize(w, noise=noise)

    # ---- styles (the `alae_hf.models.base.ALAEModel` interface) ---------------------------------
    def style_affine(self, style_index: int) -> EqualLinear:
        """The affine that turns style `style_index` of w+ into AdaIN scales and biases: style k
        drives `generator.decode_block[k // 2]`, `style_1` for even k, else `style_2` (official
        `net.py`: each block's two AdaIN layers)."""
        if not 0 <= style_index < self.num_styles:
            raise ValueError(
                f"style index must be in [0, {self.num_styles - 1}], got {style_index}"
            )
        block = self.generator.decode_block[style_index // 2]
        affine = block.style_1 if style_index % 2 == 0 else block.style_2
        assert isinstance(affine, EqualLinear)  # module lists and attributes are typed loosely
        return affine
