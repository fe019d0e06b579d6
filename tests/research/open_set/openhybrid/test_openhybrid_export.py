"""OpenHybrid export (spec card check 8, METHOD_CONTRACT item 7): through the open-set task, the SavedModel's
serving_default gives image -> {logits, probabilities, classes, open_set_score (= log p(z)), log_likelihood}
equal to Keras, and the TFLite body (forward pass only: logits then log p(z)) matches to 1e-4."""

from __future__ import annotations

import dataclasses
import os

import keras
import numpy as np
import tensorflow as tf

from official.core.export import export_all
from official.core.export_tflite import run_tflite
from official.tasks.open_set import OpenSetClassificationTask
from research.open_set.openhybrid.experiments import openhybrid_classifier32_digits
from research.open_set.openhybrid.model import OpenHybrid
from tests.helpers import randomise_weights

NARROW = (8, 8, 16, 16, 16, 16, 16, 16, 16)  # a narrow trunk: the JAX, XLA and export paths do not depend on the widths


def test_saved_model_and_tflite_through_the_open_set_task(tmp_path, digits_dir):
    cfg = openhybrid_classifier32_digits()
    val = os.path.join(digits_dir, "val")
    cfg.eval_data = dataclasses.replace(cfg.eval_data, path=val, image_size=16)
    cfg.task.unknown_data = dataclasses.replace(cfg.task.unknown_data, path=val, image_size=16)
    task = OpenSetClassificationTask(cfg)
    keras.utils.set_random_seed(0)
    model = OpenHybrid(classes=6, input_shape=(16, 16, 3), flow_steps=2, flow_hidden=16, widths=NARROW)
    randomise_weights(model, 0)
    export = dataclasses.replace(cfg.export, verify_examples=8, warmup_requests=1)
    done = export_all(model, task, str(tmp_path / "exports"), "openhybrid", export, 16)
    assert cfg.export.atol == 5e-3 and cfg.export.quantize == "none"
    assert max(v for k, v in done["saved_model"][1].items()) <= 5e-3  # the exporter's own check

    pixels = np.random.default_rng(1).uniform(0, 255, size=(4, 16, 16, 3)).astype("float32")
    want = {k: np.asarray(v) for k, v in model(pixels / 255.0, training=False).items()}  # digits: 0-1 scale
    assert np.ptp(want["score"]) > 0.1  # distinct scores: a swapped or constant score would show
    served = tf.saved_model.load(done["saved_model"][0]).signatures["serving_default"](images=tf.constant(pixels))
    assert set(served) == {"logits", "probabilities", "classes", "open_set_score", "log_likelihood"}
    np.testing.assert_allclose(served["logits"].numpy(), want["logits"], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(served["open_set_score"].numpy(), want["score"], rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(served["log_likelihood"].numpy(), want["log_likelihood"], rtol=1e-5, atol=1e-3)
    assert served["classes"].numpy().tolist() == np.argmax(want["logits"], -1).tolist()

    tflite = open(done["tflite"][0], "rb").read()
    joined = run_tflite(tflite, pixels / 255.0)
    np.testing.assert_allclose(joined, np.c_[want["logits"], want["score"]], rtol=1e-5, atol=1e-3)
