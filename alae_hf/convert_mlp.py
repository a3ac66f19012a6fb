"""Convert an official MLP ALAE checkpoint (podgorskiy/ALAE `configs/mnist_fc.yaml`) to an `MLPALAE`.

Same rules as the StyleALAE converter (`alae_hf.convert`, which reads the file and calls this
module when it meets fully-connected G/E groups or `--preset mnist-fc`): weights only, every
key used, every shape matched, the equalized-lr runtime scales divided out (official weights
are the effective ones). Official groups: `generator_s` = `GeneratorFC` (`fc_1..3`),
`discriminator_s` = `EncoderFC` (`fc_1..3`), `mapping_fl_s` = `MappingF`, `mapping_tl_s` = D,
`dlatent_avg` = the running mean of w.

D: the official `Model` always builds `MappingD` (last layer Z -> 2Z, logit = output Z); a
`MappingDNoStyle` (last layer Z -> Z, logit = output 0), what `mnist_fc.yaml` names, is read
too. Ours is the latter, so a 2Z-wide last layer contributes its rows Z..2Z-1: row 0 of ours
is the official logit row, and rows 0..Z-1 of theirs are never read by the official forward.
`dlatent_avg.buff` has 2*LAYER_COUNT identical rows (one per style of the StyleALAE layout):
they must be equal, and give `w_avg` and the output resolution 2^(LAYER_COUNT+1).
The forward resizes with "nearest", as the official `F.interpolate` calls do.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .models.layers import runtime_scales
from .models.mlp import MLPALAE
from .models.mlp_networks import MLP_PRESETS, MLPConfig, mlp_preset

MLP_GROUPS = {
    "generator": "generator.",
    "discriminator": "encoder.",
    "mapping_fl": "mapping.",
    "mapping_tl": "discriminator.",
}
OFFICIAL_RESIZE = "nearest"  # official GeneratorFC / EncoderFC: F.interpolate's default mode


class MLPConversionError(ValueError):
    """The checkpoint does not fit the MLP ALAE (re-raised as `convert.ConversionError`)."""


def is_mlp_checkpoint(
    models: dict[str, dict[str, torch.Tensor]], preset_name: str | None, ema: bool = True
) -> bool:
    """True for `--preset mnist-fc`, or, without a preset, when G is a stack of `fc_*` layers."""
    if preset_name is not None:
        return preset_name in MLP_PRESETS
    generator = models.get("generator_s" if ema else "generator", {})
    return "fc_1.weight" in generator and not any(k.startswith("decode_block") for k in generator)


def infer_mlp_config(models: dict[str, dict[str, torch.Tensor]], ema: bool = True) -> MLPConfig:
    """Read the MLP architecture off the tensor shapes (official G writes one 28x28 channel)."""
    suffix = "_s" if ema else ""
    try:
        g, f = models[f"generator{suffix}"], models[f"mapping_fl{suffix}"]
        side = math.isqrt(g["fc_3.weight"].shape[0])
        styles = models["dlatent_avg"]["buff"].shape[0]
        return MLPConfig(
            resolution=2 ** (styles // 2 + 1),
            fc_resolution=side,
            hidden_size=g["fc_1.weight"].shape[0],
            latent_size=f["map_blocks.0.fc.weight"].shape[1],
            mapping_layers=sum(1 for k in f if k.endswith("fc.weight")),
            channels=1,
            resize_mode=OFFICIAL_RESIZE,
        )
    except (KeyError, IndexError) as err:
        raise MLPConversionError(
            f"cannot read the MLP architecture off the checkpoint: no {err} "
            f"(groups: {sorted(models)}); pass --preset mnist-fc"
        ) from None
    except ValueError as err:
        raise MLPConversionError(
            f"cannot read the MLP architecture off the checkpoint: {err}"
        ) from None


def official_group(
    models: dict[str, dict[str, torch.Tensor]],
    group: str,
    ema: bool,
    error: type[Exception] = ValueError,
) -> dict[str, torch.Tensor]:
    """An official checkpoint's module group: its EMA copy (`<group>_s`, what the official demos
    use) or the training weights; `error` names what is missing."""
    name = f"{group}_s" if ema else group
    if name not in models:
        raise error(f"checkpoint has no '{name}' group; it has {sorted(models)}")
    return models[name]


def _discriminator_tensor(
    key: str, value: torch.Tensor, expected: dict[str, torch.Tensor]
) -> torch.Tensor:
    """A `MappingD` last layer (2Z outputs, logit = output Z) -> ours (Z outputs, logit = output 0)."""
    ours = expected.get(key)
    if (
        ours is not None
        and value.shape[0] == 2 * ours.shape[0]
        and value.shape[1:] == ours.shape[1:]
    ):
        return value[ours.shape[0] :]
    return value


def _w_avg(models: dict[str, dict[str, torch.Tensor]]) -> torch.Tensor:
    buff = models["dlatent_avg"]["buff"].float()
    if buff.ndim != 2 or not torch.equal(buff, buff[:1].expand_as(buff)):
        raise MLPConversionError(
            f"dlatent_avg.buff {tuple(buff.shape)} is not rows of one w (official FC "
            "training keeps them identical)"
        )
    return buff[:1].clone()


def convert_mlp_state_dict(
    models: dict[str, dict[str, torch.Tensor]], model: MLPALAE, ema: bool = True
) -> dict[str, torch.Tensor]:
    """Map official groups onto `model`'s state dict, every key used once (coverage checked by the caller)."""
    expected, scales = model.state_dict(), runtime_scales(model)
    out: dict[str, torch.Tensor] = {}
    for group, prefix in MLP_GROUPS.items():
        for key, value in official_group(models, group, ema, MLPConversionError).items():
            name = prefix + key
            if group == "mapping_tl":
                value = _discriminator_tensor(name, value, expected)
            out[name] = value.float() / scales.get(name, 1.0)
    out["w_avg"] = _w_avg(models)
    return out


def mlp_arch(
    models: dict[str, dict[str, torch.Tensor]],
    preset_name: str | None,
    ema: bool = True,
    **overrides: Any,
) -> MLPConfig:
    """The preset (with the official "nearest" resizing) or the shapes' config, fields overridden."""
    overrides.setdefault("resize_mode", OFFICIAL_RESIZE)
    if preset_name is not None:
        return mlp_preset(preset_name, **overrides)
    return infer_mlp_config(models, ema).replace(**overrides)


__all__ = [
    "MLPConversionError",
    "convert_mlp_state_dict",
    "infer_mlp_config",
    "is_mlp_checkpoint",
    "mlp_arch",
]
