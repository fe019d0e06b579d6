"""benchmarks/gpu_issue15.py runs in --smoke mode on CPU under JAX without TensorFlow: the issue-15 networks
build from their variants modules alone, train on the surrogate loss (which must fall) and run inference."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
@pytest.mark.jax
@pytest.mark.benchmark
def test_gpu_issue15_smoke():
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [sys.executable, "benchmarks/gpu_issue15.py", "--smoke", "--models", "hmor,crowd2d", "--precisions", "float32"]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1])["tensorflow_imported"] is False
    rows = re.findall(r"^  (\w+) \((\w+)\) float32: train ([\d.]+) steps/s .* infer (\d+) samples/s; "
                      r"loss ([\d.e+-]+) -> ([\d.e+-]+);", proc.stdout, re.M)
    assert {(case, model) for case, model, *_ in rows} == {("hmor", "hmor_tiny"), ("crowd2d", "crowd3dpose_resnettiny")}
    for _, _, rate, infer, first, last in rows:
        assert float(rate) > 0 and int(infer) > 0 and float(last) < float(first), (first, last)
