"""ForkGAN export (card check 7): the night -> day path (shared encoder + translation decoder of G_A2B) as a
SavedModel with the image_translation signatures (serving_default float [-1, 1], translate_uint8) verified
against Keras to 1e-5, and as TFLite float16 with stock ops, verified by the shared exporter; the reconstruction
decoder (whose noise makes it random) is not in the exported graph."""

import numpy as np
import tensorflow as tf

import research.generative.forkgan.objective  # noqa: F401  (registers everything)
from official.core import export, registry
from official.core.task import build_task
from tests import helpers


def test_saved_model_and_tflite_float16(tmp_path):
    cfg = registry.get_experiment("forkgan_tiny_night_day")
    cfg.eval_data.path = str(tmp_path / "no_data")  # export needs no data: smooth random examples
    cfg.export.formats = ("saved_model",)
    cfg.export.atol = 1e-5
    task = build_task(cfg)
    model = registry.create_model("forkgan_tiny")
    helpers.randomise_weights(model, 3)
    done = export.export_all(model, task, str(tmp_path / "exports"), "forkgan_tiny", cfg.export, 0)
    path, report = done["saved_model"]
    assert max(v for k, v in report.items() if k != "ops") <= 1e-5
    loaded = tf.saved_model.load(path)
    assert set(loaded.signatures) == {"serving_default", "translate_uint8"}
    x = task._examples(2)
    want = np.asarray(model(x))
    assert np.abs(want).max() > 0.1
    np.testing.assert_allclose(loaded.signatures["serving_default"](image=tf.constant(x))["image"].numpy(), want, atol=1e-5)
    u8 = np.round((x + 1) * 127.5).clip(0, 255).astype(np.uint8)
    got = loaded.signatures["translate_uint8"](image=tf.constant(u8))["image"].numpy().astype(int)
    ref = np.round((np.asarray(model(u8.astype(np.float32) / 127.5 - 1)) + 1) * 127.5).clip(0, 255)
    assert np.abs(got - ref).max() <= 1
    # float16 weights: measured max |TFLite - Keras| 0.0037 on outputs in [-1, 1]; the exporter checks 10 x atol.
    cfg.export.formats, cfg.export.quantize, cfg.export.atol = ("tflite",), "float16", 1e-3
    tfl_path, tfl = export.export_all(model, task, str(tmp_path / "exports"), "forkgan_tiny", cfg.export, 0)["tflite"]
    assert tfl["max_abs_diff"] < 1e-2 and not any(op.startswith("FlexOp") or op == "CUSTOM" for op in tfl["ops"])
    assert tfl_path.endswith("forkgan_tiny_float16.tflite")
