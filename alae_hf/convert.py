"""Convert an official StyleALAE checkpoint (podgorskiy/ALAE `.pth`) into an alae_hf folder.

The official file is `torch.save({"models": {group: state_dict}, "auxiliary": {...}})`
(official `checkpointer.py`; shared/reference/official_alae.md §2). We read the EMA groups the
official demos use (`generator_s` = G, `discriminator_s` = E, `mapping_fl_s` = F,
`mapping_tl_s` = D) and `dlatent_avg`, rename keys, and divide each equalized-lr weight by its
runtime scale, because the official code stores effective weights ("implicit lreq").

Loading uses `torch.load(weights_only=True)`: no code from the file runs. The `auxiliary`
entries pickle the official repo's own classes (`tracker.RunningMeanTorch`, ...); each such
global is replaced by an inert stub class, and the entries are ignored.

CLI: `alae-convert --checkpoint model_157.pth --preset ffhq --out ffhq-alae`.
"""

from __future__ import annotations

import argparse
import os
import re
from typing import Any

import torch

from .card import model_card
from .config import ALAEConfig, preset
from .layers import EqualLinear
from .model import StyleALAE

# official group -> (our module prefix, official inner-key -> our inner-key rewrites)
GROUPS = {
    "generator": ("generator.", [(r"^to_rgb\.(\d+)\.to_rgb\.", r"to_rgb.\1.")]),
    "discriminator": ("encoder.", [(r"^from_rgb\.(\d+)\.from_rgb\.", r"from_rgb.\1.")]),
    "mapping_fl": ("mapping.", []),
    "mapping_tl": ("discriminator.", []),
}
BLUR_KERNEL = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16.0
_UNSUPPORTED = re.compile(r"GLOBAL ([\w.]+)\.(\w+) was not an allowed global|Unsupported global: GLOBAL ([\w.]+)\.(\w+)")
_SAFE_MODULE_PREFIXES = ("torch", "collections", "builtins", "_codecs")


class ConversionError(ValueError):
    """The checkpoint does not fit the requested architecture, with the offending keys."""


def _stub(module: str, name: str) -> type:
    """An inert class standing in for a pickled class of the official repo."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args

    def __setstate__(self, state: Any) -> None:
        self.state = state

    return type(name, (), {"__module__": module, "__qualname__": name, "__init__": __init__,
                           "__setstate__": __setstate__})


def load_official(path: str | os.PathLike, max_stubs: int = 64) -> dict[str, Any]:
    """Read an official `.pth` with `weights_only=True`, stubbing the repo's own pickled classes."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no checkpoint file at {path}")
    stubs: list[type] = []
    for _ in range(max_stubs):
        try:
            with torch.serialization.safe_globals(stubs):
                data = torch.load(path, map_location="cpu", weights_only=True)
            break
        except Exception as err:  # noqa: BLE001 - the unpickler raises a bare UnpicklingError/RuntimeError
            found = _UNSUPPORTED.search(str(err))
            if not found:
                raise ConversionError(f"{path} is not a readable PyTorch checkpoint: {err}") from err
            module, name = [g for g in found.groups() if g][:2]
            if module.startswith(_SAFE_MODULE_PREFIXES):
                raise ConversionError(f"{path} needs {module}.{name}, which is not safe to load") from err
            stubs.append(_stub(module, name))
    else:
        raise ConversionError(f"{path} pickles more than {max_stubs} foreign classes")
    if not isinstance(data, dict) or "models" not in data:
        raise ConversionError(f"{path} is not an official ALAE checkpoint (no 'models' entry)")
    return data


def infer_config(models: dict[str, dict[str, torch.Tensor]], ema: bool = True) -> ALAEConfig:
    """Read the architecture off the tensor shapes (max_channels is the largest channel seen)."""
    suffix = "_s" if ema else ""
    g, e, f = (models[f"{name}{suffix}"] for name in ("generator", "discriminator", "mapping_fl"))
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


