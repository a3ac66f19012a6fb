"""Evaluate a StyleALAE folder: `python -m alae_hf.evaluation --model DIR --out report/` (or `alae-eval`).

Writes `metrics.json`, `report.md` and PNGs (samples, reconstruction pairs, direction ↔ factor
heatmaps for SeFa and GANSpace, traversals of the best direction per factor). With
`--data synthetic:faces[:seed=S,length=L]` (the default) every metric of `alae_hf.evaluation.metrics` and
`alae_hf.evaluation.latent_metrics` is computed, with held-out faces (indices L, L+1, ... of the training
spec, never seen in training) as the real data. With `--data DIR` (a model trained on other
images) only the applicable ones are: reconstruction MSE/PSNR on images from DIR and latent
reciprocity; attribute-net metrics would measure synthetic-face factors that DIR lacks.

Default sizes (a random-init 64 px model, 7.7M parameters, runs in a few minutes on CPU):
2,000 generated and 2 x 2,000 real images for FD-attr; 1,000 held-out real images for
reconstruction and W separability; 500 samples for reciprocity; 500 pairs per PPL variant
(Z/W x full/end); 8 directions per method, each scored on 32 samples; GANSpace PCA on 20,000
mapped samples. The paper-scale protocol (50k FID, 100k PPL) is reachable through the flags.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..datasets.synthetic_faces import (
    FACTOR_NAMES,
    FACTORS,
    SyntheticFaces,
    is_synthetic_spec,
    parse_spec,
)
from . import report as rep
from .attributes import load_attribute_metrics, load_attribute_net
from .latent_metrics import (
    best_per_factor,
    direction_response,
    isolation,
    linear_separability,
    path_length,
)
from .metrics import (
    encode_reconstruct,
    fd_report,
    generated_samples,
    latent_reciprocity,
    reconstruction_metrics,
)
from .sizes import EvalSizes

if TYPE_CHECKING:
    from ..models.base import ALAEModel

TRAVERSAL_ALPHAS = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)


# ---- data -------------------------------------------------------------------------------------
def synthetic_real(
    spec: str, resolution: int, start: int, count: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Held-out faces `start .. start+count-1` of a synthetic spec at `resolution` (uint8 NHWC)."""
    kwargs = parse_spec(spec)
    render_res = min(max(resolution, 32), 256)
    ds = SyntheticFaces(kwargs.get("seed", 0), render_res, start + count)
    images, labels = ds.batch(range(start, start + count))
    if render_res != resolution:
        from PIL import Image

        images = np.stack(
            [
                np.asarray(Image.fromarray(a).resize((resolution, resolution), Image.BOX))
                for a in images
            ]
        )
    return images, labels


def folder_images(folder: str | Path, resolution: int, channels: int, count: int) -> np.ndarray:
    """The first `count` images (sorted, recursive) of a folder, square-cropped to `resolution`."""
    from ..imaging import IMAGE_EXTENSIONS, fit_square, load_image

    files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)[
        :count
    ]
    if not files:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) under {folder}")
    mode = "RGB" if channels == 3 else "L"
    images = [np.asarray(fit_square(load_image(f, mode=mode), resolution)) for f in files]
    return np.stack([a if a.ndim == 3 else a[:, :, None] for a in images])


# ---- optional standard-weight metrics ---------------------------------------------------------
def offline_weight_notes() -> list[str]:
    """Why Inception-FID and LPIPS are (not) computed: looks for pip packages and cached weights,
    never downloads."""
    hub = Path(torch.hub.get_dir()) / "checkpoints"
    notes = []
    fid_file = hub / "pt_inception-2015-12-05-6726825d.pth"
    if not (_importable("pytorch_fid") and fid_file.is_file()):
        notes.append(
            "Standard FID (Inception-v3) skipped: no Inception weights offline (checked pip packages "
            f"pytorch_fid / torch_fidelity / cleanfid / torchvision and {fid_file}). FD-attr replaces it."
        )
    else:
        notes.append(
            "Standard FID available offline (pytorch_fid) but not run by this CLI; FD-attr is reported."
        )
    if lpips_distance("cpu") is None:
        notes.append(
            "LPIPS (VGG16) unavailable offline (no `lpips` package with cached VGG weights): PPL uses "
            "squared L2 distances of attribute-net features instead."
        )
    return notes


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def lpips_distance(device: str | torch.device):
    """An LPIPS-VGG distance (x0, x1 in [-1, 1]) -> [B] if `lpips` and its VGG weights are
    already on disk, else None."""
    vgg = Path(torch.hub.get_dir()) / "checkpoints" / "vgg16-397923af.pth"
    if not (_importable("lpips") and vgg.is_file()):
        return None
    import lpips

    net = lpips.LPIPS(net="vgg", verbose=False).to(device).eval()
    return lambda a, b: net(a.float(), b.float()).reshape(-1)


