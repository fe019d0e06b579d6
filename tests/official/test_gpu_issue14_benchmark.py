"""benchmarks/gpu_issue14.py runs end to end in --smoke mode on CPU under JAX, without TensorFlow: both
issue-14 training steps run, and the loss of the repeated batch falls (a step that does not train fails)."""

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
def test_gpu_issue14_smoke():
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, "benchmarks/gpu_issue14.py", "--smoke"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1])["tensorflow_imported"] is False
    rows = re.findall(r"^  (\w+) float32: ([\d.]+) steps/s at batch 2 \(loss ([\d.]+) -> ([\d.]+);", proc.stdout, re.M)
    assert {m for m, *_ in rows} == {"conv_onet", "pointnet2"}
    for _, rate, first, last in rows:
        assert float(rate) > 0 and float(last) < float(first)
