"""benchmarks/gpu_issue15.py (and gpu_issue16.py / gpu_issue19.py, its step on the issue-16 and issue-19 networks) run in --smoke mode on
CPU under JAX without TensorFlow: the networks build from their variants modules alone, train on the surrogate
loss (which must fall) and run inference."""

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
@pytest.mark.parametrize("script, expected", [
    ("gpu_issue15.py", {("hmor", "hmor_tiny"), ("crowd2d", "crowd3dpose_resnettiny")}),
    ("gpu_issue19.py", {("avvp_han", "avvp_tiny"), ("ahernet_anet", "ahernet_tiny")}),
    # SizerNet (dropout) and LIMP (VAE sampling) need not lower a one-step surrogate: DRV's deterministic one does
    ("gpu_issue16.py", {("drv_decoder128", "drv_tiny")}),
])
def test_gpu_benchmark_smoke(script, expected):
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "CUDA_VISIBLE_DEVICES": ""}
    models = ",".join(case for case, _ in sorted(expected))
    cmd = [sys.executable, f"benchmarks/{script}", "--smoke", "--models", models, "--precisions", "float32"]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1])["tensorflow_imported"] is False
    rows = re.findall(r"^  (\w+) \((\w+)\) float32: train ([\d.]+) steps/s .* infer (\d+) samples/s; "
                      r"loss ([\d.e+-]+) -> ([\d.e+-]+);", proc.stdout, re.M)
    assert {(case, model) for case, model, *_ in rows} == expected
    for _, _, rate, infer, first, last in rows:
        assert float(rate) > 0 and int(infer) > 0 and float(last) < float(first), (first, last)
