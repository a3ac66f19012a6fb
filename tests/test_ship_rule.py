"""tools/ship_rule.py: a candidate ships only when its headline gains exceed the evaluation's own
spread and nothing else gets worse beyond the larger of its spread and 20%."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from ship_rule import judge, main  # noqa: E402

FACTORS = ("yaw", "glasses")


def report(fd=200.0, psnr=13.0, reciprocity=0.36, agreement=0.3, isolation=0.3, separability=35.0) -> dict:
    return {
        "fd_attr": {"fd": fd},
        "reconstruction": {"psnr": psnr, "agreement": {"yaw": {"pearson": agreement}, "glasses": {"accuracy": agreement}}},
        "reciprocity": {"relative": reciprocity},
        "best_direction_per_factor": {f: {"isolation": isolation} for f in FACTORS},
        "separability": {"w_real": {"score": separability}},
    }


SHIPPED = [report(fd=237.6, psnr=12.85), report(fd=239.3, psnr=12.86)]


def _row(rows, name):
    return next(r for r in rows if r["measure"] == name)


def test_big_headline_gains_ship_and_small_losses_elsewhere_are_tolerated():
    ship, rows = judge(SHIPPED, [report(fd=120.0, psnr=18.0, reciprocity=0.40, isolation=0.27)])
    assert ship
    assert _row(rows, "fd_attr")["spread"] == pytest.approx(1.7)
    assert _row(rows, "reciprocity")["gain"] == pytest.approx(-0.04)  # 11% worse: inside 20%


def test_a_headline_gain_inside_the_spread_does_not_ship():
    ship, rows = judge(SHIPPED, [report(fd=237.0, psnr=18.0)])  # FD better by 1.45 < its spread 1.7
    assert not ship and not _row(rows, "fd_attr")["ok"] and _row(rows, "psnr")["ok"]


def test_a_measure_worse_by_more_than_20_percent_blocks_the_ship():
    ship, rows = judge(SHIPPED, [report(fd=100.0, psnr=20.0, reciprocity=0.5)])
    assert not ship and not _row(rows, "reciprocity")["ok"]
    assert [r["measure"] for r in rows if not r["ok"]] == ["reciprocity"]


def test_the_command_line_exits_0_to_ship_1_to_keep(tmp_path, capsys):
    paths = []
    for i, m in enumerate(SHIPPED + [report(fd=80.0, psnr=20.0)]):
        (tmp_path / f"r{i}").mkdir()
        (tmp_path / f"r{i}" / "metrics.json").write_text(json.dumps(m))
        paths.append(str(tmp_path / f"r{i}"))
    assert main(["--shipped", *paths[:2], "--candidate", paths[2], "--out", str(tmp_path / "v.json")]) == 0
    assert capsys.readouterr().out.strip().endswith("ship")
    assert json.loads((tmp_path / "v.json").read_text())["ship"] is True
    assert main(["--shipped", *paths[:2], "--candidate", paths[0]]) == 1
    with pytest.raises(SystemExit, match="cannot read"):
        main(["--shipped", paths[0], str(tmp_path / "missing"), "--candidate", paths[2]])
