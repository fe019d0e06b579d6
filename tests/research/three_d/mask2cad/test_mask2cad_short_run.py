"""The whole Mask2CAD path through the zoo's tools, trained once per module (the `run` fixture) and checked by
several tests: a Pix3D release written by tools.make_pix3d_primitives, `run_experiment` (tools.train's
trainer, train_and_eval: CPN's loss + mask + Mask2CAD terms in one `fit`, then the task's evaluation as
tools.evaluate runs it), and the SavedModel of the full inference path (tools.export's exporter, verified
against the Keras model), scored through its signatures (tools.evaluate --saved_model) to the same metrics.

Why the detector is smaller than mask2cad_tiny's: the CPU cost of this file is graph building (tracing the
training step with its gradient and Adam update, then the two serving graphs), which grows with the number
of layers, not with widths or image size. `CI_DETECTOR` keeps mask2cad_tiny's heads and widths but puts CPN
on a one-level hourglass (`detector_overrides`); the images are 32 px (half the CPU per step of 64 px); and
Grappler is off for the module (it only rewrites graphs for speed; the first call of every function paid
it). All are test settings only: the registered variants keep their parameter counts
(test_mask2cad_network.py). jit_compile is off for the run: an XLA step of the whole model is measured in
benchmarks/mask2cad_xla_whole_step.py; the XLA step of the Mask2CAD part is the last test here.

Bars: the run fits 32 training images (evaluated on the same split, GT boxes for the heads); retrieval
top-1 and rotation accuracy must beat chance by a margin (0.5 with the category given; for 4 bins 90 deg
apart, < 30 deg is reached by ~1/6 of random guesses and ~2/3 of correct bins), and the detector must find
the objects (AP^box@0.5)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from official.core import config as config_lib
from official.core import export
from official.core.trainer import run_experiment
from official.ops.roi_align import roi_align
from research.three_d.mask2cad.cpn_attach import Mask2CADOnCPN
from tools import make_pix3d_primitives

STEPS = 60
SIZE = 32  # image and network input (mask2cad_tiny: 64): half the CPU per step, same graph
# CPN on a one-level hourglass (stem + one down/up level, one residual per module), otherwise cpn_dla34tiny
CI_DETECTOR = {"backbone": "hourglass", "hourglass_dims": [8, 8], "hourglass_modules": [1, 1], "num_stacks": 1,
               "stem_channels": 8, "cnv_dim": 16}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mask2cad_run")
    data = str(tmp / "pix3d")
    make_pix3d_primitives.write_pix3d_primitives(data, train=32, test=8, size=SIZE, seed=0)
    overrides = (
        f"trainer.train_steps={STEPS},trainer.steps_per_loop={STEPS},trainer.global_batch_size=8,"
        f"trainer.lr_schedule.base_lr=3e-3,runtime.jit_compile=false,task.views_per_model=2,task.mesh_samples=300,"
        f"train_data.image_size={SIZE},eval_data.image_size={SIZE},"
        f"eval_data.split_file={data}/pix3d_s1_train.json,train_data.path={data}/pix3d.json,"
        f"eval_data.path={data}/pix3d.json,train_data.split_file={data}/pix3d_s1_train.json")
    cfg = config_lib.resolve("mask2cad_small_pix3d", params_override=overrides)
    cfg.model = config_lib.model_config("mask2cad_tiny", input_size=SIZE, cpn_num_samples=32, cpn_roi_sampling_ratio=1,
                                        detector_overrides=CI_DETECTOR)
    grappler = tf.config.optimizer.get_experimental_options().get("disable_meta_optimizer", False)
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    try:
        results, model = run_experiment(cfg, str(tmp / "run"), mode="train_and_eval", return_model=True)
        from official.core.task import build_task

        task = build_task(cfg)
        cfg.export.verify_examples = 4
        path, report = export.export_saved_model(model, task, str(tmp / "export"), "m2c", cfg.export, SIZE)
        # the CAD table that evaluation and export used vs the trained view encoder's embeddings of the views
        table_gap = float(np.max(np.abs(np.asarray(model.view_table)
                                        - np.asarray(model.view_encoder(model.views, training=False)))))
        yield {"results": results, "model": model, "task": task, "path": path, "report": report, "table_gap": table_gap}
    finally:
        tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": grappler})


def test_short_run_learns(run):
    results = run["results"]
    ev = results["eval"]
    print("short-run metrics:", {k: ev[k] for k in ("retrieval_top1", "rotation_accuracy", "ap_box50")},
          {k: results[k] for k in ("rotation_cls_loss", "embed_loss", "loss")})
    assert results["step"] == STEPS and np.isfinite(results["loss"]), results
    assert {"corner_loss", "region_loss", "embed_loss", "rotation_cls_loss", "mask_loss"} <= set(results)
    assert results["rotation_cls_loss"] < 1.35 and results["embed_loss"] < 1.3, results  # both start at 1.39
    assert ev["retrieval_top1"] >= 0.7 and ev["rotation_accuracy"] >= 0.4 and ev["ap_box50"] >= 0.7, ev
    assert ev["images"] == 32 and 0.0 <= ev["ap_mesh"] <= 1.0 and 0.0 <= ev["ap_box50"] <= 1.0, ev
    assert run["table_gap"] < 1e-5, run["table_gap"]  # evaluation and export refreshed the CAD table


def test_export_round_trip_scores_the_same(run):
    report, ev = run["report"], run["results"]["eval"]
    assert {"serving_default/model_id", "serving_default/translation", "on_boxes/quaternion"} <= set(report)
    assert max(report.values()) <= 1e-3, report
    served = run["task"].evaluate_saved_model(tf.saved_model.load(run["path"]), 8)
    for key in ("retrieval_top1", "rotation_accuracy", "ap_box50"):
        assert abs(served[key] - ev[key]) <= 1e-6, (key, served, ev)
    assert abs(served["median_rotation_error_deg"] - ev["median_rotation_error_deg"]) < 1e-2


def test_heads_on_cpn_detections_and_given_boxes(run):
    """cpn_attach.Mask2CADOnCPN on the trained model: the detection path gives fixed-size per-RoI outputs on
    CPN's own detections, and the given-box path pools CPN's stride-4 region map at the right scale."""
    model = run["model"]
    assert model.scale == 8 / SIZE  # CPN's output grid is input / 4
    images = np.random.default_rng(0).uniform(0, 255, (2, SIZE, SIZE, 3)).astype(np.float32)
    out = Mask2CADOnCPN.call(model, {"images": images})
    assert tuple(out["boxes"].shape) == (2, 4, 4) and tuple(out["valid"].shape) == (2, 4)
    assert tuple(out["embedding"].shape) == (8, 8) and tuple(out["rotation_logits"].shape) == (8, 2, 4)
    det = model.detector.detect(images)
    np.testing.assert_allclose(np.asarray(out["boxes"]), np.asarray(det["boxes"]), atol=1e-5)
    np.testing.assert_array_equal(np.asarray(out["classes"]), np.asarray(det["classes"]).reshape(-1))
    boxes = np.array([[[0, 0, 32, 32], [5, 10, 15, 25]]] * 2, np.float32)
    classes = np.array([[0, 1]] * 2)
    given = Mask2CADOnCPN.call(model, {"images": images, "boxes": boxes, "classes": classes})
    feats = model.detector.body(images)["region_feat0"]  # the region branch of the (only) stack
    roi = ops.reshape(roi_align(feats, boxes, 14, 0.25, 2, "aligned"), (-1, 14, 14, feats.shape[-1]))
    logits = np.asarray(model.mask_head(roi))
    probs = 1 / (1 + np.exp(-logits[np.arange(4), :, :, classes.reshape(-1)]))[..., None]
    ref = model.heads({"roi_features": np.asarray(roi), "mask_probs": probs.astype(np.float32)})
    np.testing.assert_allclose(np.asarray(given["embedding"]), np.asarray(ref["embedding"]), atol=1e-5)
    np.testing.assert_allclose(np.asarray(given["mask_probs"]), probs, atol=1e-5)


def test_xla_training_step_of_the_heads(run):
    """jit_compile=True training step of the tiny variant's Mask2CAD part (the same layers in this run's model, whose
    detector alone differs): RoIAlign on a region map, mask head,
    heads, view encoder over the CAD database, `head_loss_terms`): agrees with the eager step, lowers the
    loss. On the trained model (its heads move; the tests above read nothing from it afterwards)."""
    model = run["model"]
    rng = np.random.default_rng(0)
    b = 4
    feats = tf.constant(rng.normal(size=(b, 8, 8, 16)), tf.float32)  # CPN's stride-4 region map of 32 px
    x = {"boxes": tf.constant([[[4, 5, 20, 25]]] * b, tf.float32), "valid": tf.ones((b, 1), tf.bool),
         "gt_masks": tf.constant(np.pad(np.ones((b, 15, 10, 1)), ((0, 0), (7, 10), (6, 16), (0, 0))), tf.float32)}
    view_models, view_cats = np.asarray(model.view_models), np.asarray(model.view_categories)
    ids = np.array([0, 1, 2, 3])
    classes = tf.constant([[view_cats[np.flatnonzero(view_models == m)[0]]] for m in ids], tf.int32)
    y = {"model_id": tf.constant(ids[:, None]), "rotation_bin": tf.constant([[1], [2], [3], [0]]),
         "rotation_delta": tf.constant([[[1.0, 0.05, 0.0, 0.0]]] * b), "centre_offset": tf.constant([[[0.1, -0.1]]] * b)}
    parts = (model.mask_head, model.heads, model.view_encoder)
    variables = [v for p in parts for v in p.trainable_variables]
    opt = keras.optimizers.SGD(0.05)

    def loss_fn():
        pred = model.roi_outputs(feats, x["boxes"], classes, training=True)
        pred["view_embedding"] = model.view_encoder(model.views, training=True)
        terms = model.head_loss_terms(x, y, pred)
        return terms["total"] + terms["mask"]

    eager = float(loss_fn())

    @tf.function(jit_compile=True)
    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn()
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    values = [float(step()) for _ in range(4)]
    # BN batch statistics under training: eager and XLA compute the same first loss
    np.testing.assert_allclose(values[0], eager, rtol=1e-4)
    assert all(b < a for a, b in zip(values, values[1:], strict=False)) and values[-1] < 0.97 * values[0], values
