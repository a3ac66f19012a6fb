"""Checkpoint folders: atomic writes, `latest` discovery, rotation, resume resolution."""

import pytest

from alae_hf.training.checkpoints import (atomic_checkpoint, complete_checkpoints, remove_stale_temporaries, resolve_resume,
                                 rotate)


def test_a_failed_write_leaves_nothing_latest_would_pick(tmp_path):
    with atomic_checkpoint(tmp_path, 2) as folder:
        (folder / "weights").write_text("ok")
    with pytest.raises(RuntimeError):
        with atomic_checkpoint(tmp_path, 4) as folder:
            (folder / "weights").write_text("half")
            raise RuntimeError("killed while saving")
    assert [s for s, _ in complete_checkpoints(tmp_path)] == [2]
    assert resolve_resume("latest", tmp_path).name == "checkpoint-2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-2"]


def test_unmarked_and_temporary_folders_are_ignored_and_cleaned(tmp_path):
    (tmp_path / "checkpoint-9").mkdir()  # no COMPLETE marker: a copy interrupted by hand
    (tmp_path / "checkpoint-7.tmp-abc123").mkdir()  # a process killed mid-save
    assert resolve_resume("latest", tmp_path) is None
    assert remove_stale_temporaries(tmp_path) == 1
    with pytest.raises(ValueError, match="not a finished checkpoint"):
        resolve_resume(str(tmp_path / "checkpoint-9"), tmp_path)
    assert resolve_resume(None, tmp_path) is None


def test_rotation_keeps_the_newest(tmp_path):
    for step in (2, 10, 4, 6):
        with atomic_checkpoint(tmp_path, step):
            pass
    rotate(tmp_path, 2)
    assert [s for s, _ in complete_checkpoints(tmp_path)] == [6, 10]
    with atomic_checkpoint(tmp_path, 6) as folder:  # rewriting a step replaces the old folder
        (folder / "new").write_text("x")
    assert (tmp_path / "checkpoint-6" / "new").is_file()
