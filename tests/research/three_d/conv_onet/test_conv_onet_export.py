"""Spec-card check 8: the SavedModel's serving_default / encode / decode signatures match Keras (1e-5) and
the decoder converts to TFLite with stock ops (gather-based bilinear reads), matching Keras."""

import keras
import numpy as np
import tensorflow as tf

from official.core import export, registry
from official.core.config import model_config
from official.core.task import build_task
from research.three_d.conv_onet import export as conv_export
from tests import helpers


def _task():
    cfg = registry.get_experiment("conv_onet_3plane_small_shapes3d")
    cfg.model = model_config("conv_onet_tiny", n_blocks=2)
    cfg.eval_data.input_points = 128
    return cfg, build_task(cfg)


def test_saved_model_signatures_and_tflite_decoder(tmp_path):
    cfg, task = _task()
    keras.utils.set_random_seed(0)
    model = registry.create_model("conv_onet_tiny", n_blocks=2)
    helpers.randomise_weights(model, 0)
    path, report = export.export_saved_model(model, task, str(tmp_path), "conv_onet", cfg.export, 0)
    assert {"serving_default/logits", "encode/planes", "decode/logits"} <= set(report)
    assert max(report.values()) <= 1e-5
    loaded = tf.saved_model.load(path)
    assert set(loaded.signatures) == {"serving_default", "encode", "decode"}
    pts, q = task._examples(1)
    feats = loaded.signatures["encode"](points=tf.constant(pts))
    logits = loaded.signatures["decode"](planes=feats["planes"], queries=tf.constant(q))["logits"].numpy()
    want = np.asarray(model({"points": pts, "queries": q}))
    assert np.abs(want).max() > 0.1
    np.testing.assert_allclose(logits, want, atol=1e-5)

    data = conv_export.convert_decoder(model, queries=256)
    assert conv_export.verify_decoder(data, model, pts[0], q[0]) <= 1e-5
    ops = set(conv_export.op_names(data))
    assert "GATHER" in ops and not any(op.startswith("FlexOp") or op == "CUSTOM" for op in ops)
