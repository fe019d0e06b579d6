"""The open-set task: its metrics from hand-built scores, evaluation over known + unknown sets, serving
outputs and the single-output TFLite body, and the experiments' wiring of ARPL's splits and recipe."""

from __future__ import annotations

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import f1_score, roc_auc_score

from official.core import config as config_lib
from official.data.imagefolder import DatasetError
from official.tasks.open_set import OpenSetClassificationTask, open_set_metrics, split_outputs
from official.tasks.open_set_experiments import digits_osr_experiment, osr_experiment
from tests import helpers


def _tiny_open_set_model(num_known: int = 3) -> keras.Model:
    """GAP -> Dense logits; score = largest softmax probability (a baseline obeying the model contract)."""
    inputs = keras.Input((8, 8, 3))
    logits = keras.layers.Dense(num_known, name="logits")(keras.layers.GlobalAveragePooling2D()(inputs))
    score = keras.ops.max(keras.ops.softmax(logits), axis=-1)
    return keras.Model(inputs, {"logits": logits, "score": score, "features": inputs[:, 0, 0, :]})


def test_metrics_match_references_on_a_hand_built_case():
    known = {"logits": np.eye(4, 3)[[0, 1, 2, 0]] * 5, "score": np.array([0.9, 0.8, 0.3, 0.7]),
             "labels": np.array([0, 1, 2, 1])}  # the last one is misclassified
    unknown = {"logits": np.eye(3)[[0, 2]], "score": np.array([0.85, 0.1])}
    metrics = open_set_metrics(known, unknown, accept_known=0.75)
    assert metrics["accuracy"] == 0.75
    assert metrics["auroc"] == pytest.approx(roc_auc_score([1, 1, 1, 1, 0, 0], [0.9, 0.8, 0.3, 0.7, 0.85, 0.1]))
    # The threshold accepting 3 of 4 known scores lies between 0.3 and 0.7: 0.3 and 0.1 are rejected.
    assert 0.3 < metrics["threshold"] <= 0.7
    expected_f1 = f1_score([0, 1, 2, 1, 3, 3], [0, 1, 3, 0, 0, 3], average="macro", labels=range(4))
    assert metrics["macro_f1"] == pytest.approx(expected_f1)
    # OSCR by hand: thresholds 0.9, 0.85, 0.8, 0.7, 0.3, 0.1 -> (FPR, CCR) (0, .25), (.5, .25), (.5, .5),
    # (.5, .5), (.5, .75), (1, .75); trapezoids from (0, 0).
    assert metrics["oscr"] == pytest.approx(0.5 * 0.25 + 0.5 * 0.75)
    assert metrics["known_examples"] == 4 and metrics["unknown_examples"] == 2


def test_split_outputs_reads_dicts_and_the_joined_export():
    logits, score = split_outputs(np.array([[1.0, 2.0, 0.5], [3.0, 0.0, 0.25]]))
    assert logits.tolist() == [[1.0, 2.0], [3.0, 0.0]] and score.tolist() == [0.5, 0.25]


def _experiment(tmp_path) -> config_lib.ExperimentConfig:
    cfg = osr_experiment("mlp_500_300", "cifar10", item=0)
    cfg.task.num_classes = 3
    cfg.trainer.global_batch_size = 4
    cfg.task.unknown_data.path = str(tmp_path)
    return cfg


def _dataset(values: list[float], labels: list[int]) -> tf.data.Dataset:
    images = np.stack([np.full((8, 8, 3), v, np.float32) for v in values])
    return tf.data.Dataset.from_tensor_slices((images, np.asarray(labels))).batch(2)


def test_evaluate_runs_known_and_unknown_sets_and_writes_predictions(tmp_path, monkeypatch):
    task = OpenSetClassificationTask(_experiment(tmp_path))
    monkeypatch.setattr(task, "unknown_dataset", lambda batch_size=None: _dataset([5.0, -5.0, 0.0], [0, 0, 0]))
    model = _tiny_open_set_model()
    known = _dataset([1.0, 2.0, -1.0, 0.5], [0, 1, 2, 0])
    out = str(tmp_path / "predictions.json")
    metrics = task.evaluate(model, known, predictions_out=out)
    outputs = model(np.stack([np.full((8, 8, 3), v, np.float32) for v in [1.0, 2.0, -1.0, 0.5]]))
    unknown = model(np.stack([np.full((8, 8, 3), v, np.float32) for v in [5.0, -5.0, 0.0]]))
    assert metrics["auroc"] == pytest.approx(roc_auc_score([1] * 4 + [0] * 3, np.r_[outputs["score"], unknown["score"]]))
    assert metrics["accuracy"] == pytest.approx(np.mean(np.argmax(outputs["logits"], -1) == [0, 1, 2, 0]))
    records = json.load(open(out))
    assert [r["set"] for r in records] == ["known"] * 4 + ["unknown"] * 3 and records[-1]["label"] == -1


