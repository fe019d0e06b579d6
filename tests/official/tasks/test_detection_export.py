"""Detection export of a tiny CPN: SavedModel (bytes -> detections, warmup records) and TFLite body.

The CPN has planted corners (tests/detection_helpers.py), so the exported serving_default must return
the scene's detections at boxes computed independently in ORIGINAL image pixels, with COCO category
ids; the exporter's own verification only compares the SavedModel with the same function run eagerly.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from official.core import export
from official.core.task import build_task
from tests import detection_helpers as dh


@pytest.mark.slow
def test_saved_model_and_tflite(tmp_path):
    data = str(tmp_path / "scene")
    cfg = dh.scene_experiment(data, dh.write_scene(data), flip_test=True, extra="export.verify_examples=3")
    task = build_task(cfg)
    model = dh.plant_corner_detector(task.build_model())
    size = cfg.train_data.image_size  # the network input; the images stay 160 x 120 / 120 x 160 originals
    done = export.export_all(model, task, str(tmp_path / "exports"), "cpn", cfg.export, size)
    saved, report = done["saved_model"]
    assert report["serving_default/boxes"] <= cfg.export.atol and report["proposals/proposals"] <= cfg.export.atol
    assert len(export.read_warmup_requests(os.path.join(saved, "assets.extra", "tf_serving_warmup_requests"))) == 2

    loaded = tf.saved_model.load(saved)
    encoded = [tf.io.read_file(os.path.join(data, "val", f)).numpy() for f in sorted(os.listdir(f"{data}/val"))]
    out = {k: v.numpy() for k, v in loaded.signatures["serving_default"](image_bytes=tf.constant(encoded)).items()}
    m = dh.SCENE_MAX_DETECTIONS
    assert out["boxes"].shape == (3, m, 4) and out["scores"].shape == (3, m)
    dh.check_scene_serving(out, "SavedModel serving_default")
    # tools.evaluate --saved_model: the "proposals" body + the task's post-processing (flip, unmap, ids).
    post = task._postprocess_fn()
    predict = task.saved_model_predict_fn(loaded)
    results, _ = task._collect(lambda images, sizes: post(predict, np.asarray(images), sizes),
                               task.build_inputs(cfg.eval_data, False, 3), None)
    dh.check_scene_results(results, "SavedModel proposals + post-processing")

    tflite_path, tflite_report = done["tflite"]
    assert tflite_report["max_abs_diff"] <= cfg.export.atol
    body = export.run_tflite(open(tflite_path, "rb").read(), task.verification_inputs(1, size))
    assert np.asarray(body).shape == (1, 256, 8)
