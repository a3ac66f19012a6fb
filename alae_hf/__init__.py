"""alae_hf: StyleALAE (Adversarial Latent Autoencoders, Pidhorskyi et al., CVPR 2020), Hub-native.

Imports are lazy so that torch-free leaves (e.g. `alae_hf.datasets.synthetic_faces`) load
without importing torch and diffusers.
"""

from importlib import import_module
from typing import Any

__version__ = "0.1.0"
_EXPORTS = {
    "StyleALAE": "models.style",
    "MLPALAE": "models.mlp",
    "load": "models.loading",
    "ALAEConfig": "models.config",
    "PRESETS": "models.config",
    "preset": "models.config",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
