"""SoftPoolNet export (card check 8, METHOD_CONTRACT item 7) through the point_completion task: the SavedModel's
serving_default (static point count) gives partial -> {coarse, fine} equal to Keras, TFLite converts the
completion network (top_k + gather soft pooling) and matches, and both graphs hold stock TF ops only."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from official.core.export import export_all
from official.core.export_tflite import run_tflite
from official.tasks.point_completion import PointCompletionTask
from research.three_d.softpoolnet.experiments import softpoolnet_small_shapes
from research.three_d.softpoolnet.model import SoftPoolNetCompletion
from tests.helpers import randomise_weights
from tools.make_shapes3d import write_shapes3d

TINY = dict(num_points=64, point_widths=(8,), dim_pn=8, ranks=4, global_widths=(8, 16), global_dim=8,
            grid=(2, 2), fold_widths=(16,))


def test_saved_model_and_tflite(tmp_path):
    root = str(tmp_path / "c3d")
    write_shapes3d("completion3d", root, per_class=1, test_per_class=1, classes=("torus", "cone"))
    cfg = softpoolnet_small_shapes()
    data = dataclasses.replace(cfg.eval_data, path=root, num_partial=64, num_complete=256)
    cfg.train_data, cfg.eval_data = dataclasses.replace(data, split="train"), data
    task = PointCompletionTask(cfg)
    keras.utils.set_random_seed(0)
    model = SoftPoolNetCompletion(**TINY)
    randomise_weights(model, 0)
    done = export_all(model, task, str(tmp_path / "exports"), "softpoolnet", dataclasses.replace(cfg.export, warmup_requests=1), 0)
    assert max(done["saved_model"][1].values()) <= 1e-4  # the exporter's own numeric check

    partial = task.verification_inputs(2, 0)
    want = model(partial, training=False)
    loaded = tf.saved_model.load(done["saved_model"][0])
    signature = loaded.signatures["serving_default"]
    assert signature.structured_input_signature[1]["partial"].shape.as_list() == [None, 64, 3]
    served = signature(partial=tf.constant(partial))
    assert set(served) == {"coarse", "fine"}
    np.testing.assert_allclose(served["fine"].numpy(), want["fine"], atol=1e-5)
    np.testing.assert_allclose(served["coarse"].numpy(), want["coarse"], atol=1e-5)
    ops = {n.op for f in signature.graph.as_graph_def().library.function for n in f.node_def}
    assert "TopKV2" in ops and not any(o.startswith("Zoo") for o in ops), sorted(o for o in ops if o.startswith("Zoo"))

    tflite = open(done["tflite"][0], "rb").read()
    np.testing.assert_allclose(run_tflite(tflite, partial), np.asarray(want["fine"]), atol=1e-4)
