"""benchmarks/cpn_inference.py --smoke runs under KERAS_BACKEND=jax without importing TensorFlow."""

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

# Makes any TensorFlow import fail, then runs the benchmark's smoke mode.
SCRIPT = """
import builtins, sys
real = builtins.__import__
def guard(name, *args, **kwargs):
    if name == "tensorflow" or name.startswith("tensorflow."):
        raise ImportError("the benchmark imported " + name)
    return real(name, *args, **kwargs)
builtins.__import__ = guard
sys.path.insert(0, "benchmarks")
import cpn_inference
sys.exit(cpn_inference.main(["--smoke", "--dtype", "float32", "--out", sys.argv[1]]))
"""


@pytest.mark.slow
@pytest.mark.jax
@pytest.mark.benchmark
def test_smoke_without_tensorflow(tmp_path):
    out = str(tmp_path / "smoke.json")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, out], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out, encoding="utf-8") as f:
        result = json.load(f)
    assert {r["mode"] for r in result["runs"]} == {"network", "detect_noflip", "detect_flip"}
    assert all(r["images_per_s"] > 0 for r in result["runs"])
    assert result["device"].startswith("cpu")
