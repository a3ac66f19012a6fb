"""Assemble the bundled default checkpoint from a trained EMA folder.

    python tools/make_default.py --source RUN/checkpoint-N/ema --run RUN --out checkpoints/alae-synthetic-faces-64 \
        [--learned voynov=PATH_STEM] [--curve RUN/curve.json] [--recipe bench/results/recipe_32px.json] \
        [--direction-benchmark bench/results/directions_default.json]
    python tools/make_default.py --card-only --out checkpoints/alae-synthetic-faces-64 [same tables]

Copies the weights, precomputes SeFa (all / coarse / middle / fine) and GANSpace directions into
`directions/` (plus learned Voynov–Babenko sets given with `--learned`), runs
`alae_hf.evaluation.evaluate` into `report/`, draws a sample grid, the training loss curves and the
learning curve (small-size FD-attr and PSNR vs images seen, `tools/recipe_sweep.py eval`), and
writes the model card (YAML metadata, training, the direction benchmark of
`tools/direction_benchmark.py`, the 32 px recipe table, the evaluation report). `--card-only`
rewrites only the card (and learning-curve figure) of an assembled folder.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch

from alae_hf import StyleALAE
from alae_hf.evaluation.evaluate import EvalSizes, evaluate
from alae_hf.imaging import make_grid, tensor_to_pil
from alae_hf.latent.directions import Directions
from alae_hf.latent.spectral import ganspace, sefa
from alae_hf.training.plots import learning_curve, loss_curves


def directions(model: StyleALAE, out: Path, ganspace_samples: int) -> list[str]:
    names = []
    for spec in ("all", "coarse", "middle", "fine"):
        name = "sefa" if spec == "all" else f"sefa_{spec}"
        sefa(model, layers=spec).save(out, name)
        names.append(name)
    ganspace(model, n_samples=ganspace_samples, n_components=64, seed=0).save(out, "ganspace")
    return names + ["ganspace"]


def curve_table(curve: list[dict]) -> str:
    rows = [f"| {e['images_seen']:,} | {e['fd_attr']:.1f} | {e['fd_floor']:.2f} | {e['psnr']:.2f} | "
            f"{e['reciprocity']:.3f} |" for e in curve]
    return "\n".join(["| images seen | FD-attr (500 vs 500) | real-vs-real floor | PSNR dB (200) | reciprocity (200) |",
                      "|---|---|---|---|---|", *rows])


def training_text(state: dict) -> str:
    sched, config = state.get("schedule", {}), state.get("train_config", {})
    images = state.get("images_in_all", state.get("images_seen"))
    recipe = [f"batch {sched.get('batch_size', '?')}", f"Adam(0, 0.99) lr {sched.get('learning_rate', '?')}",
              f"R1 γ = {config.get('r1_gamma', 10)}"
              + (f" every {config['r1_interval']} steps (lazy)" if config.get("r1_interval", 1) > 1 else ""),
              f"style mixing {state.get('arch', {}).get('style_mixing_prob', '?')}",
              "EMA half-life 10k images" + (f" (ramp-up {config['ema_rampup']})" if config.get("ema_rampup") else "")]
    if config.get("real_recon_weight"):
        recipe.append(f"real-image reconstruction term λ = {config['real_recon_weight']}")
    return f"""Trained with `train_accelerate.py` on `synthetic:faces` (procedural faces with 10 known factors,
`alae_hf.datasets.synthetic_faces`) on 2-core CPUs, in segments that each start from the model shipped before them
(see the history below): first from random weights with progressive growing from 4 px, then at 64 px. The last
segment's recipe: {', '.join(recipe)}. **{images:,} images in all.**
**This is a CPU interim model**: far fewer images than a GAN needs (StyleGAN2-ADA reports reasonable results around
5M images), so it improves session by session; it exists so the app and the measurements work offline."""


HISTORY_HEAD = ("| date | images in this segment | images in all | recipe | FD-attr | encoder PSNR dB | reciprocity | "
                "factors isolated |\n|---|---|---|---|---|---|---|---|")


def history_row(metrics: dict, date: str, segment: int, in_all: int, recipe: str) -> dict:
    """One segment of the default's training, scored by its evaluation report."""
    best = metrics["best_direction_per_factor"].values()
    return dict(date=date, images_segment=segment, images_in_all=in_all, recipe=recipe,
                fd_attr=round(metrics["fd_attr"]["fd"], 1), psnr=round(metrics["reconstruction"]["psnr"], 2),
                reciprocity=round(metrics["reciprocity"]["relative"], 3),
                factors_isolated=sum(v["isolation"] >= 0.5 for v in best))


