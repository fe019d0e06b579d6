"""The data-parallel scaling benchmark runs end to end in --smoke mode on CPU, under JAX, without TensorFlow."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.mark.slow
@pytest.mark.jax
@pytest.mark.benchmark
def test_gpu_scaling_smoke(tmp_path):
    import jax  # noqa: F401  required (pyproject extra "jax"): a missing install fails, never skips

    out, md = tmp_path / "scaling.json", tmp_path / "scaling.md"
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    cmd = [sys.executable, "benchmarks/gpu_scaling.py", "--smoke", "--out", str(out), "--md", str(md)]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    payload = json.loads(out.read_text())
    assert payload["smoke"] and payload["settings"]["devices"] == [1] and payload["settings"]["batch"] == 2
    assert payload["machine"]["tensorflow_imported"] is False  # the GPU machine has no TensorFlow
    zoo = payload["results"]["zoo_dp"]["1"]
    assert "error" not in zoo, zoo.get("traceback") or zoo.get("stderr")
    assert "DataParallel" in zoo["distribution"] and len(zoo["windows_images_per_s"]) == 2
    assert zoo["images_per_s"] > 0 and math.isfinite(zoo["first_loss"])
    # on one device the per-replica step is zoo_dp's: not run again
    assert "zoo_dp_local_bn" not in payload["results"]
    # measured, or a recorded failure (the authors' mnext.py is fetched separately)
    ddp = payload["results"]["torch_ddp"]["1"]
    assert ("error" in ddp) or ddp["images_per_s"] > 0
    assert payload["efficiency"] == {}  # one device: nothing to scale
    assert "| zoo_dp | 1 |" in md.read_text()
