"""The four StyleALAE networks: F (mapping), G (generator), E (encoder), D (latent discriminator).

Architecture and sub-module names follow the official `net.py` (podgorskiy/ALAE classes
`MappingF`, `Generator`/`DecodeBlock`, `EncoderDefault`/`EncodeBlock`, `MappingD`), so that
converted checkpoints line up key for key (`alae_hf.convert`).
Each network's `forward` is its one mode; the model composes them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .config import FUSED_MIN_RESOLUTION, ALAEConfig, MLPConfig
from .layers import (
    LEAKY_SLOPE,
    EqualConv2d,
    EqualLinear,
    FusedDownConv2d,
    FusedUpConv2d,
    UpConv2d,
    blur,
    channel_stats_and_norm,
    downscale2d,
    fade_in,
    instance_norm,
    leaky_relu,
    pixel_norm,
    style_mod,
    upscale2d,
)

# G normalises with eps 1e-8 (DecodeBlock), E with PyTorch's default 1e-5 (EncodeBlock): kept
# different on purpose, as in the official checkpoints' training code.
G_NORM_EPS = 1e-8
E_NORM_EPS = 1e-5
# F and D use a 10x smaller learning rate than the convolutional networks (official lrmul 0.1).
MAPPING_LRMUL = 0.1


class MappingBlock(nn.Module):
    """One layer of F: equalized linear + LeakyReLU (also after the last layer, official quirk)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.fc = EqualLinear(width, width, lrmul=MAPPING_LRMUL)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return leaky_relu(self.fc(x))


