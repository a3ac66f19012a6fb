"""Convert an official StyleALAE (or MLP ALAE) checkpoint (podgorskiy/ALAE `.pth`) into an alae_hf folder.

The official file is `torch.save({"models": {group: state_dict}, "auxiliary": {...}})`
(official `checkpointer.py`). We read the EMA groups the
official demos use (`generator_s` = G, `discriminator_s` = E, `mapping_fl_s` = F,
`mapping_tl_s` = D) and `dlatent_avg`, rename keys, and divide each equalized-lr weight by its
runtime scale, because the official code stores effective weights ("implicit lreq").

Loading uses `torch.load(weights_only=True)`: no code from the file runs. The `auxiliary`
entries pickle the official repo's own classes (`tracker.RunningMeanTorch`, ...); the file's
globals are listed without unpickling (`unsafe_globals`), each foreign one is replaced by an
inert stub class, and the entries are ignored. Both the legacy format the official release was
saved in (PyTorch 1.4) and the zip format are read.

An official `configs/mnist_fc.yaml` checkpoint (fully-connected G and E) becomes an `MLPALAE`
(`alae_hf.convert_mlp`), by `--preset mnist-fc` or recognised from its keys.

CLI (`alae_hf.convert_cli`): `alae-convert --checkpoint model_157.pth --preset ffhq --out ffhq-alae`,
or `python -m alae_hf.convert` with the same options.
"""

from __future__ import annotations

import os
import pickle
import pickletools
import re
import zipfile
from typing import Any

import torch

from .convert_mlp import (
    MLPConversionError,
    convert_mlp_state_dict,
    is_mlp_checkpoint,
    mlp_arch,
    official_group,
)
from .models.config import ALAEConfig, preset
from .models.layers import runtime_scales
from .models.mlp import MLPALAE
from .models.style import StyleALAE

# official group -> (our module prefix, official inner-key -> our inner-key rewrites)
GROUPS = {
    "generator": ("generator.", [(r"^to_rgb\.(\d+)\.to_rgb\.", r"to_rgb.\1.")]),
    "discriminator": ("encoder.", [(r"^from_rgb\.(\d+)\.from_rgb\.", r"from_rgb.\1.")]),
    "mapping_fl": ("mapping.", []),
    "mapping_tl": ("discriminator.", []),
}
BLUR_KERNEL = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16.0
_SAFE_MODULE_PREFIXES = ("torch", "collections", "builtins", "_codecs")


class ConversionError(ValueError):
    """The checkpoint does not fit the requested architecture, with the offending keys."""


