"""The architecture configs (StyleALAE's `ALAEConfig`, the MLP ALAE's `MLPConfig`) and the sizes
derived from them; torch-free, so the command lines are built before torch is imported.

One typed config holds every architecture choice; everything else (layer count, channel
schedule, number of styles, where resampling is fused) is computed from it, never stored.
The formulas follow the official implementation (podgorskiy/ALAE `net.py`, `model.py`,
`configs/*.yaml`).
"""

from __future__ import annotations

import math
from dataclasses import Field, asdict, dataclass, fields, replace
from typing import Any, ClassVar

MIN_RESOLUTION = 8
MAX_RESOLUTION = 1024
# Resampling is fused (a strided 4x4 conv instead of resample + 3x3 conv) wherever the larger
# of the two resolutions involved is at least this (official `net.py`: `resolution * 2 >= 128`).
FUSED_MIN_RESOLUTION = 128
# Ranges stated once, used by the config's checks, the model and the app's input checks.
TRUNCATION_PSI_RANGE = (
    -1.0,
    2.0,
)  # ψ: 1 is the identity, 0 the mean style; beyond [0, 1] extrapolates
SEED_MAX = 2**32 - 1  # numpy.random.RandomState seeds (the model's seed convention)
# Named style groups by the resolution (px, inclusive) of the block a style drives: StyleGAN's
# coarse (4-8 px), middle (16-32 px) and fine (>= 64 px) split (Karras et al. 2019, §3.1, fig. 3).
STYLE_GROUP_RESOLUTIONS = {"coarse": (4, 8), "middle": (16, 32), "fine": (64, None)}


class ConfigFields:
    """What every config dataclass offers: `to_dict` (JSON primitives) and a checked `replace`."""

    # Set by `@dataclass` on each subclass; declared so that the type checker sees a dataclass.
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def replace(self, **overrides: Any) -> Any:
        unknown = set(overrides) - {f.name for f in fields(self)}
        if unknown:
            raise ValueError(
                f"unknown config keys {sorted(unknown)}; allowed: {[f.name for f in fields(self)]}"
            )
        return replace(self, **overrides)


