"""Inference throughput of alae_hf (and, optionally, the official code) — a benchmark, not a test.

Measures images/s of generate (F + truncation + G, noise on), encode (E + D) and reconstruct
(E then G) for the official configs at the batch sizes of the official H100 measurements (bench/NOTES.md),
in several variants: fp32, bf16 autocast, channels_last, torch.compile. Reports GFLOP/image
(torch.utils.flop_counter, 2 x multiply-adds) and utilisation against a measured matmul peak.

    python bench/inference.py --device cuda                       # all configs, all variants
    python bench/inference.py --device cpu --configs app64 --variants fp32 --batch 1
    ALAE_OFFICIAL_SRC=/path/to/ALAE PYTHONPATH=/path/to/ALAE python bench/inference.py ... # also time the official Model

Writes bench/results/inference_<device>.json and prints a table last.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from alae_hf import StyleALAE, preset  # noqa: E402
from common import matmul_peak, official_inference, restore_default_tensor_type, timed  # noqa: E402

CONFIGS = {  # name -> (config overrides or preset, batch as in the H100 anchor)
    "mnist": (dict(preset="mnist"), 128),
    "celeba-hq256": (dict(preset="celeba-hq256"), 32),
    "ffhq": (dict(preset="ffhq"), 16),
    # the bundled default's shape: the app's CPU path
    "app64": (dict(resolution=64, start_channels=32, max_channels=256, latent_size=256, mapping_layers=8), 1),
}
VARIANTS = ("fp32", "bf16", "channels_last", "compile")


def build(name: str, device: torch.device) -> StyleALAE:
    spec = dict(CONFIGS[name][0])
    arch = preset(spec.pop("preset")) if "preset" in spec else preset("celeba-hq256").replace(**spec)
    torch.manual_seed(0)
    return StyleALAE(**arch.to_dict()).to(device).eval()


def ops(model: StyleALAE, variant: str, batch: int, device: torch.device) -> dict:
    """The three timed operations for one variant, as closures over fixed inputs."""
    arch = model.arch
    z = torch.randn(batch, arch.latent_size, device=device)
    x = torch.rand(batch, arch.channels, arch.resolution, arch.resolution, device=device) * 2 - 1
    gen = torch.Generator(device=device).manual_seed(0)
    mapping, generator, encoder = model.mapping, model.generator, model.encoder
    if variant == "channels_last":
        model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    if variant == "compile":
        generator, encoder = torch.compile(generator), torch.compile(encoder)
    lod = arch.max_lod
    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if variant == "bf16" else contextlib.nullcontext

    def generate():
        with torch.no_grad(), autocast():
            w = model.truncate(mapping(z))
            return generator(w, lod, 1.0, model.make_noise(batch, gen))

    def encode():
        with torch.no_grad(), autocast():
            return model.discriminator(encoder(x, lod, 1.0))

    def reconstruct():
        with torch.no_grad(), autocast():
            return generator(model.to_w_plus(encoder(x, lod, 1.0)), lod, 1.0, model.make_noise(batch, gen))

    return {"gen": generate, "enc": encode, "rec": reconstruct}


def variant_error(name: str, variant: str, device: torch.device) -> float:
    """Max relative error of a variant's generated images against fp32, with the same noise."""
    batch = 2
    reference = build(name, device)
    torch.manual_seed(1)
    z = torch.randn(batch, reference.arch.latent_size, device=device)
    noise = reference.make_noise(batch, torch.Generator(device=device).manual_seed(1))
    with torch.no_grad():
        expected = reference.synthesize(reference.map(z), noise=noise)
    model = build(name, device)
    generator = model.generator
    if variant == "channels_last":
        model.to(memory_format=torch.channels_last)
    if variant == "compile":
        generator = torch.compile(generator)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if variant == "bf16" else contextlib.nullcontext()
    with torch.no_grad(), autocast:
        out = generator(model.to_w_plus(model.map(z)), model.arch.max_lod, 1.0, noise).float()
    return float((out - expected).abs().max() / expected.abs().max())