# ---- the synthetic-faces evaluation -----------------------------------------------------------
def _generation_and_reconstruction(
    model: ALAEModel, net, spec: str, sz: EvalSizes, out: Path, m: dict, progress: bool
) -> tuple[dict, np.ndarray, dict]:
    res, n = model.arch.resolution, sz.num_samples
    start = parse_spec(spec).get("length", 70_000)
    real_a, labels_a = synthetic_real(spec, res, start, max(n, sz.num_real))
    real_b, _ = synthetic_real(spec, res, start + len(real_a), n)
    gen = generated_samples(model, net, n, sz.seed, sz.batch_size, sz.num_reciprocity, 32, progress)
    m["fd_attr"] = fd_report(gen["features"], _features(net, real_a[:n]), _features(net, real_b))
    real, labels = real_a[: sz.num_real], {k: v[: sz.num_real] for k, v in labels_a.items()}
    w_real, recon = encode_reconstruct(model, real, sz.batch_size, sz.seed, progress)
    m["reconstruction"] = reconstruction_metrics(net, real, recon, labels)
    m["reciprocity"] = latent_reciprocity(gen["w"], gen["w_rec"])
    _save_figures(out, m, gen["images"], real[:16], recon[:16])
    return gen, w_real, labels


def _features(net, images: np.ndarray) -> np.ndarray:
    from .metrics import describe_images

    return describe_images(net, images)[0]


def _save_figures(
    out: Path, m: dict, samples: np.ndarray | None, real: np.ndarray, recon: np.ndarray
) -> None:
    if samples is not None:
        rep.sample_grid(samples).save(out / "samples.png")
        m["figures"]["samples.png"] = "uncurated samples (no truncation, seed noise)"
    rep.pairs_figure(real, recon).save(out / "reconstructions.png")
    m["figures"]["reconstructions.png"] = (
        "held-out originals (rows 1, 3) over their reconstructions G(E(x))"
    )


def _separability(gen: dict, w_real: np.ndarray, labels: dict, seed: int) -> dict:
    return {
        "w_real": linear_separability(w_real, labels, FACTORS, seed=seed),
        "z_generated": linear_separability(gen["z"], gen["predictions"], FACTORS, seed=seed),
        "w_generated": linear_separability(gen["w"], gen["predictions"], FACTORS, seed=seed),
    }


def _directions(model: ALAEModel, net, sz: EvalSizes, out: Path, m: dict, progress: bool) -> dict:
    """SeFa and GANSpace on all styles: response matrices, heatmaps, isolation."""
    from ..latent.spectral import ganspace, sefa

    k = min(sz.num_directions, model.arch.latent_size)
    sets = {
        "sefa": sefa(model, "all", num_directions=k, seed=sz.seed),
        "ganspace": ganspace(model, n_samples=sz.ganspace_samples, n_components=k, seed=sz.seed),
    }
    m["directions"] = {}
    for method, d in sets.items():
        r = direction_response(
            model,
            net,
            d,
            n=sz.num_response,
            seed=sz.seed,
            batch_size=sz.batch_size,
            progress=progress,
        )
        share, dominant = isolation(r["mean_abs"])
        figure = f"response_{method}.png"
        rows = [f"{method} {i} (sigma {float(d.sigma[i]):.2f})" for i in r["indices"]]
        title = f"{method}: factor change per +1 sigma (styles {d.layers[0]}-{d.layers[-1]})"
        rep.heatmap(r["mean"], rows, r["factors"], title).save(out / figure)
        m["figures"][figure] = (
            f"{method} direction ↔ factor response (signed; categorical = total variation)"
        )
        m["directions"][method] = {
            "indices": r["indices"],
            "layers": d.layers,
            "sigma": d.sigma.tolist(),
            "num_samples": r["num_samples"],
            "factors": r["factors"],
            "response_mean": r["mean"].tolist(),
            "response_mean_abs": r["mean_abs"].tolist(),
            "isolation": share.tolist(),
            "dominant": [r["factors"][j] for j in dominant],
            "total_response": r["mean_abs"].sum(1).tolist(),
            "figure": figure,
        }
    return sets


def _best_per_factor(m: dict) -> dict:
    best = {}
    for method, d in m["directions"].items():
        rows, values = best_per_factor(np.asarray(d["response_mean_abs"]))
        for j, name in enumerate(d["factors"]):
            if name not in best or values[j] > best[name]["response"]:
                best[name] = {
                    "method": method,
                    "direction": d["indices"][rows[j]],
                    "response": float(values[j]),
                    "isolation": d["isolation"][rows[j]],
                }
    return best


