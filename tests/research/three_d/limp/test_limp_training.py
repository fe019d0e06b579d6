"""A short LIMP run through tools.train's run_experiment, compiled with XLA (spec card limp.md check 6, shortened;
METHOD_CONTRACT items 5 and 9), then tools.export's and tools.evaluate's paths on the trained network.

One module-scoped run (one XLA compile, ~20 s of the budget): tools.make_limp_shapes writes 4 subjects x 3 poses
of a 22-vertex capsule in the FAUST-2500 layout; `limp_tiny_capsules` trains 300 steps with the stages after
steps 120 / 180 / 240 and jit_compile=True (the whole step, heat-method solves included, is one XLA program).
The full figures are the model card's small run (1,000 steps, 194 vertices, unseen test subjects)."""

from __future__ import annotations

import csv
import os

import numpy as np
import pytest
import tensorflow as tf

from official.core import config as config_lib
from official.core import export, trainer
from official.core.trainer import run_experiment
from research.three_d.limp.metrics import aligned_vertex_error
from tools.make_limp_shapes import write_limp_shapes

STEPS, LOOP = 300, 60


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("limp")
    data = str(root / "capsules")
    write_limp_shapes(data, subjects=4, poses=3, rings=4, around=5, seed=0)
    overrides = (
        f"model.num_points=22,train_data.path={data},eval_data.path={data},"
        "train_data.num_meshes=12,train_data.num_train=12,train_data.poses_per_subject=3,"
        "eval_data.num_meshes=12,eval_data.num_train=12,eval_data.poses_per_subject=3,eval_data.split=all,"
        f"trainer.train_steps={STEPS},trainer.steps_per_loop={LOOP},trainer.global_batch_size=12,"
        "trainer.lr_schedule.base_lr=3e-3,trainer.validation_every_n_loops=0,"
        "training.stage_starts=[120,180,240],runtime.jit_compile=true")
    cfg = config_lib.resolve("limp_tiny_capsules", params_override=overrides)
    results, model = run_experiment(cfg, str(root / "run"), mode="train_and_eval", return_model=True)
    return cfg, results, model, str(root / "run")


def test_xla_short_run_switches_stages_and_tells_shapes_apart(run):
    cfg, results, model, model_dir = run
    assert results["step"] == STEPS and model.jit_compile
    with open(os.path.join(model_dir, "summary.csv")) as f:
        loops = [{k: float(v) for k, v in row.items() if v != "NA"} for row in csv.DictReader(f)]
    assert len(loops) == STEPS // LOOP and all(np.isfinite(v) for row in loops for v in row.values())
    first, _, second, third, last = loops
    assert first["interp"] == first["intra"] == first["inter"] == 0.0  # reconstruction only
    assert second["interp"] > 0 and second["intra"] > 0 and second["inter"] == 0.0  # + local Euclidean terms
    assert third["inter"] > 0 and last["inter"] > 0  # + geodesic terms (weights 1e-2 / 10, then 1e-3 / 1)
    assert last["rec"] < 0.5 * first["rec"], loops

    # A model that ignores its input (constant output) or mixes the shapes up fails this: reconstructions are
    # closer to their own inputs than to the other shapes (for a constant output both means are equal).
    from official.core.task import build_task

    x = build_task(cfg).meshes(cfg.eval_data).vertices
    rec = np.asarray(model.inference_model(x, training=False)[0])
    own = np.mean([aligned_vertex_error(r, v) for r, v in zip(rec, x, strict=True)])
    cross = np.mean([aligned_vertex_error(rec[i], x[j]) for i in range(12) for j in range(12) if i != j])
    print(f"aligned error: own {own:.4f} m, other shapes {cross:.4f} m")
    # Measured 0.81 (0.104 vs 0.129 m) and 0.92 (0.176 vs 0.191 m) in two idle runs: XLA on CPU is not
    # bit-reproducible across thread timings. A constant output gives exactly 1.0.
    assert own < 0.95 * cross, (own, cross)

    ev = results["eval"]
    assert ev["shapes"] == 12 and ev["interp_pairs"] == 11
    assert ev["aligned_error_mm"] == pytest.approx(1000 * own, rel=1e-4)  # the task scores what we scored here
    for key in ("interp_geodesic_distortion", "pose_interp_isometry", "style_interp_euclidean"):
        assert 0.0 < ev[key] < 1.0, ev


def test_tools_export_and_saved_model_evaluation_match_keras(run, tmp_path):
    cfg, results, _, model_dir = run
    cfg.export.warmup_requests = 1
    model, task, step = trainer.restore_for_inference(cfg, model_dir)  # what tools.export / tools.evaluate do
    assert step == STEPS
    done = export.export_all(model, task, str(tmp_path), "limp", cfg.export, 0)
    path, report = done["saved_model"]
    assert {"encode/mu", "encode/logvar", "decode/vertices", "serving_default/vertices"} <= set(report)
    assert max(report.values()) <= 1e-5, report
    assert os.path.isfile(os.path.join(path, "assets.extra", "tf_serving_warmup_requests"))
    tflite_report = done["tflite"][1]
    assert tflite_report["max_abs_diff"] <= 1e-4 and not any(op.startswith("Flex") for op in tflite_report["ops"])
    got = task.evaluate_saved_model(tf.saved_model.load(path), 12)  # tools.evaluate --saved_model
    want = results["eval"]
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-4, abs=1e-6), key
