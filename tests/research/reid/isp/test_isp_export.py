"""ISP export (card check 8): the SavedModel's serving_default takes 0-255 images and returns {embedding,
part_map, visibility} equal to Keras' (the exporter verifies them); the TFLite retrieval path (embedding)
and a two-output TFLite of the served graph agree with Keras."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from official.core import config as config_lib
from official.core import export as export_lib
from official.core.export_tflite import convert_tflite
from official.core.task import build_task
from tests import helpers


def test_saved_model_and_tflite(tmp_path):
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    cfg = config_lib.resolve("isp_hrnet_tiny_reid_synth", params_override="export.warmup_requests=1,export.verify_examples=2")
    task = build_task(cfg)
    model = task.build_model()
    helpers.randomise_weights(model, 0)
    path, report = export_lib.export_saved_model(model, task, str(tmp_path), "isp", cfg.export, 64)
    assert set(report) == {"serving_default/embedding", "serving_default/part_map", "serving_default/visibility"}
    assert max(report.values()) <= 1e-4
    loaded = tf.saved_model.load(path)
    pixels = np.random.default_rng(1).uniform(0, 255, (2, 64, 32, 3)).astype(np.float32)
    out = loaded.signatures["serving_default"](images=tf.constant(pixels))
    assert out["embedding"].shape == (2, 128) and out["part_map"].shape == (2, 16, 8, 7)
    np.testing.assert_allclose(np.linalg.norm(out["embedding"].numpy(), axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(out["part_map"].numpy().sum(-1), 1.0, atol=1e-5)

    tfl_path, tfl = export_lib.export_tflite(model, task, str(tmp_path), "isp", cfg.export, 64, "none")
    assert tfl["max_abs_diff"] <= 1e-4
    served = model.serving_model()
    interp = tf.lite.Interpreter(model_content=convert_tflite(served))
    runner = interp.get_signature_runner()
    x = task.verification_inputs(1, 64)
    got = runner(inputs=x)
    want = served(x, training=False)
    for key in ("embedding", "part_map"):
        np.testing.assert_allclose(got[key], np.asarray(want[key]), atol=1e-4)