def _stub(module: str, name: str) -> type:
    """An inert class standing in for a pickled class of the official repo."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args

    def __setstate__(self, state: Any) -> None:
        self.state = state

    return type(
        name,
        (),
        {
            "__module__": module,
            "__qualname__": name,
            "__init__": __init__,
            "__setstate__": __setstate__,
        },
    )


def unsafe_globals(path: str | os.PathLike) -> list[str]:
    """`module.name` of each class or function the file pickles beyond plain tensors and containers.

    Zip checkpoints (PyTorch >= 1.6) are read by `torch.serialization.get_unsafe_globals_in_checkpoint`;
    the official release (PyTorch 1.4) wrote the legacy format, a sequence of pickles (magic
    number, protocol, system info, the object), whose GLOBAL opcodes are read with `pickletools`.
    Nothing is unpickled.
    """
    if zipfile.is_zipfile(path):
        return sorted(torch.serialization.get_unsafe_globals_in_checkpoint(path))
    found: set[str] = set()
    with open(path, "rb") as handle:
        for _ in range(4):  # torch's legacy format: the fourth pickle is the saved object
            found = {
                str(arg).replace(" ", ".")
                for op, arg, _ in pickletools.genops(handle)
                if op.name == "GLOBAL"
            }
    return sorted(g for g in found if not g.startswith(_SAFE_MODULE_PREFIXES))


def load_official(path: str | os.PathLike) -> dict[str, Any]:
    """Read an official `.pth` with `weights_only=True`, stubbing the repo's own pickled classes.

    Raises:
        FileNotFoundError: no file at `path`.
        ConversionError: not a readable checkpoint, or not an official ALAE one (one line).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no checkpoint file at {path}")
    try:
        names = unsafe_globals(path)
    except Exception as err:  # noqa: BLE001 - a damaged zip or pickle raises many types
        raise ConversionError(
            f"{path} is not a readable PyTorch checkpoint ({_first_line(err)})"
        ) from None
    refused = [n for n in names if n.startswith(_SAFE_MODULE_PREFIXES)]
    if refused:
        raise ConversionError(
            f"{path} pickles {', '.join(refused)}, which alae_hf does not load "
            "(it could run code, and official ALAE checkpoints do not need it)"
        )
    stubs: list[Any] = [_stub(*name.rsplit(".", 1)) for name in names]  # torch wants callables
    try:
        with torch.serialization.safe_globals(stubs):
            data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # torch's text would advise weights_only=False: never here
        raise ConversionError(
            f"{path} holds objects that cannot be loaded without running code; "
            "alae_hf reads tensors only (is it an official ALAE checkpoint?)"
        ) from None
    except Exception as err:  # noqa: BLE001 - truncated zips, bad storages, ...
        raise ConversionError(
            f"{path} is not a readable PyTorch checkpoint ({_first_line(err)})"
        ) from None
    _check_layout(path, data)
    return data


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:200] if text else type(err).__name__


def _check_layout(path: str | os.PathLike, data: Any) -> None:
    """`{"models": {group: {key: tensor}}, ...}` with the groups this converter reads."""
    if not isinstance(data, dict) or "models" not in data:
        raise ConversionError(f"{path} is not an official ALAE checkpoint (no 'models' entry)")
    models = data["models"]
    if not isinstance(models, dict):
        raise ConversionError(
            f"{path}: 'models' is a {type(models).__name__}, not a dict of state dicts"
        )
    for group, state in models.items():
        if not isinstance(state, dict):
            raise ConversionError(
                f"{path}: models[{group!r}] is a {type(state).__name__}, not a state dict"
            )
        for key, value in state.items():
            if not isinstance(value, torch.Tensor):
                raise ConversionError(
                    f"{path}: models[{group!r}][{key!r}] is a {type(value).__name__}, not a tensor"
                )
    if not isinstance(models.get("dlatent_avg"), dict) or "buff" not in models["dlatent_avg"]:
        raise ConversionError(
            f"{path} has no 'dlatent_avg' (the running mean of w, buffer 'buff'); "
            f"it has {sorted(models)}"
        )


def infer_config(models: dict[str, dict[str, torch.Tensor]], ema: bool = True) -> ALAEConfig:
    """Read the architecture off the tensor shapes (max_channels is the largest channel seen).

    Raises:
        ConversionError: a group or key the shapes are read from is missing.
    """
    suffix = "_s" if ema else ""
    try:
        g, e, f = (
            models[f"{name}{suffix}"] for name in ("generator", "discriminator", "mapping_fl")
        )
        layers = sum(1 for k in g if re.fullmatch(r"decode_block\.\d+\.style_1\.weight", k))
        largest = max(v.shape[1] for k, v in g.items() if k.endswith("bias_1"))
        return ALAEConfig(
            resolution=2 ** (layers + 1),
            start_channels=e["from_rgb.0.from_rgb.weight"].shape[0],
            max_channels=largest,
            latent_size=f["map_blocks.0.fc.weight"].shape[1],
            mapping_layers=sum(1 for k in f if k.endswith("fc.weight")),
            channels=g["to_rgb.0.to_rgb.weight"].shape[0],
        )
    except (KeyError, IndexError) as err:
        raise ConversionError(
            f"cannot read the architecture off the checkpoint: no {err} "
            f"(groups: {sorted(models)}); pass --preset"
        ) from None
    except ValueError as err:  # an empty group, or shapes that make no valid config
        raise ConversionError(
            f"cannot read the architecture off the checkpoint: {err}; pass --preset"
        ) from None