def history_table(rows: list[dict]) -> str:
    lines = [f"| {r['date']} | {r['images_segment']:,} | {r['images_in_all']:,} | {r['recipe']} | {r['fd_attr']} | "
             f"{r['psnr']} | {r['reciprocity']} | {r['factors_isolated']} / 10 |" for r in rows]
    return "\n".join([HISTORY_HEAD, *lines])


def card(model: StyleALAE, out: Path, names: list[str], has_curves: bool, notes: str = "",
         curve: list[dict] | None = None, recipe: dict | None = None, bench: dict | None = None) -> str:
    state = json.loads((out / "training_state.json").read_text()) if (out / "training_state.json").exists() else {}
    report = (out / "report" / "report.md").read_text()
    report = report.replace("](", "](report/")  # figure links relative to the model folder
    sections = [f"## Training\n\n{training_text(state)}\n{notes}\n\n![samples](samples.png)\n"
                + ("![losses](losses.png)\n" if has_curves else "")]
    history = _json_file(out / "history.json")
    if history:
        sections.append("## History\n\nEach segment of training that replaced the shipped default, scored by its own "
                        "evaluation report (`python -m alae_hf.evaluation`, default sizes, seed 0). A segment ships "
                        "only when it passes the rule of `docs/recipe.md` (`tools/ship_rule.py`).\n\n"
                        + history_table(history) + "\n")
    if curve:
        sections.append("## Learning curve\n\nEMA weights at checkpoints of the run, small evaluation sizes "
                        "(`tools/recipe_sweep.py eval`: FD-attr of 500 samples vs 500 held-out faces, PSNR and "
                        "reciprocity on 200); compare rows with each other, not with the full report below.\n\n"
                        f"![learning curve](learning_curve.png)\n\n{curve_table(curve)}\n")
    if bench:
        sections.append("## Direction benchmark: SeFa vs GANSpace vs learned (Voynov–Babenko)\n\n"
                        "Per factor f and method, the direction with the largest share of f in its ±1σ attribute "
                        "response, |r_kf| / Σ_j|r_kj| (= its isolation when f is its dominant factor; "
                        "'dominant X' when another factor dominates it; "
                        f"{bench['num_response']} samples, first {bench['num_directions']} directions of each set; "
                        f"directions moving the factors by < {bench['min_response']} per σ in total ignored); "
                        "in brackets the set, direction and its |change| of that factor per σ. "
                        "`tools/direction_benchmark.py`; responses in `report/direction_benchmark.json`.\n\n" + bench["table"] + "\n")
    if recipe:
        sections.append("## Recipe at 32 px (CPU learning curves)\n\n`tools/recipe_sweep.py`; every point in "
                        "`bench/results/recipe_32px.json`. FD-attr of the live weights (500 samples vs 500 "
                        "held-out faces) after 6.4k, 9.6k and 12.8k images; PSNR and reciprocity (200) at "
                        "12.8k; the last column is the EMA model's FD at 12.8k (official half-life 10k images "
                        "unless `ema_rampup`). Conclusions and seed noise: `docs/recipe.md`. "
                        f"{recipe['model']}.\n\n" + recipe["table"] + "\n")
    sections.append(f"Precomputed directions in `directions/`: {', '.join(f'`{n}`' for n in names)}.\n\n"
                    f"## Evaluation (`python -m alae_hf.evaluation --model . --out report`)\n\n{report}")
    return model.card(title="StyleALAE — synthetic faces 64 px (alae_hf default)",
                      description="The default checkpoint bundled with alae_hf: a StyleALAE trained on procedural "
                                  "cartoon faces whose generative factors are known, so edits can be measured.",
                      license="apache-2.0", extra_sections="\n" + "\n".join(sections))