@dataclass(frozen=True)
class ALAEConfig(ConfigFields):
    """Architecture of a StyleALAE model (all values are JSON primitives).

    Args:
        resolution: output image side, a power of two in [8, 1024] (official `2^(LAYER_COUNT+1)`).
        start_channels: channels at full resolution (official `START_CHANNEL_COUNT`).
        max_channels: channel cap at low resolutions (official `MAX_CHANNEL_COUNT`).
        latent_size: size of z, w and every mapping width (official `LATENT_SPACE_SIZE`).
        mapping_layers: depth of F (official `MAPPING_LAYERS`).
        channels: image channels, 1 or 3 (official `CHANNELS`).
        w_avg_beta: EMA decay of the running mean of w used by training (official `DLATENT_AVG_BETA`).
        truncation_psi: default truncation strength for sampling (official `TRUNCATIOM_PSI`).
        truncation_cutoff: default number of leading styles that are truncated.
        style_mixing_prob: probability of style mixing during training.
    """

    resolution: int = 256
    start_channels: int = 64
    max_channels: int = 512
    latent_size: int = 512
    mapping_layers: int = 8
    channels: int = 3
    w_avg_beta: float = 0.995
    truncation_psi: float = 0.7
    truncation_cutoff: int = 8
    style_mixing_prob: float = 0.9

    def __post_init__(self) -> None:
        check_common_fields(self)
        check_int("start_channels", self.start_channels, 1, 4096)
        check_int("max_channels", self.max_channels, 1, 4096)
        check_int("truncation_cutoff", self.truncation_cutoff, 0, 1024)
        check_float("style_mixing_prob", self.style_mixing_prob, 0.0, 1.0)

    # ---- derived sizes -------------------------------------------------------------------
    @property
    def layer_count(self) -> int:
        """Number of resolution blocks L (official `LAYER_COUNT`); resolution = 2^(L+1)."""
        return int(math.log2(self.resolution)) - 1

    @property
    def num_styles(self) -> int:
        """Number of style vectors in w+: two per block."""
        return 2 * self.layer_count

    @property
    def max_lod(self) -> int:
        """Index of the full level of detail; lod l renders at 2^(l+2) pixels."""
        return self.layer_count - 1

    def channels_at(self, resolution: int) -> int:
        """Feature channels at a resolution, shared by G and its mirror E.

        Official formula `min(M, S * 2^(L+1-log2 r))`: `start_channels` at full resolution,
        doubling at every halving, capped at `max_channels`.
        """
        steps = self.layer_count + 1 - int(math.log2(resolution))
        return min(self.max_channels, self.start_channels * 2**steps)

    @staticmethod
    def lod_resolution(lod: int) -> int:
        return 2 ** (lod + 2)

    def style_resolution(self, style_index: int) -> int:
        """Resolution of the block that style k modulates (two styles per block)."""
        return self.lod_resolution(style_index // 2)

    @property
    def style_groups(self) -> dict[str, list[int]]:
        """Style indices per named group (`named_style_groups`)."""
        return named_style_groups(self.num_styles)


def named_style_groups(num_styles: int) -> dict[str, list[int]]:
    """Style indices per named group (`STYLE_GROUP_RESOLUTIONS`) of a StyleALAE w+ with
    `num_styles` styles (style k drives the block at 4 * 2^(k // 2) px); a group may be empty
    (no "fine" styles below 64 px)."""
    res = [ALAEConfig.lod_resolution(k // 2) for k in range(num_styles)]
    return {
        name: [k for k, r in enumerate(res) if low <= r and (high is None or r <= high)]
        for name, (low, high) in STYLE_GROUP_RESOLUTIONS.items()
    }


def check_common_fields(config: Any) -> None:
    """The fields every ALAE config has (StyleALAE's and the MLP ALAE's), checked alike."""
    check_int("resolution", config.resolution, MIN_RESOLUTION, MAX_RESOLUTION)
    if config.resolution & (config.resolution - 1):
        raise ValueError(
            f"resolution must be a power of two in [{MIN_RESOLUTION}, {MAX_RESOLUTION}], "
            f"got {config.resolution}"
        )
    check_int("latent_size", config.latent_size, 1, 8192)
    check_int("mapping_layers", config.mapping_layers, 1, 32)
    if config.channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {config.channels!r}")
    check_float("w_avg_beta", config.w_avg_beta, 0.0, 1.0)
    check_float("truncation_psi", config.truncation_psi, *TRUNCATION_PSI_RANGE)


def check_int(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")


def check_float(name: str, value: Any, low: float, high: float) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not low <= value <= high:
        raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}")


# The five official configs (`configs/*.yaml`, official_alae.md §3). `celeba` is the 128 px one.
PRESETS: dict[str, ALAEConfig] = {
    "ffhq": ALAEConfig(
        resolution=1024, start_channels=16, max_channels=512, latent_size=512, mapping_layers=8
    ),
    "celeba-hq256": ALAEConfig(
        resolution=256, start_channels=64, max_channels=512, latent_size=512, mapping_layers=8
    ),
    "bedroom": ALAEConfig(
        resolution=256, start_channels=32, max_channels=512, latent_size=512, mapping_layers=8
    ),
    "celeba": ALAEConfig(
        resolution=128, start_channels=64, max_channels=256, latent_size=256, mapping_layers=8
    ),
    "mnist": ALAEConfig(
        resolution=32,
        start_channels=64,
        max_channels=256,
        latent_size=32,
        mapping_layers=4,
        channels=1,
    ),
}


def preset(name: str, **overrides: Any) -> ALAEConfig:
    """An official config by name, with any field overridden."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name].replace(**overrides)


# ---- the paper's MLP ALAE (official configs/mnist_fc.yaml; networks in alae_hf.models.mlp_networks) ----
RESIZE_MODES = ("nearest-exact", "nearest")


@dataclass(frozen=True)
class MLPConfig(ConfigFields):
    """Architecture of an MLP ALAE (all values are JSON primitives).

    Args:
        resolution: side of G's output and of the training images, a power of two in
            [8, 1024] (official `2^(LAYER_COUNT+1)` = 32 for MNIST).
        fc_resolution: side of the images the fully-connected layers see (official 28).
        hidden_size: width of the two hidden layers of G and of E (official 1024).
        latent_size: size of z and w (official `LATENT_SPACE_SIZE` 50).
        mapping_layers: depth of F (official `MAPPING_LAYERS` 6).
        channels: image channels, 1 or 3 (official 1).
        w_avg_beta: EMA decay of the running mean of w (official `DLATENT_AVG_BETA`).
        truncation_psi: default truncation strength for sampling (official default 0.7).
        resize_mode: `F.interpolate` mode of G's and E's resizing: "nearest-exact" (default) or
            "nearest" (official, leaves 4 rows and columns of G untrained; see `alae_hf.models.mlp_networks`).
    """

    resolution: int = 32
    fc_resolution: int = 28
    hidden_size: int = 1024
    latent_size: int = 50
    mapping_layers: int = 6
    channels: int = 1
    w_avg_beta: float = 0.995
    truncation_psi: float = 0.7
    resize_mode: str = "nearest-exact"

    def __post_init__(self) -> None:
        check_common_fields(self)
        check_int("fc_resolution", self.fc_resolution, 4, 256)
        check_int("hidden_size", self.hidden_size, 1, 16384)
        if self.resize_mode not in RESIZE_MODES:
            raise ValueError(f"resize_mode must be one of {RESIZE_MODES}, got {self.resize_mode!r}")

    # ---- derived: what the shared training code asks of an architecture --------------------
    @property
    def num_styles(self) -> int:
        """One w for the whole generator: G has no per-layer styles."""
        return 1

    @property
    def style_groups(self) -> dict[str, list[int]]:
        """No named groups of styles: the one w is all there is (layer spec "all" or 0)."""
        return {}

    @property
    def style_mixing_prob(self) -> float:
        """No style mixing: G reads a single w (official GeneratorFC uses row 0 only)."""
        return 0.0

    @property
    def truncation_cutoff(self) -> int:
        return 1

    @property
    def layer_count(self) -> int:
        return int(math.log2(self.resolution)) - 1

    @property
    def max_lod(self) -> int:
        """The full-resolution level of detail: lod l renders at 2^(l+2) (no progressive growing)."""
        return self.layer_count - 1

    @staticmethod
    def lod_resolution(lod: int) -> int:
        return 2 ** (lod + 2)

    @property
    def fc_pixels(self) -> int:
        return self.channels * self.fc_resolution**2


MLP_PRESETS: dict[str, MLPConfig] = {"mnist-fc": MLPConfig()}


def mlp_preset(name: str, **overrides: Any) -> MLPConfig:
    """An MLP config by name (`mnist-fc`: official `configs/mnist_fc.yaml`), any field overridden."""
    if name not in MLP_PRESETS:
        raise ValueError(f"unknown MLP preset {name!r}; choose one of {sorted(MLP_PRESETS)}")
    return MLP_PRESETS[name].replace(**overrides)
