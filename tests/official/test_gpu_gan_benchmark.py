"""benchmarks/gpu_gan.py runs in --smoke mode on CPU under JAX without TensorFlow: each method's small-run
experiment builds its objective from the package's modules alone and takes jitted JaxAdversarialStep steps
with finite losses (the GPU figures are in benchmarks/results/gpu_gan.json)."""

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
def test_gpu_gan_smoke():
    # XLA's CPU optimisation off: the five jitted steps compiled for ~20 min on the shared 2-core machine
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "CUDA_VISIBLE_DEVICES": "",
           "XLA_FLAGS": "--xla_backend_optimization_level=0"}
    cmd = [sys.executable, "benchmarks/gpu_gan.py", "--smoke", "--precisions", "float32"]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1])["tensorflow_imported"] is False
    rows = re.findall(r"^  (\w+) float32: \[\d+, \d+\] batch 2: ([\d.]+) steps/s", proc.stdout, re.M)
    assert {name for name, _ in rows} == {"cyclegan", "sketch2photo", "forkgan", "tsit", "coco_funit"}
    assert all(float(rate) > 0 for _, rate in rows)
