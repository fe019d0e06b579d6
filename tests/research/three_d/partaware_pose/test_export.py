"""Card check 8: the derived (discrete) network exports to a SavedModel and TFLite equal to Keras to 1e-5, with
stock TF ops and no search-time MixedOp or architecture parameter in it."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from official.core.export import export_all
from official.core.export_tflite import run_tflite
from research.three_d.partaware_pose.model import PartAwarePoseNet
from research.three_d.partaware_pose.ops import MixedOp
from research.three_d.partaware_pose.task import MEAN, STD, PartAwarePoseTask
from tests.helpers import randomise_weights
from tests.research.three_d.partaware_pose.pa_fixtures import MICRO, micro_config


def test_saved_model_and_tflite(tmp_path, h36m_dir):
    cfg = micro_config(h36m_dir)
    task = PartAwarePoseTask(cfg)
    keras.utils.set_random_seed(0)
    model = PartAwarePoseNet(**MICRO)
    randomise_weights(model, 0)
    assert not any(isinstance(layer, MixedOp) for layer in model._flatten_layers())
    assert not any("alpha" in v.path for v in model.weights)
    done = export_all(model, task, str(tmp_path / "exports"), "partaware", dataclasses.replace(cfg.export, warmup_requests=1), 32)
    assert max(done["saved_model"][1].values()) <= 1e-5

    pixels = np.random.default_rng(3).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    want = np.asarray(model((pixels - MEAN) / STD, training=False))
    signature = tf.saved_model.load(done["saved_model"][0]).signatures["serving_default"]
    served = signature(images=tf.constant(pixels))
    np.testing.assert_allclose(served["joints_voxel"].numpy(), want, atol=1e-5)
    np.testing.assert_allclose(served["joints_crop"].numpy()[..., :2], want[..., :2] * 4.0, atol=1e-4)
    ops = {n.op for f in signature.graph.as_graph_def().library.function for n in f.node_def}
    assert not any(o.startswith("Zoo") for o in ops)
    tflite = open(done["tflite"][0], "rb").read()
    np.testing.assert_allclose(run_tflite(tflite, (pixels - MEAN) / STD), want, atol=1e-5)
