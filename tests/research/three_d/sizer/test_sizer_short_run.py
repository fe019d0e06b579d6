"""SIZER through the zoo's tools (METHOD_CONTRACT items 5, 6, 7, 9): tools.make_sizer's synthetic set in the
code's .npz layout, tools.train's run_experiment on `sizernet_tiny_synthetic` with jit_compile=True (the
run is also item 9's XLA training step: SizerNet + SMPL+G skinning + Chamfer in one XLA program), the task's
evaluation (tools.evaluate's path: vertex error in mm) and tools.export's path (restore the checkpoint,
SavedModel with serving_default, verified against Keras, scored again through the SavedModel; the TFLite
artifact of the packed-input body, verified against Keras through LiteRT).

Shortened spec-card checks 5-6 (2 subjects x 9 pairs, 30 steps): the trained garment must be within
3 mm of the targets (untrained: > 8 mm, the offsets start near 0, i.e. on the skin) and S -> XL must
move it outward by 8-20 mm (fixture: 15 mm); the full run is the model card's small run."""

from __future__ import annotations

import os

import numpy as np
import pytest
import tensorflow as tf

from official.core import config as config_lib
from official.core import export, trainer
from official.core.task import build_task
from research.three_d.sizer.export import pack_inputs
from tools.make_sizer import write_sizer

STEPS = 30


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("sizer")
    write_sizer(str(root / "sizer_synthetic"), subjects=2, val_subjects=0, seed=0)
    overrides = (f"trainer.train_steps={STEPS},trainer.steps_per_loop={STEPS},trainer.global_batch_size=18,"
                 "runtime.jit_compile=true")
    cfg = config_lib.resolve("sizernet_tiny_synthetic", params_override=overrides, data_dir=str(root))
    task = build_task(cfg)
    untrained = task.evaluate(task.build_model(), task.build_inputs(cfg.eval_data, False, 18))
    results = trainer.run_experiment(cfg, str(root / "run"), mode="train_and_eval")
    return cfg, root, untrained, results


def test_short_xla_run_learns_the_sizes(run):
    cfg, _, untrained, results = run
    ev = results["eval"]
    print("untrained", untrained, "trained", ev)
    assert results["step"] == STEPS and np.isfinite(results["loss"])
    assert untrained["v2v_mm"] > 8.0, untrained
    assert ev["pairs"] == 18
    assert ev["v2v_mm"] < 3.0 and ev["v2v_mm"] < 0.3 * untrained["v2v_mm"], ev
    assert ev["v2v_same_size_mm"] < 3.0 and ev["v2v_resize_mm"] < 3.0, ev
    assert 8.0 < ev["s_to_xl_mm"] < 20.0, ev  # a larger size moves the garment outward


def test_export_round_trip_matches_keras(run):
    cfg, root, _, results = run
    model, task, step = trainer.restore_for_inference(cfg, str(root / "run"))
    assert step == STEPS
    done = export.export_all(model, task, str(root / "exports"), "sizer", cfg.export, 0)
    path, report = done["saved_model"]
    assert path.endswith(os.path.join("sizer", "1")) and max(report.values()) <= 1e-4, report
    loaded = tf.saved_model.load(path)
    serve = loaded.signatures["serving_default"]
    assert set(serve.structured_input_signature[1]) == {"garment", "size_in", "size_out", "betas", "pose", "trans"}
    pairs = task.pairs(cfg.eval_data)
    x = {k: pairs[k][5:8] for k in ("garment", "size_in", "size_out", "betas", "pose", "trans")}
    got = serve(**{k: tf.constant(v) for k, v in x.items()})
    want = model(x, training=False)
    np.testing.assert_allclose(got["garment"].numpy(), np.asarray(want["garment"]), atol=1e-5)
    np.testing.assert_allclose(got["offsets"].numpy(), np.asarray(want["offsets"]), atol=1e-6)
    assert np.abs(np.asarray(want["offsets"])).max() > 1e-3  # trained offsets, not the zero start
    # tools.evaluate --saved_model scores the served graph: the checkpoint's numbers
    served = task.evaluate_saved_model(loaded, 18)
    np.testing.assert_allclose(served["v2v_mm"], results["eval"]["v2v_mm"], rtol=1e-4)
    logs = export.read_warmup_requests(os.path.join(path, "assets.extra", "tf_serving_warmup_requests"))
    assert len(logs) == cfg.export.warmup_requests and set(logs[0].predict_log.request.inputs) == set(x)
    # TFLite (spec card check 7): the packed-row artifact through LiteRT equals Keras' posed garment on real pairs.
    tflite_path, tflite_report = done["tflite"]
    assert os.path.isfile(tflite_path) and tflite_report["max_abs_diff"] <= 1e-5, tflite_report
    assert not [op for op in tflite_report["ops"] if op.startswith("Flex") or op == "CUSTOM"], tflite_report["ops"]
    with open(tflite_path, "rb") as f:
        lite = export.run_tflite(f.read(), pack_inputs(x, 192))
    assert lite.shape == (3, 192, 3)
    np.testing.assert_allclose(lite, np.asarray(want["garment"]), atol=1e-5)