def gflops_per_image(model: StyleALAE, device: torch.device) -> dict[str, float]:
    out = {}
    for key, fn in ops(model, "fp32", 1, device).items():
        with FlopCounterMode(display=False) as counter:
            fn()
        out[key] = counter.get_total_flops() / 1e9
    return out


def time_official(name: str, batch: int, device: torch.device) -> dict[str, float] | None:
    """The official gen / enc / rec images/s (`common.official_inference`, as bench/suite.py)."""
    fns = official_inference(build(name, torch.device("cpu")).arch, batch, device)
    if fns is None:
        return None
    try:
        with torch.no_grad():
            return {k: batch / timed(fn, device) for k, fn in fns.items()}
    finally:
        restore_default_tensor_type()


def run(args: argparse.Namespace) -> list[dict]:
    device = torch.device(args.device)
    peak = matmul_peak(device)
    rows = []
    for name in args.configs:
        batch = args.batch or CONFIGS[name][1]
        flops = gflops_per_image(build(name, device), device)
        official = time_official(name, batch, device) if args.official else None
        for variant in args.variants:
            model = build(name, device)
            try:
                rates = {k: batch / timed(fn, device) for k, fn in ops(model, variant, batch, device).items()}
            except Exception as err:  # noqa: BLE001 - a variant that fails is reported, not fatal
                rows.append(dict(config=name, variant=variant, batch=batch, error=f"{type(err).__name__}: {err}"))
                continue
            row = dict(config=name, variant=variant, batch=batch, gflop_per_img=flops, **{f"{k}_img_s": v for k, v in rates.items()})
            row["max_rel_err_vs_fp32"] = variant_error(name, variant, device)
            row["gen_util"] = rates["gen"] * flops["gen"] / 1e3 / peak
            row["gen_ms_per_batch"] = 1e3 * batch / rates["gen"]
            row["enc_ms_per_batch"] = 1e3 * batch / rates["enc"]
            if official:
                row.update({f"official_{k}_img_s": v for k, v in official.items()})
                row.update({f"{k}_speedup": rates[k] / official[k] for k in official})
            rows.append(row)
            print(json.dumps(row), flush=True)
    return [dict(device=device_name(device), matmul_peak_tflops=peak, torch=torch.__version__)] + rows


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} threads)"


def table(rows: list[dict]) -> str:
    head = rows[0]
    lines = [f"device: {head['device']}  matmul peak {head['matmul_peak_tflops']:.1f} TFLOP/s  torch {head['torch']}",
             f"{'config':14s} {'variant':14s} {'batch':>5s} {'GFLOP gen':>9s} {'gen img/s':>10s} {'enc img/s':>10s} "
             f"{'rec img/s':>10s} {'gen util':>8s} {'x official gen':>14s} {'rel err':>8s}"]
    for r in rows[1:]:
        if "error" in r:
            lines.append(f"{r['config']:14s} {r['variant']:14s} {r['batch']:5d} failed: {r['error'][:60]}")
            continue
        speedup = f"{r['gen_speedup']:.2f}" if "gen_speedup" in r else "-"
        lines.append(f"{r['config']:14s} {r['variant']:14s} {r['batch']:5d} {r['gflop_per_img']['gen']:9.2f} "
                     f"{r['gen_img_s']:10.1f} {r['enc_img_s']:10.1f} {r['rec_img_s']:10.1f} {r['gen_util']:8.1%} {speedup:>14s} "
                     f"{r['max_rel_err_vs_fp32']:8.1e}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--configs", nargs="+", default=["mnist", "celeba-hq256", "ffhq"], choices=sorted(CONFIGS))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--batch", type=int, default=None, help="override the per-config batch")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads")
    parser.add_argument("--no-official", dest="official", action="store_false")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.backends.cudnn.benchmark = True
    rows = run(args)
    out = Path(args.out or Path(__file__).parent / "results" / f"inference_{torch.device(args.device).type}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1))
    print(table(rows))


if __name__ == "__main__":
    main()
