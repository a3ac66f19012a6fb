"""The console commands: every verb is registered in pyproject.toml and answers, and `alae-sample`
writes a grid from a model folder."""

import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from alae_hf.imaging import tensor_to_pil

ROOT = Path(__file__).resolve().parents[1]
VERBS = ("alae-train", "alae-sample", "alae-eval", "alae-directions", "alae-app", "alae-convert")


def scripts() -> dict[str, str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


def entry_point(name: str):
    module, function = scripts()[name].split(":")
    return getattr(importlib.import_module(module), function)


def test_every_verb_is_a_registered_main():
    assert set(scripts()) == set(VERBS)
    for name in VERBS:
        assert callable(entry_point(name)) and scripts()[name].endswith(":main"), name


@pytest.mark.parametrize("name", VERBS)
def test_each_command_prints_help(name, capsys):
    with pytest.raises(SystemExit) as info:
        entry_point(name)(["--help"])
    assert info.value.code == 0 and "usage" in capsys.readouterr().out.lower()


@pytest.mark.parametrize("name", VERBS)
def test_help_answers_before_torch_is_imported(name):
    """`--help` parses before the heavy imports (torch, gradio, diffusers): it answers at once.
    bench/cli_help.py times it."""
    module, function = scripts()[name].split(":")
    code = (f"import sys\nfrom {module} import {function}\n"
            f"try:\n    {function}(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('torch', 'gradio', 'diffusers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and "usage" in out.stdout.lower(), out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]", f"{name} --help imports {out.stdout.splitlines()[-1]}"


def test_alae_directions_refuses_to_replace_a_set(tiny_model, tmp_path, capsys):
    folder = tmp_path / "model"
    tiny_model.save_pretrained(folder)
    command = ["--model", str(folder), "--method", "sefa", "--num", "3", "--name", "mine"]
    assert entry_point("alae-directions")(command) == 0
    saved = (folder / "directions" / "mine.safetensors").read_bytes()
    with pytest.raises(SystemExit) as info:
        entry_point("alae-directions")([*command[:-3], "2", "--name", "mine"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "already exists" in err and "--overwrite" in err
    assert len(err.strip().splitlines()) == 1
    assert (folder / "directions" / "mine.safetensors").read_bytes() == saved
    assert entry_point("alae-directions")([*command[:-3], "2", "--name", "mine", "--overwrite"]) == 0
    assert (folder / "directions" / "mine.safetensors").read_bytes() != saved


def test_alae_sample_writes_a_grid(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path / "model")
    out = tmp_path / "grid.png"
    assert entry_point("alae-sample")(["--model", str(tmp_path / "model"), "--seeds", "0-5", "--psi", "0.7",
                                       "--columns", "3", "--out", str(out)]) == 0
    grid = Image.open(out)
    side = tiny_model.arch.resolution
    assert grid.size == (3 * side + 4 * 2, 2 * side + 3 * 2)  # 3 x 2 images, 2 px padding around each
    first = tensor_to_pil(tiny_model.sample(1, seed=0, truncation_psi=0.7))[0]  # image i is seed i alone
    assert np.array_equal(np.asarray(grid.crop((2, 2, 2 + side, 2 + side))), np.asarray(first))


def test_alae_sample_refuses_a_bad_folder_in_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        entry_point("alae-sample")(["--model", str(tmp_path / "missing"), "--out", str(tmp_path / "x.png")])
    assert info.value.code == 2 and "does not exist" in capsys.readouterr().err
