"""Does a candidate default beat the shipped one by more than the evaluation's own noise?

    python tools/ship_rule.py --shipped REPORT_SEED0 REPORT_SEED1 --candidate CAND_SEED0 [CAND_SEED1] \
        [--out ship.json]

Each argument is a folder (or `metrics.json`) written by `python -m alae_hf.evaluation`; the two
shipped reports differ only in `--seed`, so their difference is the evaluation's spread. The rule
(docs/recipe.md): ship when FD-attr is lower and encoder-only PSNR higher than the shipped model's,
each by more than its spread, and no other measure is worse by more than the larger of its spread
and 20% of the shipped value. Prints one row per measure and exits 0 (ship) or 1 (keep).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from statistics import mean

HEADLINE = ("fd_attr", "psnr")
TOLERANCE = 0.20  # a non-headline measure may be this much worse (relative) when its spread is smaller


def _agreement(m: dict) -> float:
    """Mean per-factor agreement x <-> G(E(x)): Pearson r (continuous) or accuracy (categorical)."""
    scores = [v.get("pearson", v.get("accuracy")) for v in m["reconstruction"]["agreement"].values()]
    return mean(s for s in scores if s is not None)


def _isolated(m: dict) -> float:
    return float(sum(v["isolation"] >= 0.5 for v in m["best_direction_per_factor"].values()))


# name -> (value of a metrics.json, True when higher is better)
MEASURES: dict[str, tuple[Callable[[dict], float], bool]] = {
    "fd_attr": (lambda m: m["fd_attr"]["fd"], False),
    "psnr": (lambda m: m["reconstruction"]["psnr"], True),
    "reciprocity": (lambda m: m["reciprocity"]["relative"], False),
    "agreement_mean": (_agreement, True),
    "best_isolation": (lambda m: max(v["isolation"] for v in m["best_direction_per_factor"].values()), True),
    "factors_isolated": (_isolated, True),
    "separability_w": (lambda m: m["separability"]["w_real"]["score"], False),
}


def read(path: str) -> dict:
    file = Path(path) / "metrics.json" if Path(path).is_dir() else Path(path)
    try:
        return json.loads(file.read_text())
    except (OSError, ValueError) as err:
        raise SystemExit(f"error: cannot read {file}: {err}") from None


def judge(shipped: list[dict], candidate: list[dict]) -> tuple[bool, list[dict]]:
    """(ship?, one row per measure) for reports of the shipped model and of the candidate."""
    rows, ship = [], True
    for name, (value, higher) in MEASURES.items():
        old = [value(m) for m in shipped]
        new = mean(value(m) for m in candidate)
        spread = max(old) - min(old)
        base = mean(old)
        gain = (new - base) if higher else (base - new)  # > 0: better
        if name in HEADLINE:
            ok, need = gain > spread, f"better by > {spread:.3g}"
        else:
            allowed = max(spread, TOLERANCE * abs(base))
            ok, need = gain >= -allowed, f"worse by <= {allowed:.3g}"
        ship &= ok
        rows.append(dict(measure=name, shipped=base, spread=spread, candidate=new, gain=gain, rule=need, ok=ok))
    return ship, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipped", nargs=2, required=True, help="two reports of the shipped model (two --seed)")
    parser.add_argument("--candidate", nargs="+", required=True, help="the candidate's report(s)")
    parser.add_argument("--out", type=Path, help="write the verdict and rows as JSON")
    args = parser.parse_args(argv)
    ship, rows = judge([read(p) for p in args.shipped], [read(p) for p in args.candidate])
    print(f"{'measure':<18}{'shipped':>10}{'spread':>9}{'candidate':>11}{'gain':>9}  rule")
    for r in rows:
        print(f"{r['measure']:<18}{r['shipped']:>10.4g}{r['spread']:>9.3g}{r['candidate']:>11.4g}{r['gain']:>9.3g}  "
              f"{r['rule']}: {'ok' if r['ok'] else 'MISSED'}")
    print("ship" if ship else "keep the shipped model")
    if args.out:
        args.out.write_text(json.dumps(dict(ship=ship, rows=rows), indent=1))
    return 0 if ship else 1


if __name__ == "__main__":
    sys.exit(main())