def _json(path: Path | None):
    return json.loads(path.read_text()) if path is not None else None


def _json_file(path: Path):
    return json.loads(path.read_text()) if path.is_file() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", help="save_pretrained folder of the EMA model")
    parser.add_argument("--run", help="the training output_dir (logs, training state)")
    parser.add_argument("--out", default="checkpoints/alae-synthetic-faces-64")
    parser.add_argument("--card-only", action="store_true", help="rewrite only the card of an assembled --out")
    parser.add_argument("--learned", nargs="*", default=[], metavar="NAME=STEM",
                        help="learned direction sets to copy in (STEM.safetensors + STEM.json)")
    parser.add_argument("--curve", type=Path, help="curve.json of `tools/recipe_sweep.py eval` for this run")
    parser.add_argument("--recipe", type=Path, help="bench/results/recipe_32px.json")
    parser.add_argument("--direction-benchmark", type=Path, help="JSON of tools/direction_benchmark.py")
    parser.add_argument("--notes", default="", help="extra training notes (markdown) for the card")
    parser.add_argument("--ganspace-samples", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="tiny sample counts (a smoke test of this script)")
    parser.add_argument("--segment", nargs=3, metavar=("DATE", "IMAGES", "RECIPE"),
                        help="add this segment to the card's history: its date, images trained in it, recipe flags")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    curve = None
    if args.curve is not None:
        curve = sorted(json.loads(args.curve.read_text()).values(), key=lambda e: e["images_seen"])
    extras = dict(curve=curve, recipe=_json(args.recipe), bench=_json(args.direction_benchmark))
    if args.card_only:
        model = StyleALAE.from_pretrained(out)
        names = sorted(p.stem for p in (out / "directions").glob("*.json"))
        if curve:
            learning_curve(curve, out / "learning_curve.png")
        (out / "README.md").write_text(card(model, out, names, (out / "losses.png").exists(), args.notes, **extras))
        print(f"rewrote {out / 'README.md'}")
        return
    if args.source is None or args.run is None:
        parser.error("--source and --run are required unless --card-only")
    run = Path(args.run)
    history = _json_file(out / "history.json") or []
    if out.exists():
        shutil.rmtree(out)
    model = StyleALAE.from_pretrained(args.source).eval()
    model.save_pretrained(out)
    state = Path(args.source).parent / "training_state.json"
    if state.exists():
        shutil.copy(state, out / "training_state.json")
    names = directions(model, out, 5_000 if args.quick else args.ganspace_samples)
    for spec in args.learned:
        name, stem = spec.split("=", 1)
        Directions.load_from(stem, model).save(out, name)
        names.append(name)
    make_grid(tensor_to_pil(model.sample(32, seed=0)), columns=8).save(out / "samples.png")
    has_curves = loss_curves(run, out / "losses.png")
    if curve:
        learning_curve(curve, out / "learning_curve.png")
    sizes = EvalSizes(num_samples=200, num_real=200, num_reciprocity=50, num_ppl=50, num_response=8,
                      ganspace_samples=2_000) if args.quick else EvalSizes()
    evaluate(str(out), out / "report", sizes=sizes)
    if args.segment:
        date, images, recipe = args.segment
        in_all = json.loads((out / "training_state.json").read_text())
        in_all = in_all.get("images_in_all", in_all.get("images_seen"))
        metrics = json.loads((out / "report" / "metrics.json").read_text())
        history.append(history_row(metrics, date, int(images), in_all, recipe))
    if history:
        (out / "history.json").write_text(json.dumps(history, indent=1))
    (out / "README.md").write_text(card(model, out, names, has_curves, args.notes, **extras))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
