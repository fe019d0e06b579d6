"""MobileNeXt structure: exact parameter counts, block kinds, strides, pyramid outputs, block math.

Expected numbers come from the spec card (counts obtained by instantiating the official PyTorch code)
and from a NumPy re-implementation of the sandglass block, never from the model itself.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from official.core import registry
from official.vision.mobilenext.model import MobileNeXt, SandglassBlock, block_plan
from tests import helpers

# Spec card, "params of official code" column (trainable weights incl. BN gamma/beta and the classifier).
PARAMS = {
    "mobilenext_140": 6_126_168,
    "mobilenext_100": 3_535_416,
    "mobilenext_075": 2_766_168,
    "mobilenext_050": 2_152_304,
    "mobilenext_035": 1_913_976,
}


trainable_count = helpers.trainable_count


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_exact_parameter_count(name):
    model = registry.create_model(name)
    assert trainable_count(model) == PARAMS[name]
    assert model.output.shape == (None, 1000)


def test_width_100_structure():
    model = registry.create_model("mobilenext_100")
    bn_affine = sum(
        int(np.prod(v.shape))
        for layer in model._flatten_layers()
        if isinstance(layer, keras.layers.BatchNormalization)
        for v in layer.trainable_weights
    )
    assert bn_affine == 53_024
    dense = model.get_layer("logits")
    assert dense.kernel.shape == (1280, 1000)
    blocks = model.blocks
    assert len(blocks) == 20
    assert sum(b.residual for b in blocks) == 12
    assert [i for i, b in enumerate(blocks) if b.strides == 2] == [0, 2, 5, 12]
    assert model.get_layer("stem_conv").strides == (2, 2)
    # Transition blocks: no leading depthwise (2, 5, 8, 12, 16); stride-1 ones lose both depthwise (8, 16).
    assert [i for i, b in enumerate(blocks) if not b.first_depthwise] == [2, 5, 8, 12, 16]
    assert [i for i, b in enumerate(blocks) if not b.last_depthwise] == [8, 16]
    assert [i for i, b in enumerate(blocks) if b.first_depthwise and not b.residual] == [0, 1, 19]
    # Hidden widths of each stage's first block (spec card stage table, width 1.0).
    firsts = [0, 1, 2, 5, 8, 12, 16, 19]
    assert [blocks[i].hidden_filters for i in firsts] == [16, 32, 32, 48, 64, 96, 160, 208]
    assert [blocks[i].filters for i in firsts] == [96, 144, 192, 288, 384, 576, 960, 1280]


def test_features_and_pyramid_shapes():
    model = MobileNeXt(width=1.0, include_top=False)
    assert model.output.shape == (None, 7, 7, 1280)
    pyramid = model.feature_pyramid()
    out = pyramid(np.zeros((1, 224, 224, 3), "float32"))
    shapes = {k: tuple(v.shape) for k, v in out.items()}
    assert shapes == {
        "P2": (1, 56, 56, 144),
        "P3": (1, 28, 28, 192),
        "P4": (1, 14, 14, 384),
        "P5": (1, 7, 7, 1280),
    }
    pooled = MobileNeXt(width=0.35, include_top=False, pooling="avg", input_shape=(64, 64, 3))
    assert pooled.output.shape == (None, 1280)


def test_width_rules_below_one():
    plans = block_plan(0.35)
    assert [p.filters for p in plans][:2] == [32, 48]  # make_divisible(96 * 0.35, 8), (144 * 0.35)
    assert plans[0].in_channels == 16  # stem make_divisible(32 * 0.35, 8)
    assert plans[-1].filters == 1280  # the last stage stays 1280 below width 1
    assert block_plan(1.4)[-1].filters == 1792


def test_identity_divisor_changes_no_parameters_but_the_output():
    x = np.random.default_rng(0).normal(size=(2, 64, 64, 3)).astype("float32")
    outputs = []
    for divisor in (1, 2, 3, 4):
        keras.utils.set_random_seed(3)
        model = MobileNeXt(width=0.35, identity_divisor=divisor, classes=10, input_shape=(64, 64, 3))
        outputs.append((trainable_count(model), np.asarray(model(x, training=True))))
    assert len({count for count, _ in outputs}) == 1
    assert not np.allclose(outputs[0][1], outputs[1][1], rtol=1e-3, atol=0)


@pytest.mark.parametrize("divisor", [1, 2, 3, 4])
def test_zero_weight_block_passes_the_identity_channels(divisor):
    block = SandglassBlock(48, 16, residual=True, identity_divisor=divisor)
    x = np.random.default_rng(1).normal(size=(2, 5, 5, 48)).astype("float32")
    block.build(x.shape)
    for v in block.weights:
        name = v.path.split("/")[-1]
        if name in ("kernel", "beta", "moving_mean"):
            v.assign(np.zeros(v.shape, "float32"))
    y = np.asarray(block(x, training=False))
    k = 48 // divisor
    np.testing.assert_array_equal(y[..., :k], x[..., :k])
    np.testing.assert_array_equal(y[..., k:], 0.0)
    if divisor == 1:
        np.testing.assert_array_equal(y, x)


# --- NumPy reference of one block (PyTorch semantics: symmetric padding, inference BatchNorm) -------


def np_depthwise(x, kernel, stride):
    """x (n, h, w, c), kernel (3, 3, c): pad 1 on every side, then stride."""
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    h = (x.shape[1] - 1) // stride + 1
    w = (x.shape[2] - 1) // stride + 1
    out = np.zeros((x.shape[0], h, w, x.shape[3]), "float64")
    for i in range(3):
        for j in range(3):
            out += xp[:, i : i + stride * h : stride, j : j + stride * w : stride, :] * kernel[i, j]
    return out


def np_bn(x, gamma, beta, mean, var, eps=1e-5):
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def bn_params(bn):
    return [np.asarray(t, "float64") for t in (bn.gamma, bn.beta, bn.moving_mean, bn.moving_variance)]


@pytest.mark.parametrize(
    "kwargs,in_shape",
    [
        (dict(filters=24, hidden_filters=8, residual=True, identity_divisor=3), (2, 6, 6, 24)),
        (dict(filters=32, hidden_filters=8, strides=2), (2, 8, 8, 16)),
        (dict(filters=32, hidden_filters=8, strides=2, first_depthwise=False), (1, 7, 7, 16)),
        (dict(filters=32, hidden_filters=8, first_depthwise=False, last_depthwise=False), (1, 5, 5, 16)),
    ],
)
def test_block_matches_numpy_reference(kwargs, in_shape):
    rng = np.random.default_rng(2)
    block = SandglassBlock(**kwargs)
    x = rng.normal(size=in_shape).astype("float32")
    block.build(x.shape)
    helpers.randomise_weights(block, seed=2)
    y = np.asarray(block(x, training=False))

    ref = x.astype("float64")
    if block.dw1 is not None:
        ref = np.clip(
            np_bn(np_depthwise(ref, np.asarray(block.dw1.kernel)[..., 0], 1), *bn_params(block.dw1_bn)), 0, 6
        )
    ref = np_bn(ref @ np.asarray(block.reduce.kernel, "float64")[0, 0], *bn_params(block.reduce_bn))
    ref = np.clip(
        np_bn(ref @ np.asarray(block.expand.kernel, "float64")[0, 0], *bn_params(block.expand_bn)), 0, 6
    )
    if block.dw2 is not None:
        ref = np_bn(
            np_depthwise(ref, np.asarray(block.dw2.kernel)[..., 0], block.strides), *bn_params(block.dw2_bn)
        )
    if block.residual:
        k = block.filters // block.identity_divisor
        ref[..., :k] += x[..., :k]
    assert y.shape == ref.shape
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)


def test_config_round_trip_and_initialisers():
    model = MobileNeXt(width=0.5, identity_divisor=2, classes=7, input_shape=(48, 48, 3), dropout=0.1)
    helpers.check_config_round_trip(model, np.ones((1, 48, 48, 3), "float32"))  # fresh weights: whole config
    bn = model.blocks[3].reduce_bn
    assert (bn.epsilon, bn.momentum) == (1e-5, 0.9)
    dense = np.asarray(model.get_layer("logits").kernel)
    assert abs(dense.std() - 0.01) < 0.001 and np.all(np.asarray(model.get_layer("logits").bias) == 0)
    # He-normal over fan-out: a 1x1 conv 1280 wide has std sqrt(2 / 1280); a depthwise 3x3 over C has sqrt(2 / 9C).
    expand = np.asarray(model.blocks[19].expand.kernel)
    assert abs(expand.std() / np.sqrt(2 / 1280) - 1) < 0.05
    dw = np.asarray(model.blocks[19].dw2.kernel)
    assert abs(dw.std() / np.sqrt(2 / (9 * 1280)) - 1) < 0.05


def test_invalid_arguments_are_named():
    with pytest.raises(ValueError, match="pooling"):
        MobileNeXt(pooling="mean")
    with pytest.raises(ValueError, match="residual"):
        SandglassBlock(16, 8, strides=2, residual=True)
    with pytest.raises(ValueError, match="identity_divisor"):
        SandglassBlock(16, 8, residual=True, identity_divisor=0)


def test_same_shaped_kernels_start_different():
    """Each layer draws its own initial weights (a shared unseeded Keras initializer would repeat them)."""
    model = MobileNeXt(width=0.35, classes=10, input_shape=(32, 32, 3))
    blocks = model.blocks
    assert blocks[17].expand.kernel.shape == blocks[18].expand.kernel.shape  # two 960-wide repeats
    for a, b in ((17, 18), (9, 10)):
        for layer in ("reduce", "expand", "dw1", "dw2"):
            ka = np.asarray(getattr(blocks[a], layer).kernel)
            kb = np.asarray(getattr(blocks[b], layer).kernel)
            assert not np.allclose(ka, kb), f"blocks {a} and {b}: identical initial {layer} kernels"
