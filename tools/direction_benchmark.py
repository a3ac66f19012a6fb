"""Direction benchmark: per factor, the best direction of each method and its isolation.

    python tools/direction_benchmark.py --model checkpoints/alae-synthetic-faces-64 \
        --learned voynov --out bench/results/directions_default.json

Methods: SeFa (all styles and the coarse / middle / fine groups), GANSpace (PCA of w, all styles),
InterFaceGAN-style supervised directions with `--supervised N` (`alae_hf.editing.supervised`,
fitted on other samples than the responses, but labelled by the same attribute net that scores
them) and learned Voynov–Babenko directions (`python -m alae_hf.editing.learned`, read from the
model's `directions/NAME.*`). Each direction's response to ±1σ on its own styles is measured on
`--num-response` untruncated samples with `alae_hf.evaluation.latent_metrics.direction_response`
and scored with `isolation` (max_j|r_kj| / Σ_j|r_kj|, 1 = one factor, 0.1 = spread evenly).

The best direction of a method for factor f is the one with the largest share of f,
|r_kf| / Σ_j|r_kj| (its isolation when f is its dominant factor); a direction whose total
response is under `--min-response` (change per σ summed over factors) is ignored, so that a
direction that barely changes the image cannot win by noise. A factor counts as isolated by a
method when its best direction has f as dominant factor and share ≥ 0.5 (the default's target).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from alae_hf import StyleALAE
from alae_hf.datasets.synthetic_faces import FACTORS
from alae_hf.editing.supervised import supervised
from alae_hf.evaluation.attributes import load_attribute_net
from alae_hf.evaluation.latent_metrics import direction_response, isolation
from alae_hf.latent.directions import Directions
from alae_hf.latent.spectral import ganspace, sefa


def direction_sets(model: StyleALAE, folder: str, k: int, learned: list[str], ganspace_samples: int,
                   supervised_samples: int = 0) -> dict[str, Directions]:
    sets = {f"sefa_{g}" if g != "all" else "sefa": sefa(model, g, num_directions=k, seed=0)
            for g in ("all", "coarse", "middle", "fine")}
    sets["ganspace"] = ganspace(model, n_samples=ganspace_samples, n_components=k, seed=0)
    if supervised_samples:  # fitted on seed 1000's samples; the responses below use seed 0's
        sets["interfacegan"] = supervised(model, load_attribute_net(), n_samples=supervised_samples)
    for name in learned:
        sets[name] = Directions.load(folder, name, model)
    return sets


def best_per_factor(rows: dict, min_response: float) -> dict:
    """{factor: {set: {"direction", "share", "isolation", "dominant", "response"} or None}}.

    A direction's share of factor f is |r_kf| / Σ_j|r_kj|; it equals the direction's isolation
    when f is its dominant factor. Per set, the direction with the largest share of f wins.
    """
    names = [f.name for f in FACTORS]
    best: dict = {n: {} for n in names}
    for name, r in rows.items():
        resp = np.asarray(r["mean_abs"], np.float64)
        total = resp.sum(1)
        ok = total >= min_response
        for j, factor in enumerate(names):
            share = np.where(ok, resp[:, j] / np.maximum(total, 1e-300), -1.0)
            k = int(share.argmax())
            best[factor][name] = None if share[k] < 0 else {
                "direction": r["indices"][k], "share": float(share[k]), "isolation": r["isolation"][k],
                "dominant": r["dominant"][k], "response": float(resp[k, j])}
    return best


def method_of(name: str) -> str:
    if name == "interfacegan":
        return "InterFaceGAN"
    return "SeFa" if name.startswith("sefa") else "GANSpace" if name == "ganspace" else "learned"


def markdown(best: dict, threshold: float = 0.5) -> str:
    present = {method_of(s) for per_set in best.values() for s in per_set}
    methods = [m for m in ("SeFa", "GANSpace", "learned", "InterFaceGAN") if m in present]
    lines = ["| factor | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    counts = {m: 0 for m in methods + ["any"]}
    for factor, per_set in best.items():
        cells, hit = [], False
        for m in methods:
            cands = [(v["share"], s, v) for s, v in per_set.items() if v is not None and method_of(s) == m]
            if not cands:
                cells.append("—")
                continue
            share, s, v = max(cands, key=lambda c: c[0])
            isolates = share >= threshold and v["dominant"] == factor
            counts[m] += isolates
            hit |= isolates
            mark = "" if v["dominant"] == factor else f"; dominant {v['dominant']}"
            cells.append(f"{share:.2f} ({s} {v['direction']}, {v['response']:.3f}/σ{mark})")
        counts["any"] += hit
        lines.append(f"| {factor} | " + " | ".join(cells) + " |")
    lines.append(f"| **factors with isolation ≥ {threshold}** | " + " | ".join(str(counts[m]) for m in methods) + " |")
    lines.append(f"\nAny method: {counts['any']} of {len(best)} factors.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--learned", nargs="*", default=[], help="names of learned sets in MODEL/directions/")
    parser.add_argument("--num-directions", type=int, default=16, help="first K directions of SeFa / GANSpace")
    parser.add_argument("--num-response", type=int, default=32)
    parser.add_argument("--min-response", type=float, default=0.02)
    parser.add_argument("--ganspace-samples", type=int, default=20_000)
    parser.add_argument("--supervised", type=int, default=0, metavar="N",
                        help="also InterFaceGAN-style directions fitted on N labelled samples (alae_hf.editing.supervised)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rescore", type=Path, help="a previous --out: redo the table from its responses")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.rescore is not None:  # recompute the table from a saved run's responses
        saved = json.loads(args.rescore.read_text())
        saved["best"] = best_per_factor(saved["sets"], args.min_response)
        saved["table"] = markdown(saved["best"])
        args.out.write_text(json.dumps(saved, indent=1) + "\n")
        print(saved["table"])
        return
    model = StyleALAE.from_pretrained(args.model).eval().requires_grad_(False)
    net = load_attribute_net()
    rows = {}
    sets = direction_sets(model, args.model, args.num_directions, args.learned, args.ganspace_samples,
                          args.supervised)
    for name, d in sets.items():
        # a supervised set has one direction per label: all of them count
        indices = list(range(d.num_directions if name == "interfacegan" else min(args.num_directions, d.num_directions)))
        r = direction_response(model, net, d, indices=indices, n=args.num_response, seed=0)
        share, dominant = isolation(r["mean_abs"])
        rows[name] = {"layers": d.layers, "indices": indices, "isolation": share.tolist(),
                      "dominant": [r["factors"][j] for j in dominant], "total": r["mean_abs"].sum(1).tolist(),
                      "mean_abs": r["mean_abs"].tolist(), "mean": r["mean"].tolist()}
        print(name, "max isolation", round(float(share.max()), 3), flush=True)
    best = best_per_factor(rows, args.min_response)
    table = markdown(best)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"model": args.model, "num_response": args.num_response,
                                    "num_directions": args.num_directions, "min_response": args.min_response,
                                    "sets": rows, "best": best, "table": table}, indent=1) + "\n")
    print(table)


if __name__ == "__main__":
    main()
