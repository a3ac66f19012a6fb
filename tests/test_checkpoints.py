"""Checkpoint folders: atomic writes that survive a kill, validation, `latest`, abandoned branches,
rotation."""

import errno
import json
import os
import shutil
import sys

import pytest
import torch

from alae_hf import StyleALAE
from alae_hf.training.checkpoints import (COMPLETE, CheckpointWriteError, abandon_newer, atomic_checkpoint,
                                          complete_checkpoints, remove_stale_temporaries, resolve_resume, rotate,
                                          validate_checkpoint)

from conftest import TINY


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The files of one valid checkpoint, written the way the trainer writes them."""
    folder = tmp_path_factory.mktemp("template")
    torch.manual_seed(0)
    model = StyleALAE(**TINY)
    model.save_pretrained(folder / "model")
    model.save_pretrained(folder / "ema")
    opt = torch.optim.Adam(model.parameters())
    torch.save({"encoder_discriminator": opt.state_dict(), "mapping_generator": opt.state_dict(), "grad_scaler": {}},
               folder / "optimizers.pt")
    torch.save({"torch": torch.get_rng_state(), "host": torch.Generator().get_state()}, folder / "rng_state_0.pt")
    state = dict(step=0, images_seen=0, lod=0, ema_updates=0, num_processes=1, arch=model.arch.to_dict(),
                 schedule={}, nonfinite_run=0)
    (folder / "training_state.json").write_text(json.dumps(state))
    return folder


def write(root, step, template, tag="", **state_overrides):
    """Save a valid checkpoint-<step> through `atomic_checkpoint`; `tag` marks which write it is."""
    with atomic_checkpoint(root, step) as tmp:
        _fill(tmp, step, template, tag, **state_overrides)
    return root / f"checkpoint-{step}"


def _fill(tmp, step, template, tag="", **state_overrides):
    shutil.copytree(template, tmp, dirs_exist_ok=True)
    state = json.loads((template / "training_state.json").read_text())
    state.update(step=step, images_seen=step * 4, tag=tag, **state_overrides)
    (tmp / "training_state.json").write_text(json.dumps(state))


def tag_of(folder):
    return json.loads((folder / "training_state.json").read_text())["tag"]


def test_a_failed_write_leaves_nothing_latest_would_pick(tmp_path, template):
    write(tmp_path, 2, template)
    with pytest.raises(RuntimeError):
        with atomic_checkpoint(tmp_path, 4) as folder:
            (folder / "weights").write_text("half")
            raise RuntimeError("killed while saving")
    assert [s for s, _ in complete_checkpoints(tmp_path)] == [2]
    assert resolve_resume("latest", tmp_path).name == "checkpoint-2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-2"]


def test_unmarked_temporaries_are_cleaned_and_unmarked_folders_refused(tmp_path):
    (tmp_path / "checkpoint-9").mkdir()  # no COMPLETE marker: a copy interrupted by hand
    (tmp_path / "checkpoint-7.tmp-abc123").mkdir()  # a process killed mid-save
    assert resolve_resume("latest", tmp_path, log=lambda _: None) is None
    assert remove_stale_temporaries(tmp_path) == 1
    with pytest.raises(ValueError, match=f"no {COMPLETE} marker"):
        resolve_resume(str(tmp_path / "checkpoint-9"), tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        resolve_resume(str(tmp_path / "checkpoint-99"), tmp_path)
    assert resolve_resume(None, tmp_path) is None


def test_a_complete_temporary_is_a_finished_checkpoint(tmp_path, template):
    """Killed between marking the new copy and renaming it: start-up must promote it, not delete it."""
    write(tmp_path, 60, template, tag="old")
    tmp = tmp_path / "checkpoint-60.tmp-0123abcd"
    _fill(tmp, 60, template, tag="new")
    (tmp / COMPLETE).write_text("step 60\n")
    shutil.rmtree(tmp_path / "checkpoint-60" / "model")  # the old copy half deleted, marker already gone
    (tmp_path / "checkpoint-60" / COMPLETE).unlink()
    assert remove_stale_temporaries(tmp_path, log=lambda _: None) == 0
    resumed = resolve_resume("latest", tmp_path)
    assert resumed.name == "checkpoint-60" and tag_of(resumed) == "new" and validate_checkpoint(resumed) == []


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin", reason="simulates SIGKILL with fork")
def test_a_kill_at_any_point_of_a_replacement_leaves_a_resumable_state(tmp_path, template):
    """Replace checkpoint-20 (as a run resumed from 10 does) and die at the k-th file-system
    operation, for every k: the older checkpoints survive whole and `latest` resumes step 20."""
    base, k, ends = tmp_path / "base", 0, []
    write(base, 10, template, tag="ten")
    write(base, 20, template, tag="old")
    while True:
        root = shutil.copytree(base, tmp_path / f"run{k}")
        pid = os.fork()
        if pid == 0:  # the child replaces checkpoint-20 and "is killed" at operation k
            _die_at(k)
            write(root, 20, template, tag="new")
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        finished = os.waitstatus_to_exitcode(status) == 0
        remove_stale_temporaries(root, log=lambda _: None)
        resumed = resolve_resume("latest", root, log=lambda _: None)
        assert resumed is not None and resumed.name == "checkpoint-20", (k, sorted(os.listdir(root)))
        assert validate_checkpoint(resumed) == [] and validate_checkpoint(root / "checkpoint-10") == []
        ends.append(tag_of(resumed))
        if finished:
            break
        k += 1
    assert k > 10 and ends[0] == "old" and ends[-1] == "new"  # kills before, during and after the swap


def _die_at(k):
    """In a forked child: make the k-th durable file operation end the process like SIGKILL."""
    count = [0]

    def wrap(fn):
        def inner(*args, **kwargs):
            if count[0] == k:
                os._exit(137)
            count[0] += 1
            return fn(*args, **kwargs)
        return inner

    for name in ("fsync", "replace", "rename", "unlink", "rmdir"):
        setattr(os, name, wrap(getattr(os, name)))


DAMAGE = {
    "truncated safetensors": lambda c: _truncate(c / "model" / "diffusion_pytorch_model.safetensors", 0.5),
    "empty safetensors": lambda c: _truncate(c / "ema" / "diffusion_pytorch_model.safetensors", 0.0),
    "config.json list": lambda c: (c / "model" / "config.json").write_text("[1, 2]"),
    "missing optimizers": lambda c: (c / "optimizers.pt").unlink(),
    "truncated optimizers": lambda c: _truncate(c / "optimizers.pt", 0.7),
    "garbage state": lambda c: (c / "training_state.json").write_text("{not json"),
    "state without lod": lambda c: _edit_state(c, lambda s: s.pop("lod")),
    "negative step": lambda c: _edit_state(c, lambda s: s.update(step=-1)),
    "corrupt rng": lambda c: (c / "rng_state_0.pt").write_bytes(b"\x00" * 64),
    "missing rng": lambda c: (c / "rng_state_0.pt").unlink(),
    "only .bin weights": lambda c: (c / "model" / "diffusion_pytorch_model.safetensors").rename(
        c / "model" / "diffusion_pytorch_model.bin"),
}


def _truncate(path, fraction):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def _edit_state(folder, edit):
    state = json.loads((folder / "training_state.json").read_text())
    edit(state)
    (folder / "training_state.json").write_text(json.dumps(state))


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_latest_skips_a_damaged_newest_checkpoint_and_says_why(tmp_path, template, damage):
    good = write(tmp_path, 10, template)
    bad = write(tmp_path, 20, template)
    DAMAGE[damage](bad)
    problems = validate_checkpoint(bad)
    assert len(problems) >= 1 and all("\n" not in p for p in problems)
    said = []
    assert resolve_resume("latest", tmp_path, log=said.append) == good
    assert said == [f"skipping checkpoint-20: {'; '.join(problems)}"]
    with pytest.raises(ValueError, match="checkpoint-20 is not a usable checkpoint"):
        resolve_resume(str(bad), tmp_path)


def test_the_problems_name_what_is_wrong(tmp_path, template):
    folder = write(tmp_path, 5, template)
    _truncate(folder / "model" / "diffusion_pytorch_model.safetensors", 0.5)
    (folder / "optimizers.pt").unlink()
    _edit_state(folder, lambda s: s.pop("arch"))
    problems = " | ".join(validate_checkpoint(folder))
    assert "model/" in problems and "truncated" in problems
    assert "optimizers.pt is missing" in problems and "lacks arch" in problems
    assert "ema/" not in problems


def test_a_missing_rng_file_can_be_accepted_explicitly(tmp_path, template):
    folder = write(tmp_path, 5, template)
    (folder / "rng_state_0.pt").unlink()
    assert validate_checkpoint(folder) == ["rng_state_0.pt is missing"]
    assert validate_checkpoint(folder, require_rng=False) == []
    assert resolve_resume("latest", tmp_path, require_rng=False) == folder


def test_sharded_weights_validate_and_a_missing_shard_does_not(tmp_path, template):
    folder = write(tmp_path, 5, template)
    StyleALAE.from_pretrained(folder / "model").save_pretrained(folder / "model", max_shard_size="20KB")
    shards = sorted((folder / "model").glob("*-of-*.safetensors"))
    (folder / "model" / "diffusion_pytorch_model.safetensors").unlink(missing_ok=True)
    assert len(shards) > 1 and validate_checkpoint(folder) == []
    _truncate(shards[-1], 0.9)
    assert any("truncated" in p for p in validate_checkpoint(folder))
    shards[-1].unlink()
    assert any("missing shards" in p for p in validate_checkpoint(folder))


def test_resuming_an_older_checkpoint_moves_the_newer_branch_aside(tmp_path, template):
    for step in (10, 20, 30):
        write(tmp_path, step, template, tag="first run")
    said = []
    moved = abandon_newer(tmp_path, 10, log=said.append)
    assert moved.parent == tmp_path and moved.name.startswith("abandoned-")
    assert sorted(p.name for p in moved.iterdir()) == ["checkpoint-20", "checkpoint-30"]
    assert "checkpoint-20, checkpoint-30" in said[0] and str(moved) in said[0]
    write(tmp_path, 15, template, tag="second run")
    assert tag_of(resolve_resume("latest", tmp_path)) == "second run"  # not the abandoned checkpoint-30
    assert abandon_newer(tmp_path, 15) is None


def test_rotation_keeps_the_newest_and_the_newest_valid_finite(tmp_path, template):
    for step in (2, 10, 4, 6):
        write(tmp_path, step, template)
    rotate(tmp_path, 2)
    assert [s for s, _ in complete_checkpoints(tmp_path)] == [6, 10]
    write(tmp_path, 12, template, nonfinite_run=3)  # written during a non-finite streak
    write(tmp_path, 14, template)
    (tmp_path / "checkpoint-14" / "optimizers.pt").unlink()  # damaged
    rotate(tmp_path, 1)
    assert [s for s, _ in complete_checkpoints(tmp_path)] == [10, 14]  # newest, and newest usable
    write(tmp_path, 10, template, tag="rewritten")  # rewriting a step replaces the old folder
    assert tag_of(tmp_path / "checkpoint-10") == "rewritten"


def test_a_full_disk_is_named_with_the_last_good_checkpoint(tmp_path, template):
    write(tmp_path, 10, template)
    with pytest.raises(CheckpointWriteError) as caught:
        with atomic_checkpoint(tmp_path, 20):
            raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 128 vs 64")
    message = str(caught.value)
    assert "disk is full" in message and "checkpoint-10" in message and "\n" not in message
    with pytest.raises(CheckpointWriteError, match="disk is full"):
        with atomic_checkpoint(tmp_path, 20):
            raise OSError(errno.ENOSPC, "No space left on device")
    assert [s for s, _ in complete_checkpoints(tmp_path)] == [10]