def convert_state_dict(
    models: dict[str, dict[str, torch.Tensor]], model: StyleALAE, ema: bool = True
) -> dict[str, torch.Tensor]:
    """Map official groups onto `model`'s state dict; every key must be used exactly once."""
    expected, scales = model.state_dict(), runtime_scales(model)
    out: dict[str, torch.Tensor] = {}
    for group, (prefix, rewrites) in GROUPS.items():
        for key, value in official_group(models, group, ema, ConversionError).items():
            if key.endswith("blur.weight"):
                _check_blur(key, value)
                continue
            for pattern, repl in rewrites:
                key = re.sub(pattern, repl, key)
            out[prefix + key] = value.float() / scales.get(prefix + key, 1.0)
    out["w_avg"] = models["dlatent_avg"]["buff"].float()
    _check_coverage(out, expected)
    return out


def _check_blur(key: str, value: torch.Tensor) -> None:
    if value.shape[-2:] != (3, 3) or not torch.allclose(
        value.float(), BLUR_KERNEL.expand_as(value), atol=1e-6
    ):
        raise ConversionError(f"{key} is not the standard [1,2,1]x[1,2,1]/16 blur kernel")


def _check_coverage(out: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    missing = sorted(set(expected) - set(out))
    unexpected = sorted(set(out) - set(expected))
    mismatched = [
        f"{k}: checkpoint {tuple(out[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in set(out) & set(expected)
        if out[k].shape != expected[k].shape
    ]
    if missing or unexpected or mismatched:
        raise ConversionError(
            f"checkpoint does not match the architecture: missing={missing[:8]} ({len(missing)}), "
            f"unexpected={unexpected[:8]} ({len(unexpected)}), mismatched={sorted(mismatched)[:8]}"
        )


def convert_checkpoint(
    path: str | os.PathLike, preset_name: str | None = None, ema: bool = True, **overrides: Any
) -> StyleALAE | MLPALAE:
    """Build a `StyleALAE` (or an `MLPALAE`, for official `mnist_fc`) holding an official checkpoint's weights.

    Args:
        path: the official `.pth` file.
        preset_name: ffhq, celeba-hq256, bedroom, celeba, mnist or mnist-fc; inferred from shapes if None.
        ema: use the EMA groups (`*_s`, what the official demos load) or the training ones.
        overrides: other config fields (e.g. truncation defaults).
    """
    models = load_official(path)["models"]
    if is_mlp_checkpoint(models, preset_name, ema):
        return _convert_mlp(models, preset_name, ema, **overrides)
    arch = (
        preset(preset_name, **overrides)
        if preset_name
        else infer_config(models, ema).replace(**overrides)
    )
    model = StyleALAE(**arch.to_dict())
    model.load_state_dict(convert_state_dict(models, model, ema), strict=True)
    return model.eval()


def _convert_mlp(
    models: dict[str, dict[str, torch.Tensor]], preset_name: str | None, ema: bool, **overrides: Any
) -> MLPALAE:
    """The MLP ALAE of an official `mnist_fc` checkpoint (`alae_hf.convert_mlp`), strictly."""
    try:
        model = MLPALAE(**mlp_arch(models, preset_name, ema, **overrides).to_dict())
        state = convert_mlp_state_dict(models, model, ema)
    except MLPConversionError as err:
        raise ConversionError(str(err)) from None
    _check_coverage(state, model.state_dict())
    model.load_state_dict(state, strict=True)
    return model.eval()


if __name__ == "__main__":
    # `python -m alae_hf.convert`: the command line lives in `alae_hf.convert_cli`, which imports
    # this module (never the reverse) so that `alae-convert --help` answers before torch loads.
    from .convert_cli import main

    main()


__all__ = [
    "ConversionError",
    "convert_checkpoint",
    "convert_state_dict",
    "infer_config",
    "load_official",
    "unsafe_globals",
]
