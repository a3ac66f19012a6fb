"""Print max relative errors of alae_hf against official-code fixtures (see tests/test_official_equivalence.py
and tests/test_official_mlp_equivalence.py).

Usage: python tools/equivalence_report.py DIR [DIR ...]   (each DIR holds checkpoint.pth, io.safetensors, meta.json)
"""

import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from alae_hf.convert import convert_checkpoint
from alae_hf.models.base import ALAEModel


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-12))


def report(folder: Path) -> dict[str, float]:
    meta = json.loads((folder / "meta.json").read_text())
    model, io, calls = convert_checkpoint(folder / "checkpoint.pth"), load_file(folder / "io.safetensors"), meta["calls"]
    if meta.get("generator") == "GeneratorFC":  # the fixture recorded the official fully-connected G and E
        return report_mlp(model, io)
    noise = lambda c: [io[f"{c}.noise.{k}"] for k in range(calls[c]["n_noise"])]  # noqa: E731
    out = {}
    with torch.no_grad():
        out["F"] = rel(model.map(io["z"]), io["w"])
        out["D"] = rel(model.discriminate(io["enc_full.w"]), io["d_logit"])
        for c in ("gen_full", "gen_blend", "gen_lod1"):
            y = model.synthesize(io["styles"], noise=noise(c), lod=calls[c]["lod"], blend=calls[c]["blend"])
            out[f"G {c} (lod {calls[c]['lod']}, blend {calls[c]['blend']})"] = rel(y, io[f"{c}.image"])
        for c, x in (("enc_full", "x"), ("enc_blend", "x"), ("enc_lod1", "x_lod1")):
            out[f"E {c} (blend {calls[c]['blend']})"] = rel(model.encode(io[x], blend=calls[c]["blend"]), io[f"{c}.w"])
        y = model.synthesize(io["enc_full.w"], noise=noise("rec"), lod=calls["rec"]["lod"])
        out["reconstruction G(E(x))"] = rel(y, io["rec.image"])
        w = model.truncate(model.map(io["z"]), calls["trunc"]["truncation_psi"], calls["trunc"]["truncation_cutoff"])
        out["truncated generation"] = rel(model.synthesize(w, noise=noise("trunc"), lod=calls["trunc"]["lod"]),
                                          io["trunc.image"])
    return out


def report_mlp(model: ALAEModel, io: dict[str, torch.Tensor]) -> dict[str, float]:
    """The official `mnist_fc` fixture (tests/test_official_mlp_equivalence.py): no noise, no blend."""
    out = {}
    with torch.no_grad():
        out["F"] = rel(model.map(io["z"]), io["w"])
        out["D"] = max(rel(model.discriminate(io[w]), io[d]) for w, d in (("enc_full.w", "d_logit"), ("w", "d_logit_w")))
        for call, lod in (("gen_full", 3), ("gen_lod1", 1)):
            out[f"G {call} (lod {lod})"] = rel(model.synthesize(io["w"], lod=lod), io[f"{call}.image"])
        for call, x in (("enc_full", "x"), ("enc_28", "x28"), ("enc_lod1", "x_lod1")):
            out[f"E {call} ({tuple(io[x].shape[-2:])})"] = rel(model.encode(io[x]), io[f"{call}.w"])
        for call, x in (("rec", "x"), ("rec28", "x28")):
            out[f"reconstruction G(E({x}))"] = rel(model.reconstruct(io[x]), io[f"{call}.image"])
        out["truncated generation"] = rel(model.synthesize(model.truncate(model.map(io["z"]), 0.7)), io["trunc.image"])
    return out


if __name__ == "__main__":
    torch.set_num_threads(2)
    for arg in sys.argv[1:]:
        print(f"== {arg}")
        for key, value in report(Path(arg)).items():
            print(f"  {key:40s} max rel err {value:.2e}")
