"""The RTM3D GPU inference benchmark runs end to end in --smoke mode on CPU, the zoo under JAX without
TensorFlow; the authors' peers are measured or record why not (their code lives outside the repo)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.mark.slow
@pytest.mark.jax
@pytest.mark.benchmark
def test_gpu_rtm3d_smoke(tmp_path):
    import jax  # noqa: F401  required (pyproject extra "jax"): a missing install fails, never skips

    out = tmp_path / "rtm3d.json"
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [sys.executable, "benchmarks/gpu_rtm3d.py", "--smoke", "--out", str(out), "--md", str(tmp_path / "r.md")]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    payload = json.loads(out.read_text())
    assert payload["smoke"] and payload["settings"]["input"] == "64x192x3"
    zoo = payload["results"]["zoo_jax"]
    assert "error" not in zoo, zoo.get("traceback")
    assert zoo["tensorflow_imported"] is False  # the GPU machine has no TensorFlow
    row = zoo["float32"]["1"]
    assert all(row[k]["images_per_s"] > 0 for k in ("network", "detect", "detect_gn"))
    for peer in ("authors_eager", "authors_compile"):
        result = payload["results"][peer]
        assert "error" in result or result["float32"]["1"]["network"]["images_per_s"] > 0
