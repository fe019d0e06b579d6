"""benchmarks/pose3d_overfit.py's three phases on CPU: prepare writes the fixtures' batches, train (JAX, a few
steps) stores predictions, score gives the tasks' metrics on them (the full run is on a GPU)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(args, **env):
    proc = subprocess.run([sys.executable, "benchmarks/pose3d_overfit.py", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PYTHONPATH": REPO, **env})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.slow
@pytest.mark.jax
@pytest.mark.benchmark
def test_pose3d_overfit_phases(tmp_path):
    data, pred, out = (str(tmp_path / n) for n in ("data.npz", "pred.npz", "result.json"))
    _run(["prepare", "--data", data])
    _run(["train", "--data", data, "--out", pred, "--cases", "hmor_tiny", "partaware_tiny", "--steps", "3",
          "--eval_steps", "1"], KERAS_BACKEND="jax", JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="")
    _run(["score", "--data", data, "--pred", pred, "--json", out])
    with open(out) as f:
        cases = json.load(f)["cases"]
    hmor, pa = cases["hmor_tiny"]["at_step"], cases["partaware_tiny"]["at_step"]
    assert set(hmor) == set(pa) == {"1", "3"}
    assert hmor["3"]["people"] == 24 and 0 < hmor["3"]["people_inside_crop"] < 24
    assert 100 < hmor["3"]["gtbox/mpjpe_rel"] < 2000 and 100 < pa["3"]["mpjpe"] < 2000  # untrained
    assert pa["3"]["examples"] == 32
