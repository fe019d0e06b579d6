"""The GPU throughput benchmark runs end to end in --smoke mode on CPU, under JAX, without TensorFlow."""

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
def test_gpu_throughput_smoke(tmp_path):
    import jax  # noqa: F401  required (pyproject extra "jax"): a missing install fails, never skips

    out = tmp_path / "gpu.json"
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    cmd = [sys.executable, "benchmarks/gpu_throughput.py", "--smoke", "--out", str(out)]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    payload = json.loads(out.read_text())
    assert payload["smoke"] and payload["settings"]["batch"] == 2
    assert payload["machine"]["tensorflow_imported"] is False  # the GPU machine has no TensorFlow
    jax_result = payload["results"]["jax"]
    assert "error" not in jax_result, jax_result.get("traceback")
    assert jax_result["params"] == 3_535_416  # MobileNeXt-1.0, spec card
    assert jax_result["train_images_per_s"] > 0 and jax_result["inference_images_per_s"] > 0
    assert jax_result["logits_dtype"] == "float32"  # bf16 compute, float32 logits
    assert jax_result["inference_fused_images_per_s"] > 0 and jax_result["fused_top1_agreement"] >= 0.5
    assert jax_result["model_flops_per_image"] > 0 and jax_result["cost"]["inference"]["bytes_accessed"] > 0
    # measured, or a recorded failure (the authors' mnext.py is fetched separately; timm may be missing)
    for peer in ("mnext_eager", "mnext_compile", "mnext_compile_frozen", "timm_mbv2_compile"):
        result = payload["results"][peer]
        assert ("error" in result) or result["inference_images_per_s"] > 0
    assert "MobileNeXt-1.0" in proc.stdout
