"""`from_pretrained` and `push_to_hub` on bad input: one clear line each, never a traceback from
deep inside diffusers."""

import json
import os
import shutil

import huggingface_hub
import pytest
import torch

from alae_hf import StyleALAE
from alae_hf.models.hub import push_folder, safetensors_problem

WEIGHTS = "diffusion_pytorch_model.safetensors"


@pytest.fixture
def saved(tiny_model, tmp_path):
    folder = tmp_path / "model"
    tiny_model.save_pretrained(folder)
    return folder


def _fails(path, match, **kwargs):
    with pytest.raises(OSError, match=match) as caught:
        StyleALAE.from_pretrained(path, **kwargs)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_a_config_that_is_a_json_list(saved):
    (saved / "config.json").write_text("[1, 2, 3]")
    _fails(saved, "config.json holds a JSON list, not an object")


def test_a_file_instead_of_a_folder(saved):
    _fails(saved / "config.json", "is a file; pass the folder")
    _fails(saved / WEIGHTS, "is a file; pass the folder")


def test_a_local_path_that_does_not_exist_is_not_called_a_hub_problem(tmp_path):
    message = _fails(tmp_path / "nowhere", "does not exist")
    assert "Hub" not in message
    assert "Hub" not in _fails("./nowhere/model", "does not exist")
    assert "HF_HUB_OFFLINE" in _fails("nobody/does-not-exist", "not a local folder")  # a repo id stays a Hub question


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_a_symlink_loop_and_a_dangling_link(tmp_path):
    os.symlink(tmp_path / "b", tmp_path / "a")
    os.symlink(tmp_path / "a", tmp_path / "b")
    _fails(tmp_path / "a", "symlink loop")
    os.symlink(tmp_path / "gone", tmp_path / "dangling")
    _fails(tmp_path / "dangling", "link to nothing")


def test_pickle_weights_are_refused(saved, tiny_model):
    (saved / WEIGHTS).unlink()
    torch.save(tiny_model.state_dict(), saved / "diffusion_pytorch_model.bin")
    _fails(saved, "only pickle weights.*safetensors only")


@pytest.mark.parametrize("keep", [0, 5, 1000, -100])
def test_truncated_safetensors_are_named_truncated(saved, keep):
    data = (saved / WEIGHTS).read_bytes()
    (saved / WEIGHTS).write_bytes(data[:keep])
    _fails(saved, f"{WEIGHTS} is truncated")


def test_a_corrupt_header_is_named_corrupt(saved):
    data = bytearray((saved / WEIGHTS).read_bytes())
    data[8:12] = b"\xff\xfe{["
    (saved / WEIGHTS).write_bytes(bytes(data))
    _fails(saved, "corrupt")


def test_the_safetensors_check_accepts_what_safetensors_writes(saved, tmp_path):
    from safetensors.torch import save_file

    assert safetensors_problem(saved / WEIGHTS) is None
    save_file({"a": torch.zeros(0), "b": torch.ones(3, dtype=torch.bfloat16)}, tmp_path / "odd.safetensors",
              metadata={"format": "pt"})
    assert safetensors_problem(tmp_path / "odd.safetensors") is None
    (tmp_path / "odd.safetensors").write_bytes((tmp_path / "odd.safetensors").read_bytes() + b"xx")
    assert "corrupt" in safetensors_problem(tmp_path / "odd.safetensors")


def test_subfolder_and_variant_are_checked_where_they_point(saved, tiny_model, tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(saved, root / "ema")
    assert torch.equal(StyleALAE.from_pretrained(root, subfolder="ema").w_avg, tiny_model.w_avg)
    tiny_model.save_pretrained(saved, variant="fp16")
    fp16 = saved / "diffusion_pytorch_model.fp16.safetensors"
    fp16.write_bytes(fp16.read_bytes()[:-4])
    assert StyleALAE.from_pretrained(saved) is not None  # the main weights are intact
    _fails(saved, "fp16.safetensors is truncated", variant="fp16")


def test_push_offline_is_one_line(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(OSError, match="HF_HUB_OFFLINE is set") as caught:
        tiny_model.push_to_hub("user/tiny")
    assert "\n" not in str(caught.value)


def test_push_errors_become_one_line(tmp_path, monkeypatch):
    class Refusing:
        def __init__(self, token=None):
            pass

        def create_repo(self, repo_id, private=None, exist_ok=False):
            raise ConnectionError("401 Client Error: Unauthorized\nlong body\nmore")

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub, "HfApi", Refusing)
    with pytest.raises(OSError, match="could not push .* to user/x: 401 Client Error: Unauthorized$"):
        push_folder(tmp_path, "user/x")


def test_a_valid_folder_still_loads_exactly(saved, tiny_model):
    loaded = StyleALAE.from_pretrained(saved)
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), tiny_model.state_dict().values()))
    assert json.loads((saved / "config.json").read_text())["_class_name"] == "StyleALAE"
