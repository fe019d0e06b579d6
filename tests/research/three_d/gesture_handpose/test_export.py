"""Spec check 8: tools.export's exporter writes a SavedModel with serving_default clip -> {gesture_probs,
joints3d} and camera_joints (+ joints_cam), verified against Keras, with warmup records, and a per-frame
pose TFLite verified against the Keras per-frame network; stock TensorFlow ops only."""

from __future__ import annotations

import os

import keras
import numpy as np
import tensorflow as tf

from official.core import config as config_lib
from official.core import export
from official.core.task import build_task
from tests.helpers import randomise_weights

OVERRIDES = ("model.image_size=32,model.frames=4,eval_data.image_size=32,eval_data.num_frames=4,"
             "model.backbone_widths=[8,8,8,8],model.stem_width=8,model.deconv_filters=[8,8],"
             "model.joint_feature_dim=4,model.temporal_width=8")


def test_saved_model_and_frame_tflite(tmp_path):
    cfg = config_lib.resolve("gesture_handpose_tiny_hands3d", params_override=OVERRIDES)
    task = build_task(cfg)
    keras.utils.set_random_seed(0)
    model = task.build_model()
    randomise_weights(model, 0)
    done = export.export_all(model, task, str(tmp_path), "gh", cfg.export, 32)
    path, report = done["saved_model"]
    assert max(report.values()) < 1e-3 and set(report) >= {"serving_default/joints3d", "camera_joints/joints_cam"}
    assert os.path.isfile(os.path.join(path, "assets.extra", "tf_serving_warmup_requests"))
    loaded = tf.saved_model.load(path)
    sig = loaded.signatures["serving_default"]
    assert set(sig.structured_outputs) == {"gesture_probs", "joints3d"}
    clip = np.random.default_rng(1).uniform(0, 255, (1, 4, 32, 32, 3)).astype(np.float32)
    got = sig(clip=tf.constant(clip))
    want = model(clip, training=False)
    np.testing.assert_allclose(got["joints3d"].numpy(), np.asarray(want["joints3d"]), atol=1e-3)
    np.testing.assert_allclose(got["gesture_probs"].numpy().sum(-1), 1.0, atol=1e-5)
    ops = {n.op for f in loaded.signatures["serving_default"].graph.as_graph_def().library.function for n in f.node_def}
    assert not any(op.startswith("Zoo") or op.startswith("Custom") for op in ops)
    tflite_path, tflite_report = done["tflite"]
    assert tflite_report["max_abs_diff"] < 1e-3 and "CONV_2D" in tflite_report["ops"]
    from official.core.export_tflite import run_tflite

    with open(tflite_path, "rb") as f:
        frame_out = run_tflite(f.read(), clip[0, :2])
    np.testing.assert_allclose(frame_out, np.asarray(model.frame_pose_model()(clip[0, :2])), atol=1e-3)
