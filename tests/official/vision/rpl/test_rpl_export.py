"""RPL export (spec card rpl.md check 7, METHOD_CONTRACT item 7): through the open-set task, the SavedModel's
serving_default gives image -> {logits (the distances), probabilities, classes, open_set_score, features}
equal to Keras, and the TFLite body (distances then score) matches to 1e-4."""

from __future__ import annotations

import dataclasses
import os

import keras
import numpy as np
import tensorflow as tf

from official.core.config import ExportConfig
from official.core.export import export_all
from official.core.export_tflite import run_tflite
from official.tasks.open_set import OpenSetClassificationTask
from official.vision.rpl.experiments import rpl_classifier32_digits
from official.vision.rpl.model import RPLNet
from tests.helpers import randomise_weights

NARROW = (8, 8, 16, 16, 16, 16, 16, 16, 16)  # the export path does not depend on the widths


def test_saved_model_and_tflite_through_the_open_set_task(tmp_path, digits_dir):
    cfg = rpl_classifier32_digits()
    val = os.path.join(digits_dir, "val")
    cfg.eval_data = dataclasses.replace(cfg.eval_data, path=val, image_size=8)
    cfg.task.unknown_data = dataclasses.replace(cfg.task.unknown_data, path=val, image_size=8)
    task = OpenSetClassificationTask(cfg)
    keras.utils.set_random_seed(0)
    model = RPLNet(classes=6, input_shape=(8, 8, 3), widths=NARROW)
    randomise_weights(model, 0)
    model.reciprocal_points.points.assign(np.random.default_rng(0).normal(size=(6, 16)).astype("float32"))
    export = ExportConfig(formats=("saved_model", "tflite"), quantize="none", verify_examples=8, warmup_requests=1)
    done = export_all(model, task, str(tmp_path / "exports"), "rpl", export, 8)
    assert max(v for k, v in done["saved_model"][1].items()) <= 1e-4  # the exporter's own check (serving_default, bytes)

    pixels = np.random.default_rng(1).uniform(0, 255, size=(4, 8, 8, 3)).astype("float32")
    want = {k: np.asarray(v) for k, v in model(pixels / 255.0, training=False).items()}  # the digits run's 0-1 scale
    assert want["score"].min() < 0.9  # scores not saturated: a wrong softmax would show
    served = tf.saved_model.load(done["saved_model"][0]).signatures["serving_default"](images=tf.constant(pixels))
    assert set(served) == {"logits", "probabilities", "classes", "open_set_score", "features"}
    np.testing.assert_allclose(served["logits"].numpy(), want["logits"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(served["open_set_score"].numpy(), want["score"], atol=1e-6)
    np.testing.assert_allclose(served["probabilities"].numpy().max(-1), want["score"], atol=1e-6)
    assert served["classes"].numpy().tolist() == np.argmax(want["logits"], -1).tolist()

    tflite = open(done["tflite"][0], "rb").read()
    joined = run_tflite(tflite, pixels / 255.0)
    np.testing.assert_allclose(joined, np.c_[want["logits"], want["score"]], atol=1e-4)
