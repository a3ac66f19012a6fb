"""alae_hf: StyleALAE (Adversarial Latent Autoencoders, Pidhorskyi et al., CVPR 2020), Hub-native."""

from .config import PRESETS, ALAEConfig, preset
from .model import StyleALAE

__all__ = ["ALAEConfig", "PRESETS", "StyleALAE", "preset"]
__version__ = "0.1.0"