def test_unknown_data_is_required(tmp_path):
    cfg = _experiment(tmp_path)
    cfg.task.unknown_data.path = ""
    with pytest.raises(DatasetError, match="task.unknown_data.path"):
        OpenSetClassificationTask(cfg).unknown_dataset()


def test_serving_outputs_and_tflite_body(tmp_path):
    task = OpenSetClassificationTask(_experiment(tmp_path))
    model = _tiny_open_set_model()
    images = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
    served = task.serving_outputs(task.model_outputs(model, tf.constant(images)))
    reference = model(images)
    np.testing.assert_allclose(served["open_set_score"], reference["score"], rtol=1e-6)
    np.testing.assert_allclose(served["probabilities"], keras.ops.softmax(reference["logits"]), rtol=1e-5)
    assert served["classes"].numpy().tolist() == np.argmax(reference["logits"], -1).tolist() and "features" in served
    joined = np.asarray(task.export_body(model)(images))
    np.testing.assert_allclose(joined, np.c_[reference["logits"], reference["score"]], rtol=1e-6)
    quantized = joined.copy()
    quantized[:, -1] = 100.0  # a large score must not count as a class
    assert task.quantized_agreement(joined, quantized) == 1.0


def test_experiments_wire_arpl_splits_and_recipe():
    cfg = osr_experiment("mlp_500_300", "cifar_plus10", item=0)
    assert cfg.train_data.classes == cfg.eval_data.classes == (1, 0, 9, 8) and cfg.task.num_classes == 4
    assert cfg.task.unknown_data.path.startswith("cifar100/") and cfg.task.unknown_data.classes[:3] == (33, 2, 3)
    assert cfg.train_data.pad_crop == 4 and cfg.train_data.horizontal_flip and cfg.train_data.std == (255.0,) * 3
    assert cfg.trainer.optimizer.name == "sgd" and cfg.trainer.lr_schedule.milestones == (30.0, 60.0, 90.0)
    assert cfg.trainer.global_batch_size == 64 and cfg.trainer.weight_decay == 1e-4
    mnist = osr_experiment("mlp_500_300", "mnist", item=1)
    assert not mnist.train_data.horizontal_flip and mnist.train_data.pad_crop == 0 and mnist.train_data.image_size == 32
    assert set(mnist.task.unknown_data.classes) == set(range(10)) - set(mnist.train_data.classes)
    tiny = osr_experiment("mlp_500_300", "tinyimagenet")
    assert tiny.trainer.optimizer.name == "adam" and tiny.trainer.lr_schedule.base_lr == 1e-3
    assert tiny.trainer.weight_decay == 0.0
    assert tiny.train_data.image_size == 64 and len(tiny.task.unknown_data.classes) == 180
    digits = digits_osr_experiment("mlp_500_300", item=0)
    assert digits.train_data.path == "digits/train" and digits.train_data.classes == (6, 3, 4, 9, 8, 2)
    assert not digits.train_data.horizontal_flip and digits.train_data.pad_crop == 0


def test_experiments_import_without_tensorflow(tmp_path):
    # Model packages register their experiments on import, under JAX on a machine without TensorFlow.
    script = ("import sys, numpy as np; import official.tasks.open_set_experiments, official.tasks.open_set_config;"
              " np.savez(sys.argv[2], tf=np.asarray('tensorflow' in sys.modules))")
    assert not helpers.run_jax_script(script, tmp_path)["tf"]


def test_unknown_data_path_resolves_under_data_dir(tmp_path):
    cfg = osr_experiment("mlp_500_300", "svhn")
    cfg.runtime.data_dir = str(tmp_path)
    config_lib.anchor_data_paths(cfg)
    assert cfg.task.unknown_data.path == os.path.join(str(tmp_path), "svhn", "test_32x32.mat")
    assert cfg.eval_data.path == cfg.task.unknown_data.path