class Mapping(nn.Module):
    """F: z [N, Z] -> w [N, Z]; pixel norm then `mapping_layers` MappingBlocks (official `MappingF`)."""

    def __init__(self, config: ALAEConfig | MLPConfig) -> None:
        super().__init__()
        self.map_blocks = nn.ModuleList(
            MappingBlock(config.latent_size) for _ in range(config.mapping_layers)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = pixel_norm(z)
        for block in self.map_blocks:
            x = block(x)
        return x


class LatentDiscriminator(nn.Module):
    """D: w [N, Z] -> real/fake logit [N] (official `MappingD`).

    Three affine layers with no nonlinearity between them (so D is affine in w); the last
    layer has 2Z outputs of which only index Z is the logit. The other rows are kept so that
    official checkpoints load unchanged, and skipped in the computation.
    """

    def __init__(self, config: ALAEConfig) -> None:
        super().__init__()
        z = config.latent_size
        self.map_blocks = nn.ModuleList(
            EqualLinear(z, out, lrmul=MAPPING_LRMUL) for out in (z, z, 2 * z)
        )
        self.logit_index = z

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        x = w
        for layer in self.map_blocks[:-1]:
            x = layer(x)
        last = self.map_blocks[-1]
        assert isinstance(last, EqualLinear)  # module lists are typed by their items' base class
        bias = last.effective_bias()
        assert bias is not None  # D's last layer has a bias (see __init__)
        row = slice(self.logit_index, self.logit_index + 1)
        return torch.nn.functional.linear(x, last.kernel()[row], bias[row])[:, 0]


class DecodeBlock(nn.Module):
    """One G block: [upsample-conv, blur] -> noise, bias, LReLU, IN, AdaIN -> conv -> same again.

    Block 0 starts from the learned constant and has no `conv_1`. Mirror of `EncodeBlock`.
    """

    def __init__(self, config: ALAEConfig, resolution: int) -> None:
        super().__init__()
        cout = config.channels_at(resolution)
        self.has_first_conv = resolution > 4
        if self.has_first_conv:
            cin = config.channels_at(resolution // 2)
            self.fused = resolution >= FUSED_MIN_RESOLUTION
            # Below 128 px the official G upsamples then convolves; UpConv2d computes the same
            # as one transposed conv (2.25x fewer multiply-adds) with the official weight layout.
            self.conv_1 = FusedUpConv2d(cin, cout) if self.fused else UpConv2d(cin, cout)
        self.noise_weight_1 = nn.Parameter(torch.zeros(1, cout, 1, 1))
        self.bias_1 = nn.Parameter(torch.zeros(1, cout, 1, 1))
        self.style_1 = EqualLinear(config.latent_size, 2 * cout, gain=1.0)
        self.conv_2 = EqualConv2d(cout, cout, 3)
        self.noise_weight_2 = nn.Parameter(torch.zeros(1, cout, 1, 1))
        self.bias_2 = nn.Parameter(torch.zeros(1, cout, 1, 1))
        self.style_2 = EqualLinear(config.latent_size, 2 * cout, gain=1.0)

    @staticmethod
    def _epilogue(
        x: torch.Tensor,
        noise_weight: torch.Tensor,
        noise: torch.Tensor | None,
        bias: torch.Tensor | None,
        style: torch.Tensor,
    ) -> torch.Tensor:
        """noise, bias (None: added by the conv), LReLU, IN and AdaIN."""
        if noise is not None:
            x = torch.addcmul(x, noise_weight, noise)
        if bias is not None:
            x = x + bias
        return style_mod(instance_norm(leaky_relu(x), G_NORM_EPS), style)

    def forward(
        self,
        x: torch.Tensor,
        w1: torch.Tensor,
        w2: torch.Tensor,
        noise: tuple[torch.Tensor | None, torch.Tensor | None],
    ) -> torch.Tensor:
        if self.has_first_conv:
            x = self.conv_1(x)
            x = blur(x)
        x = self._epilogue(x, self.noise_weight_1, noise[0], self.bias_1, self.style_1(w1))
        # bias_2 is added by conv_2 (free in the conv's output pass) instead of after the noise: the
        # same sum in another order (official: conv, noise, bias).
        x = self.conv_2(x, self.bias_2.flatten())
        return self._epilogue(x, self.noise_weight_2, noise[1], None, self.style_2(w2))


class EncodeBlock(nn.Module):
    """One E block: conv, bias, LReLU -> stats#1, IN -> blur, downsample-conv, bias, LReLU -> stats#2, IN.

    Each pair of statistics ([means, stds] per channel) is projected to a w-sized vector; the
    block returns the normalised map and the sum of both projections (official `EncodeBlock`).
    """

    def __init__(self, config: ALAEConfig, resolution: int) -> None:
        super().__init__()
        cin, cout = config.channels_at(resolution), config.channels_at(resolution // 2)
        self.conv_1 = EqualConv2d(cin, cin, 3)
        self.bias_1 = nn.Parameter(torch.zeros(1, cin, 1, 1))
        # Official: a fused 4x4 stride-2 conv from 128 px up, a 3x3 conv then 2x2 average pooling
        # below. Both are this layer's function with the same weight layout, so it serves both.
        self.conv_2 = FusedDownConv2d(cin, cout)
        self.bias_2 = nn.Parameter(torch.zeros(1, cout, 1, 1))
        self.style_1 = EqualLinear(2 * cin, config.latent_size)
        self.style_2 = EqualLinear(2 * cout, config.latent_size)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        # The biases follow the conv output's dtype: under bf16 autocast an fp32 bias would promote
        # every later element-wise pass (and R1's double backward through them) to fp32 and make
        # the next conv cast the map back (bench/NOTES.md, v5). A no-op in fp32.
        x = self.conv_1(x)
        stats_1, x = channel_stats_and_norm(leaky_relu(x + self.bias_1.to(x.dtype)), E_NORM_EPS)
        x = self.conv_2(blur(x))
        stats_2, x = channel_stats_and_norm(leaky_relu(x + self.bias_2.to(x.dtype)), E_NORM_EPS)
        return x, self.style_1(stats_1), self.style_2(stats_2)


class Generator(nn.Module):
    """G: styles w+ [N, 2L, Z] -> image [N, C, R, R] at level of detail `lod` (official `Generator`)."""

    def __init__(self, config: ALAEConfig) -> None:
        super().__init__()
        resolutions = [config.lod_resolution(i) for i in range(config.layer_count)]
        self.const = nn.Parameter(torch.ones(1, config.channels_at(4), 4, 4))
        self.decode_block = nn.ModuleList(DecodeBlock(config, r) for r in resolutions)
        # to_rgb has a tiny gain (0.03) so a fresh G starts near a grey image.
        self.to_rgb = nn.ModuleList(
            EqualConv2d(config.channels_at(r), config.channels, 1, bias=True, gain=0.03)
            for r in resolutions
        )

    def forward(
        self,
        styles: torch.Tensor,
        lod: int,
        blend: float = 1.0,
        noise: Sequence[torch.Tensor | None] | None = None,
    ) -> torch.Tensor:
        """Render w+ through blocks 0..lod, fading from lod-1 when `blend < 1`.

        Args:
            styles: [N, 2L, Z] (at least 2(lod+1) styles are used).
            lod: level of detail, 0 (4 px) to L-1 (full resolution).
            blend: 1 for the plain path; in [0, 1) mixes in the upsampled lod-1 RGB output.
            noise: per injection point (block 0 point 1, block 0 point 2, block 1 point 1, ...),
                tensors broadcastable to [N, 1, H, W]; None means no noise.
        """
        noise = list(noise) if noise is not None else [None] * (2 * (lod + 1))
        # The constant stays batch 1 until the first style modulation broadcasts it (as in the
        # official code, whose first noise map is therefore [1, 1, 4, 4] and batch-shared).
        x: torch.Tensor = self.const
        for i in range(lod):
            x = self.decode_block[i](
                x, styles[:, 2 * i], styles[:, 2 * i + 1], noise[2 * i : 2 * i + 2]
            )
        previous = self.to_rgb[lod - 1](x) if blend < 1 else None
        x = self.decode_block[lod](
            x, styles[:, 2 * lod], styles[:, 2 * lod + 1], noise[2 * lod : 2 * lod + 2]
        )
        x = self.to_rgb[lod](x)
        if previous is not None:
            x = fade_in(upscale2d(previous), x, blend)
        return x


class Encoder(nn.Module):
    """E: image [N, C, 2^(lod+2), ...] -> w [N, Z], the sum of every used block's styles.

    Mirror of G (official `EncoderDefault`): `from_rgb[i]` and `encode_block[i]` handle
    resolution 2^(L+1-i). FromRGB is followed by two LeakyReLUs (official quirk: the layer has
    one and the encoder applies another).
    """

    def __init__(self, config: ALAEConfig) -> None:
        super().__init__()
        resolutions = [config.resolution // 2**i for i in range(config.layer_count)]
        self.layer_count = config.layer_count
        self.from_rgb = nn.ModuleList(
            EqualConv2d(config.channels, config.channels_at(r), 1, bias=True) for r in resolutions
        )
        self.encode_block = nn.ModuleList(EncodeBlock(config, r) for r in resolutions)

    def _from_rgb(self, index: int, x: torch.Tensor) -> torch.Tensor:
        # LReLU(LReLU(x)) is one LReLU of slope 0.2² (0.04): one pass over E's largest map instead
        # of two, forward, backward and in R1's double backward (bench/NOTES.md, v6).
        return torch.nn.functional.leaky_relu(self.from_rgb[index](x), LEAKY_SLOPE**2)

    def forward(self, x: torch.Tensor, lod: int, blend: float = 1.0) -> torch.Tensor:
        first = self.layer_count - lod - 1
        image = x
        x, w1, w2 = self.encode_block[first](self._from_rgb(first, image))
        if blend < 1:
            # Fade-in: the new top block's styles count `blend` times; its output is mixed
            # with the downsampled image seen through the previous level's FromRGB.
            w = w1 * blend + w2 * blend
            x = fade_in(self._from_rgb(first + 1, downscale2d(image)), x, blend)
        else:
            w = w1 + w2
        for block in self.encode_block[first + 1 :]:
            x, w1, w2 = block(x)
            w = w + (w1 + w2)
        return w
