"""Detection export of a tiny CPN: SavedModel (bytes -> detections, warmup records) and TFLite body."""

import os

import numpy as np
import pytest
import tensorflow as tf

from official.core import config as config_lib
from official.core import export
from official.core.task import build_task


@pytest.mark.slow
def test_saved_model_and_tflite(tmp_path):
    from tools.make_shapes import write_shapes

    data = str(tmp_path / "shapes")
    write_shapes(data, 2, 3, size=128, seed=0)
    ann = f"{data}/annotations/instances_val.json"
    override = f"train_data.path={data}/train,train_data.annotations={data}/annotations/instances_train.json," \
               f"eval_data.path={data}/val,eval_data.annotations={ann}"
    cfg = config_lib.resolve("cpn_dla34tiny_shapes", [], override)
    task = build_task(cfg)
    model = task.build_model()
    size = cfg.train_data.image_size  # the network input; the images stay 128 px originals
    done = export.export_all(model, task, str(tmp_path / "exports"), "cpn", cfg.export, size)
    saved, report = done["saved_model"]
    assert report["serving_default/boxes"] <= cfg.export.atol and report["proposals/proposals"] <= cfg.export.atol
    assert len(export.read_warmup_requests(os.path.join(saved, "assets.extra", "tf_serving_warmup_requests"))) == 2

    loaded = tf.saved_model.load(saved)
    encoded = [tf.io.read_file(os.path.join(data, "val", f)).numpy() for f in sorted(os.listdir(f"{data}/val"))]
    out = {k: v.numpy() for k, v in loaded.signatures["serving_default"](image_bytes=tf.constant(encoded)).items()}
    assert out["boxes"].shape == (3, 100, 4) and out["scores"].shape == (3, 100)
    n = out["num_detections"]
    assert set(np.unique(out["classes"][0, : n[0]])) <= {1, 3, 7}  # COCO category ids, not indices
    assert np.all(out["boxes"] >= 0) and np.all(out["boxes"] <= 128)
    assert np.all(out["scores"][0, n[0]:] == 0)

    tflite_path, tflite_report = done["tflite"]
    assert tflite_report["max_abs_diff"] <= cfg.export.atol
    body = export.run_tflite(open(tflite_path, "rb").read(), task.verification_inputs(1, size))
    assert np.asarray(body).shape == (1, 256, 8)
