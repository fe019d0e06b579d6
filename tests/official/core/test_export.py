"""The exporter: SavedModel (+ warmup), TFLite and ONNX match Keras; a failed check leaves nothing behind."""

from __future__ import annotations

import dataclasses
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from official.core import config as config_lib
from official.core import export, trainer


@pytest.fixture(scope="module")
def trained(digits_dir, tmp_path_factory):
    """MobileNetV2-0.35 after 60 digits steps, with its task."""
    cfg = config_lib.resolve(
        "mobilenetv2_035_digits",
        params_override=f"train_data.path={digits_dir}/train,eval_data.path={digits_dir}/val,trainer.train_steps=60,"
        "trainer.steps_per_loop=60",
    )
    model_dir = str(tmp_path_factory.mktemp("export_run"))
    trainer.run_experiment(cfg, model_dir, mode="train")
    model, task, step = trainer.restore_for_inference(cfg, model_dir)
    assert step == 60
    return cfg, model, task


def test_saved_model_signatures_and_warmup(trained, tmp_path):
    cfg, model, task = trained
    export_cfg = dataclasses.replace(cfg.export, verify_examples=8)
    path, report = export.export_saved_model(model, task, str(tmp_path), "digits", export_cfg, 32)
    assert path == os.path.join(str(tmp_path), "digits", "1")
    assert max(report.values()) <= 1e-4
    loaded = tf.saved_model.load(path)
    assert {"serving_default", "serving_bytes"} <= set(loaded.signatures)
    # serving_default takes 0-255 pixels and normalises inside: compare with Keras on normalised input
    pixels = np.random.default_rng(0).uniform(0, 255, size=(3, 32, 32, 3)).astype(np.float32)
    normalized = (pixels - np.array(cfg.eval_data.mean, np.float32)) / np.array(cfg.eval_data.std, np.float32)
    out = loaded.signatures["serving_default"](images=tf.constant(pixels))
    np.testing.assert_allclose(out["logits"].numpy(), np.asarray(model(normalized)), atol=1e-4)
    np.testing.assert_array_equal(out["classes"].numpy(), np.argmax(out["logits"].numpy(), -1))
    logs = export.read_warmup_requests(os.path.join(path, "assets.extra", "tf_serving_warmup_requests"))
    assert len(logs) == cfg.export.warmup_requests
    request = logs[0].predict_log.request
    assert request.model_spec.name == "digits" and request.model_spec.signature_name == "serving_bytes"
    encoded = tf.make_ndarray(request.inputs["image_bytes"])
    assert encoded.shape == (1,) and encoded[0][:4] == b"\x89PNG"
    # a second export gets the next version
    path2, _ = export.export_saved_model(model, task, str(tmp_path), "digits", export_cfg, 32)
    assert path2.endswith(os.path.join("digits", "2"))


@pytest.mark.slow
def test_tflite_float_and_int8_and_onnx_match_keras(trained, tmp_path):
    cfg, model, task = trained
    # 60 training steps leave many near-ties between classes, so int8 agreement is checked at 0.7 here;
    # the MobileNeXt tests check >= 0.95 on a fully trained model.
    export_cfg = dataclasses.replace(cfg.export, verify_examples=64, min_top1_agreement=0.7)
    inputs = task.verification_inputs(64, 32)
    ref = np.asarray(model(inputs, training=False))
    path, report = export.export_tflite(model, task, str(tmp_path), "digits", export_cfg, 32, "none")
    got = export.run_tflite(open(path, "rb").read(), inputs)
    assert np.max(np.abs(got - ref)) <= 1e-4
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"} <= set(report["ops"])
    path8, report8 = export.export_tflite(model, task, str(tmp_path), "digits", export_cfg, 32, "int8")
    got8 = export.run_tflite(open(path8, "rb").read(), inputs)
    assert np.mean(np.argmax(got8, -1) == np.argmax(ref, -1)) >= 0.7
    assert report8["top1_agreement"] >= 0.7
    onnx_path, onnx_report = export.export_onnx_model(model, task, str(tmp_path), "digits", export_cfg, 32)
    from official.core.export_onnx import run_onnx

    assert np.max(np.abs(run_onnx(open(onnx_path, "rb").read(), inputs) - ref)) <= 1e-4


def test_failed_verification_leaves_nothing(trained, tmp_path):
    """Each format's failed check removes what it wrote. The exporter is model-agnostic, so a 2-layer
    classifier on the digits task stands in for the trained MobileNet (its three conversions cost ~20 s)."""
    cfg, trained_model, task = trained
    keras.utils.set_random_seed(0)
    inputs = keras.Input(trained_model.inputs[0].shape[1:])
    features = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3, strides=2)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(int(trained_model.outputs[0].shape[-1]))(features))
    strict = dataclasses.replace(cfg.export, atol=0.0, verify_examples=4, min_top1_agreement=1.01)
    with pytest.raises(export.ExportError, match="max |difference|"):
        export.export_onnx_model(model, task, str(tmp_path), "digits", strict, 32)
    with pytest.raises(export.ExportError, match="top-1 agreement"):
        export.export_tflite(model, task, str(tmp_path), "digits", strict, 32, "dynamic")
    # SavedModel: force a mismatch by comparing against shifted expectations
    original = task.serving_verification

    def shifted(m, n, size):
        return [(sig, inputs, {k: v + 1.0 for k, v in exp.items()}) for sig, inputs, exp in original(m, n, size)]

    task.serving_verification = shifted
    try:
        with pytest.raises(export.ExportError, match="SavedModel"):
            export.export_saved_model(model, task, str(tmp_path), "digits", strict, 32)
    finally:
        task.serving_verification = original
    leftovers = [os.path.join(d, f) for d, _, files in os.walk(str(tmp_path)) for f in files] + [
        d for d, _, _ in os.walk(str(tmp_path)) if d != str(tmp_path)
    ]
    assert leftovers == [], leftovers


def test_restored_model_evaluates_without_compiling(trained):
    """tools.evaluate --model_dir path: an uncompiled restored model gets loss and top-1 from the task."""
    cfg, model, task = trained
    assert not model.compiled
    dataset = task.build_inputs(cfg.eval_data, False, 64)
    metrics = task.evaluate(model, dataset)
    correct = total = 0
    for images, labels in dataset:
        predicted = np.argmax(np.asarray(model(images, training=False)), -1)
        correct += int(np.sum(predicted == np.asarray(labels).reshape(-1)))
        total += len(predicted)
    assert total == 364
    assert metrics["top1"] == pytest.approx(correct / total, abs=1e-6)
    assert metrics["loss"] > 0
