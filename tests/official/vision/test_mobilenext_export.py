"""MobileNeXt on phones: TFLite float32/float16 round trips (all identity divisors) and int8 on digits.

The float checks use random weights with unit-scale BN statistics (logits of order 1, so a 1e-4
tolerance means something); the int8 check needs a trained network, since top-1 agreement between
near-tied random logits says nothing: it loads mobilenext_035_digits trained for 20 epochs and asks the
full-integer model (calibrated on the experiment's training images) to agree with Keras on >= 95% of
the 364 digits validation images.
"""

from __future__ import annotations

import dataclasses
import os

import keras
import numpy as np
import pytest

from official.core import config as config_lib
from official.core import export, trainer
from official.core.export_tflite import convert_tflite, run_tflite, tflite_op_names
from official.core.task import build_task
from official.vision.mobilenext.model import MobileNeXt

# Spec card, check 7: what the converted graph may contain (BN and ReLU6 fold into the convs). PAD comes
# from the explicit symmetric padding of the stride-2 convs (PyTorch's padding=1).
BASE_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "MEAN", "FULLY_CONNECTED", "PAD"}
PARTIAL_IDENTITY_OPS = {"STRIDED_SLICE", "CONCATENATION"}


def randomise(model: keras.Model, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for v in model.weights:
        kind = v.path.split("/")[-1]
        if kind in ("gamma", "moving_variance"):
            value = rng.uniform(0.5, 1.5, v.shape)
        elif kind in ("beta", "moving_mean", "bias"):
            value = rng.normal(0.0, 0.1, v.shape)
        else:
            fan_in = int(np.prod(v.shape[:-1])) if "dw" not in v.path else int(np.prod(v.shape[:2]))
            value = rng.normal(0.0, fan_in**-0.5, v.shape)
        v.assign(value.astype("float32"))


# Each conversion (SavedModel + TFLite converter) takes 20-50 s on 2 shared cores: all marked slow.
@pytest.mark.slow
# d = 1 (full shortcut) and d = 3 (an uneven partial split, also converted with float16 weights); the
# default d = 2 is converted by the int8 test below.
@pytest.mark.parametrize("divisor", [1, 3])
def test_tflite_float_round_trip_and_op_list(divisor):
    model = MobileNeXt(width=0.35, identity_divisor=divisor, classes=10, input_shape=(32, 32, 3))
    randomise(model, seed=divisor)
    x = np.random.default_rng(0).normal(size=(4, 32, 32, 3)).astype("float32")
    ref = np.asarray(model(x, training=False))
    assert np.abs(ref).max() > 0.1
    flat = convert_tflite(model, "none")
    np.testing.assert_allclose(run_tflite(flat, x), ref, rtol=0, atol=1e-4)
    ops = set(tflite_op_names(flat))
    allowed = BASE_OPS | (PARTIAL_IDENTITY_OPS if divisor > 1 else set())
    assert ops <= allowed, f"unexpected ops {sorted(ops - allowed)}"
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "FULLY_CONNECTED"} <= ops
    if divisor > 1:  # the partial shortcut is a slice + add + concat, not a full-width add
        assert ops >= PARTIAL_IDENTITY_OPS
        _check_float16_weights(model, x, ref, flat)


def _check_float16_weights(model, x, ref, flat32):
    flat16 = convert_tflite(model, "float16")
    assert len(flat16) < 0.6 * len(flat32)  # weights stored as float16
    got = run_tflite(flat16, x)
    # float16 weights: relative error of order 1e-3 on logits of order 1
    assert np.max(np.abs(got - ref)) <= 2e-2 * max(1.0, np.abs(ref).max())
    np.testing.assert_array_equal(got.argmax(-1), ref.argmax(-1))


FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                       "fixtures", "mobilenext_035_digits.weights.h5")


@pytest.fixture(scope="module")
def trained(digits_dir):
    """mobilenext_035_digits after 20 epochs (220 steps of batch 128 on the digits train split), stored in
    tests/fixtures (CI time: the training took 150 s of CPU). Written by
    `make_mobilenext_fixture()` below: `python -c "from tests.official.vision.test_mobilenext_export import
    make_mobilenext_fixture as m; m('/tmp/digits', '/tmp/mnx_run')"`."""
    cfg = _digits_config(digits_dir)
    task = build_task(cfg)
    model = task.build_model()
    model.load_weights(FIXTURE)
    return cfg, model, task


def _digits_config(digits_dir: str):
    cfg = config_lib.resolve(
        "mobilenext_035_digits",
        params_override=f"train_data.path={digits_dir}/train,eval_data.path={digits_dir}/val,trainer.epochs=20,"
        "trainer.steps_per_loop=220",
    )
    assert cfg.trainer.global_batch_size == 128
    return cfg


def make_mobilenext_fixture(digits_dir: str, model_dir: str) -> None:
    """Trains the fixture with the experiment's own recipe (cosine over 20 epochs) and writes its weights."""
    from tools.make_digits import write_digits

    write_digits(digits_dir)
    trainer.run_experiment(_digits_config(digits_dir), model_dir, mode="train")
    model, _, step = trainer.restore_for_inference(_digits_config(digits_dir), model_dir)
    assert step == 220
    model.save_weights(FIXTURE)


@pytest.mark.slow
def test_int8_agrees_with_keras_on_digits_val(trained, tmp_path):
    cfg, model, task = trained
    val_inputs = task.verification_inputs(364, 32)  # the whole digits val set (364 images)
    val_labels = task.verification_labels(364, 32)
    assert len(val_labels) == 364
    ref = np.asarray(model(val_inputs, training=False))
    keras_top1 = float(np.mean(ref.argmax(-1) == val_labels))
    assert keras_top1 >= 0.8, f"the fixture model is undertrained ({keras_top1:.3f} val top-1)"
    # The exporter's own check sees 64 images (one disagreement = 1.6 points): its bar here is 0.9; the
    # assertion that matters is the agreement over the whole val set below (the 20-epoch fixture of 5189805:
    # Keras 97.3%, 0.984 on the 64 images, 0.989 over val; the former 10-epoch one: 0.9375 and 0.959).
    export_cfg = dataclasses.replace(cfg.export, verify_examples=64, min_top1_agreement=0.9)
    path, report = export.export_tflite(model, task, str(tmp_path), "mnx", export_cfg, 32, "int8")
    assert report["top1_agreement"] >= 0.9
    assert set(report["ops"]) <= BASE_OPS | {"QUANTIZE", "DEQUANTIZE"}
    with open(path, "rb") as f:
        got = run_tflite(f.read(), val_inputs)
    agreement = float(np.mean(got.argmax(-1) == ref.argmax(-1)))
    assert agreement >= 0.95, f"int8 agrees with Keras on {agreement:.3f} of digits val"
    assert float(np.mean(got.argmax(-1) == val_labels)) >= keras_top1 - 0.05
