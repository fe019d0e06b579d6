"""PointNet++ export (spec card pointmixup.md check 8, METHOD_CONTRACT item 7): through the point-classification
task, the SavedModel (static point count) serves points -> logits / probabilities / classes equal to Keras and the
TFLite classifier matches to 1e-5; both graphs hold stock ops only (traced under composite_ops)."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from official.core.config import ExportConfig
from official.core.export import export_all
from official.core.export_tflite import run_tflite
from official.data import modelnet40, shapes3d
from official.tasks.point_classification import PointClassificationTask
from official.vision.pointnet2.experiments import shapes_experiment
from official.vision.pointnet2.model import PointNet2Classifier
from tests.helpers import randomise_weights

MICRO = ((8, (0.5,), (6,), ((8,),)), (None, (), (), ((16,),)))
CUSTOM_PREFIXES = ("Zoo", "Eccv")  # official/ops/kernels register their ops under these names


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("export")
    root = tmp_path / "modelnet40_ply_hdf5_2048"
    splits = {"train": shapes3d.dataset_meshes(("sphere", "box"), 2, 0), "test": shapes3d.dataset_meshes(("sphere", "box"), 2, 1)}
    modelnet40.write_modelnet40_h5(str(root), splits, np.random.default_rng(0))
    cfg = shapes_experiment()
    cfg.task.num_classes = 2
    cfg.train_data = dataclasses.replace(cfg.train_data, path=str(root), num_points=32)
    cfg.eval_data = dataclasses.replace(cfg.eval_data, path=str(root), num_points=32)
    task = PointClassificationTask(cfg)
    keras.utils.set_random_seed(0)
    model = PointNet2Classifier(classes=2, num_points=32, stages=MICRO, head_widths=(8,))
    randomise_weights(model, 0)
    export = ExportConfig(formats=("saved_model",), quantize="none", verify_examples=4, warmup_requests=1, atol=1e-5)
    done = export_all(model, task, str(tmp_path / "exports"), "pointnet2", export, 0)
    return model, task, cfg, export, done, tmp_path


def test_saved_model_serves_keras_outputs_with_stock_ops(exported):
    model, task, cfg, _, done, _ = exported
    points = task.verification_inputs(4, 0)
    want = np.asarray(model(points, training=False))
    loaded = tf.saved_model.load(done["saved_model"][0])
    served = loaded.signatures["serving_default"](points=tf.constant(points))
    np.testing.assert_allclose(served["logits"].numpy(), want, atol=1e-5)
    assert served["classes"].numpy().tolist() == np.argmax(want, -1).tolist()
    assert loaded.signatures["serving_default"].structured_input_signature[1]["points"].shape.as_list() == [None, 32, 3]
    graph_ops = set()
    for fn in loaded.signatures["serving_default"].graph.as_graph_def().library.function:
        graph_ops |= {node.op for node in fn.node_def}
    assert graph_ops and not [op for op in graph_ops if op.startswith(CUSTOM_PREFIXES)], sorted(graph_ops)
    assert task.evaluate_predict_fn(task.saved_model_predict_fn(loaded), task.build_inputs(cfg.eval_data, False, 2))["examples"] == 4


def test_tflite_classifier_matches_keras(exported):
    model, task, _, export, _, tmp_path = exported
    done = export_all(model, task, str(tmp_path / "exports"), "pointnet2", dataclasses.replace(export, formats=("tflite",)), 0)
    points = task.verification_inputs(4, 0)
    tflite = open(done["tflite"][0], "rb").read()
    np.testing.assert_allclose(run_tflite(tflite, points), np.asarray(model(points, training=False)), atol=1e-5)
    ops = done["tflite"][1]["ops"]
    assert ops and not [op for op in ops if "FLEX" in op.upper() or "CUSTOM" in op.upper()], ops
