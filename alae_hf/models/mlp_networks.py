"""The paper's MLP ALAE (MNIST experiment): its four fully-connected networks (its config,
`MLPConfig`, lives torch-free in `alae_hf.models.config` and is offered here too).

Matches the official `configs/mnist_fc.yaml` with `net.py` classes `MappingF` (F),
`GeneratorFC` (G), `EncoderFC` (E) and `MappingDNoStyle` (D) (podgorskiy/ALAE), all built
from the equalized-lr `EqualLinear` of `alae_hf.models.layers`:

* F: pixel norm, then `mapping_layers` x (Linear Z->Z, lrmul 0.1, LeakyReLU 0.2), the
  activation also after the last layer (the same `Mapping` as StyleALAE's).
* G: w -> 1024 -> 1024 -> C*28*28 with LeakyReLU after the first two, reshaped to 28x28 and
  resized to the output resolution 2^(lod+2).
* E: the input resized to 28x28 and flattened -> 1024 -> 1024 -> Z with LeakyReLU after each
  layer, the last included (as official `EncoderFC.encode`).

Resizing: the official code uses `F.interpolate`'s default "nearest" both ways, and 28 -> 32 ->
28 by "nearest" never reads core rows/columns 6, 13, 20 and 27: E never sees those pixels of G's
output, so they get no gradient and stay at their random init (a lattice of noise lines in every
sample). `resize_mode="nearest-exact"` (the default here) makes the round trip the identity;
`"nearest"` reproduces the official forward exactly (checked against the official classes to
3e-7 relative error).
* D: three Linears Z->Z (lrmul 0.1) with no activation; the logit is output element 0
  (official `MappingDNoStyle`: `x[:, 0]`).

Official MNIST data is 28x28 padded to 32x32 (`prepare_mnist_tfrecords.py`), hence the
default resolution 32 (`LAYER_COUNT` 4) around a 28x28 fully-connected core.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import MLP_PRESETS, RESIZE_MODES, MLPConfig, mlp_preset
from .layers import EqualLinear, leaky_relu
from .style_networks import MAPPING_LRMUL, Mapping


class FCGenerator(nn.Module):
    """G: w [N, Z] -> images [N, C, r, r] (official `GeneratorFC`)."""

    def __init__(self, config: MLPConfig) -> None:
        super().__init__()
        self.fc_1 = EqualLinear(config.latent_size, config.hidden_size)
        self.fc_2 = EqualLinear(config.hidden_size, config.hidden_size)
        self.fc_3 = EqualLinear(config.hidden_size, config.fc_pixels)
        self.shape = (config.channels, config.fc_resolution, config.fc_resolution)
        self.resize_mode = config.resize_mode

    def forward(self, w: torch.Tensor, resolution: int) -> torch.Tensor:
        x = self.fc_3(leaky_relu(self.fc_2(leaky_relu(self.fc_1(w)))))
        x = x.view(x.shape[0], *self.shape)
        return (
            x
            if x.shape[-1] == resolution
            else F.interpolate(x, size=resolution, mode=self.resize_mode)
        )


class FCEncoder(nn.Module):
    """E: images [N, C, r, r] -> w [N, Z] (official `EncoderFC`).

    `lod` and `blend` are accepted for the shared training losses and ignored: every input is
    resized to the 28x28 the layers read.
    """

    def __init__(self, config: MLPConfig) -> None:
        super().__init__()
        self.fc_1 = EqualLinear(config.fc_pixels, config.hidden_size)
        self.fc_2 = EqualLinear(config.hidden_size, config.hidden_size)
        self.fc_3 = EqualLinear(config.hidden_size, config.latent_size)
        self.side, self.resize_mode = config.fc_resolution, config.resize_mode

    def forward(self, x: torch.Tensor, lod: int | None = None, blend: float = 1.0) -> torch.Tensor:
        if x.shape[-1] != self.side or x.shape[-2] != self.side:
            x = F.interpolate(x, size=self.side, mode=self.resize_mode)
        x = leaky_relu(self.fc_1(x.flatten(1)))
        return leaky_relu(self.fc_3(leaky_relu(self.fc_2(x))))


class FCDiscriminator(nn.Module):
    """D: w [N, Z] -> logit [N] (official `MappingDNoStyle` with 3 layers): affine in w."""

    def __init__(self, config: MLPConfig) -> None:
        super().__init__()
        z = config.latent_size
        self.map_blocks = nn.ModuleList(EqualLinear(z, z, lrmul=MAPPING_LRMUL) for _ in range(3))

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        x = w
        for layer in self.map_blocks:
            x = layer(x)
        return x[:, 0]


__all__ = [
    "MLPConfig",
    "MLP_PRESETS",
    "mlp_preset",
    "RESIZE_MODES",
    "Mapping",
    "FCGenerator",
    "FCEncoder",
    "FCDiscriminator",
]
