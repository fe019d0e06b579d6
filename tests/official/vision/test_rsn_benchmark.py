"""The RSN GPU throughput benchmark runs end to end in --smoke mode on CPU, under JAX, without TensorFlow."""

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
def test_gpu_pose_smoke(tmp_path):
    import jax  # noqa: F401  required (pyproject extra "jax"): a missing install fails, never skips

    out = tmp_path / "rsn.json"
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [sys.executable, "benchmarks/gpu_pose.py", "--smoke", "--out", str(out)]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    payload = json.loads(out.read_text())
    assert payload["smoke"] and payload["settings"]["batch"] == 2 and payload["settings"]["zoo_model"] == "rsn_tiny"
    assert payload["machine"]["tensorflow_imported"] is False
    assert set(payload["results"]) == {"zoo_jax", "authors_eager", "authors_compile"}
    zoo = payload["results"]["zoo_jax"]
    assert "error" not in zoo, zoo.get("traceback")
    assert zoo["tensorflow_imported"] is False  # the GPU machine has no TensorFlow
    assert zoo["params_trainable"] > 0 and zoo["forward_gflop_per_image"] > 0
    assert zoo["train"]["images_per_s"] > 0 and zoo["inference"]["2"]["images_per_s"] > 0
    assert zoo["final_loss"] < zoo["first_loss"]  # Adam on a fixed batch: the RSN loss falls
    assert zoo["heatmaps"] == "(2, 16, 12, 17) float32"  # bf16 compute, float32 heatmaps
    # measured, or a recorded failure (the authors' code is fetched separately; torch may be missing)
    for peer in ("authors_eager", "authors_compile"):
        result = payload["results"][peer]
        if "error" in result:
            continue
        assert result["params_trainable"] == 9_159_072  # the authors' RSN-18 (spec card rsn.md)
        assert result["inference"]["2"]["images_per_s"] > 0 and result["final_loss"] < result["first_loss"]
        assert result["tensorflow_imported"] is False
    md = (tmp_path / "rsn.md").read_text()
    assert "| zoo_jax |" in md and "python3 benchmarks/gpu_pose.py --smoke" in md


RSN_DIR = os.environ.get("RSN_DIR", os.path.join(REPO, ".peer", "rsn"))


def test_rsn_loss_matches_the_authors_loss_on_the_benchmark_layout():
    """The benchmark feeds the zoo (B, 5, H, W, K) targets and (B, K) valid, the authors (B, 5, K, H, W)
    labels and (B, K, 1) valids: the same numbers give the same loss through `rsn_loss` and the authors'
    own `RSN._calculate_loss` + `JointsL2Loss` (loaded by path like the benchmark; skipped where the
    authors' files, which are not part of this repository, are absent)."""
    import importlib.util
    import types

    import numpy as np
    import torch  # required (pyproject extra "convert"): a missing install fails, never skips
    if not os.path.exists(os.path.join(RSN_DIR, "network.py")):
        pytest.skip(f"the authors' RSN code is not in {RSN_DIR} (fetched separately, git-ignored)")
    from official.losses.keypoint_mse import rsn_loss

    saved = {name: sys.modules.get(name) for name in ("lib", "lib.utils", "lib.utils.loss")}
    try:
        for name in ("lib", "lib.utils"):
            sys.modules[name] = types.ModuleType(name)
            sys.modules[name].__path__ = []
        modules = {}
        for name, path in (("lib.utils.loss", "lib/utils/loss.py"), ("authors_rsn_network_test", "network.py")):
            spec = importlib.util.spec_from_file_location(name, os.path.join(RSN_DIR, path))
            modules[name] = sys.modules[name] = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(modules[name])
        calculate = modules["authors_rsn_network_test"].RSN._calculate_loss
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        sys.modules.pop("authors_rsn_network_test", None)

    rng = np.random.default_rng(3)
    batch, stages, levels, h, w, k = 3, 2, 4, 8, 6, 17
    preds = rng.uniform(0, 255, size=(batch, stages, levels, h, w, k)).astype(np.float32)
    targets = rng.uniform(0, 255, size=(batch, 5, h, w, k)).astype(np.float32)
    valid = rng.integers(0, 3, size=(batch, k)).astype(np.float32)
    ours = float(rsn_loss(preds, targets, valid))
    owner = types.SimpleNamespace(stage_num=stages, ohkm=True, topk=8, ctf=True)
    outputs = [[torch.from_numpy(preds[:, s, j].transpose(0, 3, 1, 2).copy()) for j in range(levels)]
               for s in range(stages)]
    labels = torch.from_numpy(targets.transpose(0, 1, 4, 2, 3).copy())
    theirs = float(calculate(owner, outputs, torch.from_numpy(valid[:, :, None]), labels)["total_loss"])
    assert ours > 1000 and abs(ours - theirs) <= 1e-5 * abs(theirs), (ours, theirs)
