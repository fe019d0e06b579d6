"""official.core.file_io.atomic_directory: the generators' folder is whole (with its marker) or untouched."""

from __future__ import annotations

import os

import pytest

from official.core.file_io import atomic_directory


def test_success_replaces_the_folder_and_writes_the_marker(tmp_path):
    out = str(tmp_path / "set")
    os.makedirs(out)
    with open(os.path.join(out, "stale.txt"), "w") as f:
        f.write("old")
    with atomic_directory(out, "maker seed=1") as tmp:
        assert tmp != out and not os.path.exists(os.path.join(out, ".complete"))
        with open(os.path.join(tmp, "a.txt"), "w") as f:
            f.write("new")
    assert sorted(os.listdir(out)) == [".complete", "a.txt"]
    assert open(os.path.join(out, ".complete")).read() == "maker seed=1\n"
    assert [p for p in os.listdir(tmp_path) if ".tmp-" in p] == []


def test_failure_leaves_the_old_folder_and_no_temp(tmp_path):
    out = str(tmp_path / "set")
    os.makedirs(out)
    with open(os.path.join(out, "keep.txt"), "w") as f:
        f.write("old")
    with pytest.raises(RuntimeError, match="half way"):
        with atomic_directory(out, "maker") as tmp:
            with open(os.path.join(tmp, "part.txt"), "w") as f:
                f.write("half")
            raise RuntimeError("half way")
    assert os.listdir(out) == ["keep.txt"]
    assert sorted(os.listdir(tmp_path)) == ["set"]
