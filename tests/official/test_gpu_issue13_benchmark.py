"""benchmarks/gpu_issue13.py runs end to end in --smoke mode on CPU under JAX, without TensorFlow, and
times every issue-13 network (a positive images/s per model and precision)."""

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
def test_gpu_issue13_smoke():
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, "benchmarks/gpu_issue13.py", "--smoke"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1])["tensorflow_imported"] is False
    rates = re.findall(r"^  (\w+) (float32|bfloat16): batch 2 (\d+) img/s", proc.stdout, re.M)
    assert {(m, p) for m, p, _ in rates} == {(m, p) for m in ("rpl", "openhybrid", "exchnet", "isp")
                                                  for p in ("float32", "bfloat16")}
    assert all(int(r) > 0 for _, _, r in rates)
