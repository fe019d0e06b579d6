"""Card check 8: the derived (discrete) network exports to a SavedModel and TFLite equal to Keras to 1e-5, with
stock TF ops and no search-time MixedOp or architecture parameter in it. Exported: the trained one-head micro
network of the overfit test (trained weights and BN statistics; one export_all call writes both formats)."""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from official.core.export import export_all
from research.three_d.partaware_pose.ops import MixedOp
from research.three_d.partaware_pose.task import MEAN, STD


def test_saved_model_and_tflite(tmp_path, trained_micro):
    task, _, _, model, _ = trained_micro
    assert not any(isinstance(layer, MixedOp) for layer in model._flatten_layers())
    assert not any("alpha" in v.path for v in model.weights)
    cfg = dataclasses.replace(task.config.export, warmup_requests=0)
    done = export_all(model, task, str(tmp_path / "exports"), "partaware", cfg, 32)
    assert max(done["saved_model"][1].values()) <= 1e-5
    assert done["tflite"][1]["max_abs_diff"] <= 1e-5, done["tflite"][1]

    pixels = np.random.default_rng(3).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    want = np.asarray(model((pixels - MEAN) / STD, training=False))
    signature = tf.saved_model.load(done["saved_model"][0]).signatures["serving_default"]
    served = signature(images=tf.constant(pixels))
    np.testing.assert_allclose(served["joints_voxel"].numpy(), want, atol=1e-5)
    np.testing.assert_allclose(served["joints_crop"].numpy()[..., :2], want[..., :2] * 4.0, atol=1e-4)
    ops = {n.op for f in signature.graph.as_graph_def().library.function for n in f.node_def}
    assert not any(o.startswith("Zoo") for o in ops)
    assert not any(o.startswith("Flex") or o == "CUSTOM" for o in done["tflite"][1]["ops"])
