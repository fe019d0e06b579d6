"""Shared plumbing: the atomic JSON writer (no half-written file, no temp left behind) and the
checkpoint-converter helpers every model's convert.py uses (unwrapping trainer dicts and DataParallel's
"module." prefix, one-line errors naming the missing entry or file)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from official.core import checkpoint_convert, file_io


def test_write_json_is_atomic_and_cleans_up(tmp_path):
    path = str(tmp_path / "sub" / "out.json")
    assert file_io.write_json({"a": [1, 2]}, path, indent=2, sort_keys=True) == path
    assert json.loads(open(path).read()) == {"a": [1, 2]} and os.listdir(tmp_path / "sub") == ["out.json"]
    with pytest.raises(TypeError):  # not JSON-serialisable: the old file stays, no temp file remains
        file_io.write_json({"a": object()}, path)
    assert json.loads(open(path).read()) == {"a": [1, 2]} and os.listdir(tmp_path / "sub") == ["out.json"]


def test_unwrap_state_dict_finds_the_tensors_and_strips_module():
    w = np.zeros((2, 2))
    trainer_file = {"model": {"module.top.conv.weight": w}, "optimizer": {}, "iteration": 5}
    assert list(checkpoint_convert.unwrap_state_dict(trainer_file)) == ["top.conv.weight"]
    assert list(checkpoint_convert.unwrap_state_dict({"state_dict": {"x": w}})) == ["x"]
    assert list(checkpoint_convert.unwrap_state_dict({"ema": {"y": w}, "x": w}, "ema")) == ["y"]
    with pytest.raises(checkpoint_convert.ConversionError, match="no entry 'ema'"):
        checkpoint_convert.unwrap_state_dict({"x": w}, "ema")


def test_missing_checkpoint_file_is_named(tmp_path):
    missing = str(tmp_path / "none.pth")
    with pytest.raises(FileNotFoundError, match="none.pth: checkpoint does not exist"):
        checkpoint_convert.read_pytorch_checkpoint(missing)
    report = checkpoint_convert.ConversionReport({"a": "v/kernel"}, ["n"])
    assert report.to_json() == {"assigned": {"a": "v/kernel"}, "skipped": ["n"], "tensors": 1}
