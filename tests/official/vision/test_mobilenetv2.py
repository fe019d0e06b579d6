"""MobileNetV2: parameter counts equal keras.applications', BN momentum 0.9, shared model checks."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from official.core import registry
from tests import helpers


@pytest.mark.parametrize("name,alpha", [("mobilenetv2_100", 1.0), ("mobilenetv2_035", 0.35)])
def test_parameter_count_equals_keras_applications(name, alpha):
    ours = registry.create_model(name, classes=1000)
    reference = keras.applications.MobileNetV2(alpha=alpha, weights=None, input_shape=(224, 224, 3), classes=1000)
    assert ours.count_params() == reference.count_params()
    if alpha == 1.0:
        assert ours.count_params() == 3_538_984
    # same layer widths in the same order, trainable and BN statistics alike
    assert sorted(tuple(w.shape) for w in ours.weights) == sorted(tuple(w.shape) for w in reference.weights)


def test_batchnorm_momentum_is_pytorch_like():
    model = registry.create_model("mobilenetv2_035", classes=10)
    momenta = {layer.momentum for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)}
    assert momenta == {0.9}


@pytest.mark.jax
def test_model_kit_and_jax_parity(tmp_path):
    reference = keras.applications.MobileNetV2(alpha=0.35, weights=None, input_shape=(32, 32, 3), classes=10)
    helpers.run_model_test(
        "mobilenetv2_035",
        tmp_path,
        overrides=dict(classes=10, input_shape=(32, 32, 3)),
        expected_trainable=helpers.trainable_count(reference),
        expected_output_shapes=[(2, 10)],
        jax=True,
    )


def test_first_and_last_blocks_follow_table_2():
    model = registry.create_model("mobilenetv2_100", classes=1000)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)
             and not isinstance(layer, keras.layers.DepthwiseConv2D)]
    # stem 32 channels stride 2, 17 bottlenecks, final 1x1 conv to 1280
    assert convs[0].filters == 32 and convs[0].strides == (2, 2)
    assert convs[-1].filters == 1280
    adds = [layer for layer in model.layers if isinstance(layer, keras.layers.Add)]
    assert len(adds) == 10  # residual blocks of Table 2: 1 + 2 + 3 + 2 + 2
    logits = np.asarray(model(np.zeros((1, 224, 224, 3), np.float32), training=False))
    assert logits.shape == (1, 1000)