def _traversals(model: ALAEModel, sets: dict, best: dict, seed: int, out: Path, m: dict) -> None:
    from ..latent.ops import render, sweep

    w_plus = model.to_w_plus(model.map(model.seed_latents(1, seed)))
    rows, labels = [], []
    for name in FACTOR_NAMES:
        b = best[name]
        frames = sweep(w_plus, sets[b["method"]], b["direction"], TRAVERSAL_ALPHAS)[:, 0]
        rows.append(render(model, frames, noise=seed))
        labels.append(f"{name}: {b['method']} {b['direction']} ({b['response']:.3f}/sigma)")
    header = (
        "best direction per factor; alpha = "
        + ", ".join(f"{a:+g}" for a in TRAVERSAL_ALPHAS)
        + " sigma"
    )
    rep.labelled_rows(rows, labels, header).save(out / "traversals.png")
    m["figures"]["traversals.png"] = "traversal of the best direction per factor (-3σ .. +3σ)"


def _ppl(model: ALAEModel, net, sz: EvalSizes, progress: bool) -> dict:
    distance = lpips_distance(model.device)
    return {
        f"{space}_{sampling}": path_length(
            model,
            net,
            sz.num_ppl,
            space,
            sampling,
            seed=sz.seed,
            batch_size=sz.batch_size,
            progress=progress,
            distance=distance,
        )
        for space in ("z", "w")
        for sampling in ("full", "end")
    }


def evaluate_synthetic(
    model: ALAEModel,
    spec: str,
    sz: EvalSizes,
    out: Path,
    m: dict,
    attribute_net: str | None = None,
    progress: bool = True,
) -> None:
    """Every metric, on held-out faces of `spec` (see the module docstring)."""
    if model.arch.channels != 3:
        raise ValueError(
            f"synthetic faces are RGB; this model has {model.arch.channels} channel(s)"
        )
    net = load_attribute_net(attribute_net, device=model.device)
    m["attribute_net"] = load_attribute_metrics(attribute_net).get("heldout", {})
    with _timed(m, "generation_reconstruction_reciprocity"):
        gen, w_real, labels = _generation_and_reconstruction(model, net, spec, sz, out, m, progress)
    with _timed(m, "separability"):
        m["separability"] = _separability(gen, w_real, labels, sz.seed)
    with _timed(m, "directions"):
        sets = _directions(model, net, sz, out, m, progress)
        m["best_direction_per_factor"] = _best_per_factor(m)
        _traversals(model, sets, m["best_direction_per_factor"], sz.seed, out, m)
    with _timed(m, "ppl"):
        m["ppl"] = _ppl(model, net, sz, progress)


@contextmanager
def _timed(m: dict, name: str) -> Iterator[None]:
    start = time.time()
    yield
    m.setdefault("timings_s", {})[name] = round(time.time() - start, 1)


def evaluate_folder(
    model: ALAEModel, folder: str, sz: EvalSizes, out: Path, m: dict, progress: bool = True
) -> None:
    """Reconstruction MSE/PSNR on images from `folder` and latent reciprocity only."""
    real = folder_images(folder, model.arch.resolution, model.arch.channels, sz.num_real)
    _, recon = encode_reconstruct(model, real, sz.batch_size, sz.seed, progress)
    m["reconstruction"] = reconstruction_metrics(None, real, recon)
    gen = generated_samples(
        model, None, sz.num_reciprocity, sz.seed, sz.batch_size, sz.num_reciprocity, 32, progress
    )
    m["reciprocity"] = latent_reciprocity(gen["w"], gen["w_rec"])
    _save_figures(out, m, gen["images"], real[:16], recon[:16])
    m["notes"].append(
        f"{folder} has no synthetic-face labels: FD-attr, separability, direction response and PPL "
        "(all in the synthetic-face attribute net's space) are skipped as not meaningful."
    )


def evaluate(
    model_path: str,
    out: str | Path,
    data: str = "synthetic:faces",
    sizes: EvalSizes = EvalSizes(),
    device: str = "cpu",
    attribute_net: str | None = None,
    progress: bool = True,
) -> dict:
    """Run the evaluation and write metrics.json, report.md and the figures into `out`."""
    from ..models.style import StyleALAE

    start = time.time()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = StyleALAE.from_pretrained(model_path).to(device).eval().requires_grad_(False)
    m: dict = {
        "model": str(model_path),
        "data": data,
        "device": str(device),
        "sizes": asdict(sizes),
        "notes": offline_weight_notes(),
        "figures": {},
    }
    m["notes"].append(
        "Generated samples use no truncation and no style mixing (the official FID script mixes "
        "with p = 0.9); PPL images are not face-cropped (the attribute net sees whole images)."
    )
    if is_synthetic_spec(data):
        evaluate_synthetic(model, data, sizes, out, m, attribute_net, progress)
    else:
        evaluate_folder(model, data, sizes, out, m, progress)
    m["seconds"] = time.time() - start
    (out / "metrics.json").write_text(
        json.dumps(m, indent=2, default=_json_default) + "\n", encoding="utf-8"
    )
    rep.write_report(m, out)
    return m


def _json_default(value: object) -> object:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


if __name__ == "__main__":  # the command line lives in alae_hf/evaluation/__main__.py
    raise SystemExit(
        "run `python -m alae_hf.evaluation --model DIR --out report/` (or `alae-eval`)"
    )
