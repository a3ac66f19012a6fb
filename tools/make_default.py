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
from alae_hf.card import model_card
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
    sched = state.get("schedule", {})
    return f"""Trained with `train_accelerate.py` on `synthetic:faces` (procedural faces with 10 known factors,
`alae_hf.datasets.synthetic_faces`) on a 2-core CPU, progressive growing from 4 px ({sched.get('lod_kimg', '?')} kimg per
level, {sched.get('fade_kimg', '?')} kimg fade-in), batch {sched.get('batch_size', '?')}, Adam(0, 0.99) lr
{sched.get('learning_rate', '?')}, R1 γ = 10, style mixing {state.get('arch', {}).get('style_mixing_prob', '?')},
EMA half-life 10k images. Images seen: {state.get('images_seen', 'see training_state.json')}.
**This is a CPU interim model**: far fewer images than a GAN needs, so samples are blurry
compared with the data; it exists so the app and the measurements work offline."""


def card(model: StyleALAE, out: Path, names: list[str], has_curves: bool, notes: str = "",
         curve: list[dict] | None = None, recipe: dict | None = None, bench: dict | None = None) -> str:
    state = json.loads((out / "training_state.json").read_text()) if (out / "training_state.json").exists() else {}
    report = (out / "report" / "report.md").read_text()
    report = report.replace("](", "](report/")  # figure links relative to the model folder
    sections = [f"## Training\n\n{training_text(state)}\n{notes}\n\n![samples](samples.png)\n"
                + ("![losses](losses.png)\n" if has_curves else "")]
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
    return model_card(model.arch, title="StyleALAE — synthetic faces 64 px (alae_hf default)",
                      description="The default checkpoint bundled with alae_hf: a StyleALAE trained on procedural "
                                  "cartoon faces whose generative factors are known, so edits can be measured.",
                      license="apache-2.0", extra_sections="\n" + "\n".join(sections))


def _json(path: Path | None):
    return json.loads(path.read_text()) if path is not None else None


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
    (out / "README.md").write_text(card(model, out, names, has_curves, args.notes, **extras))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
