"""ExchNet export (spec check 8): the SavedModel serves image -> {code (pre-sign), binary_code int8,
packed_code uint8}, checked against Keras by the exporter and here by hand; TFLite matches the code to 1e-4."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from official.core import export
from official.core.registry import get_experiment
from official.core.task import build_task
from official.evaluation import retrieval
from research.retrieval import exchnet  # noqa: F401  (registers the experiment, task and method)


def _folder(root, per_class=3, size=32):
    rng = np.random.default_rng(0)
    for c in range(3):
        (root / str(c)).mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(root / str(c) / f"{i}.png")
    return str(root)


def test_saved_model_and_tflite_codes(tmp_path):
    cfg = get_experiment("exchnet_tiny_digits")
    path = _folder(tmp_path / "val")
    cfg.task.num_classes = 3
    cfg.model.input_shape = (32, 32, 3)
    cfg.train_data = dataclasses.replace(cfg.train_data, path=path, image_size=32)
    cfg.eval_data = dataclasses.replace(cfg.eval_data, path=path, image_size=32)
    cfg.export = dataclasses.replace(cfg.export, verify_examples=4, warmup_requests=1)
    keras.utils.set_random_seed(0)
    task = build_task(cfg)
    model = task.build_model()
    done = export.export_all(model, task, str(tmp_path / "exports"), "exchnet", cfg.export, 32)
    assert set(done) == {"saved_model", "tflite"}
    assert done["tflite"][1]["max_abs_diff"] <= 1e-4  # the continuous code, before sign
    assert max(v for k, v in done["saved_model"][1].items() if k.endswith("/code")) <= 1e-4
    loaded = tf.saved_model.load(done["saved_model"][0])
    pixels = np.random.default_rng(1).uniform(0, 255, (3, 32, 32, 3)).astype("float32")
    out = loaded.signatures["serving_default"](images=tf.constant(pixels))
    mean, std = np.asarray(cfg.eval_data.mean, np.float32), np.asarray(cfg.eval_data.std, np.float32)
    code = np.asarray(model((pixels - mean) / std, training=False))
    np.testing.assert_allclose(out["code"].numpy(), code, atol=1e-4)
    assert out["binary_code"].dtype == tf.int8 and out["packed_code"].dtype == tf.uint8
    np.testing.assert_array_equal(out["binary_code"].numpy(), np.where(code >= 0, 1, -1))
    np.testing.assert_array_equal(out["packed_code"].numpy(), retrieval.pack_codes(code))
    assert out["packed_code"].shape == (3, 2)  # 12 bits -> 2 bytes
