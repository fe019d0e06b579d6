"""COCO-FUNIT export (spec-card check 7, second half): the SavedModel's serving_default (content, style) and
translate_uint8 match Keras (1e-5 / one level) through the task's export path (tools.export's code)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

import official.tasks.few_shot_translation  # noqa: F401  (registration)
import research.generative.coco_funit.experiments  # noqa: F401
from official.core import export, registry
from official.core.config import model_config
from official.core.task import build_task
from tests import helpers


def test_saved_model_translates_like_keras(tmp_path):
    keras.backend.clear_session()
    cfg = registry.get_experiment("coco_funit_small_few_shot")
    cfg.model = model_config("coco_funit_tiny", image_size=(32, 32))
    cfg.eval_data.path = str(tmp_path / "missing")  # no data: the task exports with smooth random pairs
    task = build_task(cfg)
    model = registry.create_model("coco_funit_tiny")
    helpers.randomise_weights(model, 3)
    path, report = export.export_saved_model(model, task, str(tmp_path), "coco_funit", cfg.export, 32)
    assert "serving_default/image" in report and max(report.values()) <= 1e-5, report
    loaded = tf.saved_model.load(path)
    assert set(loaded.signatures) == {"serving_default", "translate_uint8"}
    rng = np.random.default_rng(0)
    content, style = (rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32") for _ in range(2))
    want = np.asarray(model({"content": content, "style": style}))
    assert want.std() > 0.05
    got = loaded.signatures["serving_default"](content=tf.constant(content), style=tf.constant(style))["image"]
    np.testing.assert_allclose(got.numpy(), want, atol=1e-5)
    c8, s8 = (np.round((x + 1) * 127.5).astype("uint8") for x in (content, style))
    got8 = loaded.signatures["translate_uint8"](content=tf.constant(c8), style=tf.constant(s8))["image"].numpy()
    want8 = np.clip(np.round((np.asarray(model({"content": c8 / 127.5 - 1.0, "style": s8 / 127.5 - 1.0})) + 1) * 127.5),
                    0, 255)
    assert np.abs(got8.astype(int) - want8).max() <= 1