def _runtime_scales(model: StyleALAE) -> dict[str, float]:
    """Divisors turning official effective weights into our stored ones, per parameter name."""
    scales = {}
    for name, module in model.named_modules():
        if hasattr(module, "weight_scale"):
            scales[f"{name}.weight"] = module.weight_scale
        if isinstance(module, EqualLinear) and module.bias is not None:
            scales[f"{name}.bias"] = module.bias_scale
    return scales


def convert_state_dict(models: dict[str, dict[str, torch.Tensor]], model: StyleALAE,
                       ema: bool = True) -> dict[str, torch.Tensor]:
    """Map official groups onto `model`'s state dict; every key must be used exactly once."""
    suffix = "_s" if ema else ""
    expected = model.state_dict()
    scales = _runtime_scales(model)
    out: dict[str, torch.Tensor] = {}
    for group, (prefix, rewrites) in GROUPS.items():
        if f"{group}{suffix}" not in models:
            raise ConversionError(f"checkpoint has no '{group}{suffix}' group; it has {sorted(models)}")
        for key, value in models[f"{group}{suffix}"].items():
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
    if not torch.allclose(value.float(), BLUR_KERNEL.expand_as(value), atol=1e-6):
        raise ConversionError(f"{key} is not the standard [1,2,1]x[1,2,1]/16 blur kernel")


def _check_coverage(out: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    missing = sorted(set(expected) - set(out))
    unexpected = sorted(set(out) - set(expected))
    mismatched = [f"{k}: checkpoint {tuple(out[k].shape)} vs model {tuple(expected[k].shape)}"
                  for k in set(out) & set(expected) if out[k].shape != expected[k].shape]
    if missing or unexpected or mismatched:
        raise ConversionError(
            f"checkpoint does not match the architecture: missing={missing[:8]} ({len(missing)}), "
            f"unexpected={unexpected[:8]} ({len(unexpected)}), mismatched={sorted(mismatched)[:8]}"
        )


def convert_checkpoint(path: str | os.PathLike, preset_name: str | None = None, ema: bool = True,
                       **overrides: Any) -> StyleALAE:
    """Build a `StyleALAE` holding the weights of an official checkpoint.

    Args:
        path: the official `.pth` file.
        preset_name: ffhq, celeba-hq256, bedroom, celeba or mnist; inferred from shapes if None.
        ema: use the EMA groups (`*_s`, what the official demos load) or the training ones.
        overrides: other config fields (e.g. truncation defaults).
    """
    models = load_official(path)["models"]
    arch = preset(preset_name, **overrides) if preset_name else infer_config(models, ema).replace(**overrides)
    model = StyleALAE(**arch.to_dict())
    model.load_state_dict(convert_state_dict(models, model, ema), strict=True)
    return model.eval()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Convert an official StyleALAE .pth into an alae_hf folder.")
    parser.add_argument("--checkpoint", required=True, help="official .pth file (e.g. model_157.pth)")
    parser.add_argument("--preset", default=None, help="ffhq | celeba-hq256 | bedroom | celeba | mnist (default: infer)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--no-ema", action="store_true", help="use the training weights instead of the EMA ones")
    parser.add_argument("--fp16", action="store_true", help="also write an fp16 variant")
    args = parser.parse_args(argv)
    try:
        model = convert_checkpoint(args.checkpoint, args.preset, ema=not args.no_ema)
    except (ConversionError, FileNotFoundError, ValueError) as err:
        parser.exit(2, f"alae-convert: error: {err}\n")
    model.save_pretrained(args.out)
    if args.fp16:
        model.half().save_pretrained(args.out, variant="fp16")
    name = os.path.basename(os.fspath(args.checkpoint))
    with open(os.path.join(args.out, "README.md"), "w", encoding="utf-8") as handle:
        handle.write(model_card(model.arch, title=f"StyleALAE ({args.preset or 'converted'})",
                                description=f"Converted from the official checkpoint `{name}` "
                                            f"({'EMA' if not args.no_ema else 'training'} weights) with `alae-convert`."))
    print(f"wrote {args.out} ({sum(p.numel() for p in model.parameters()):,} parameters)")


if __name__ == "__main__":
    main()


__all__ = ["ConversionError", "convert_checkpoint", "convert_state_dict", "infer_config", "load_official"]
