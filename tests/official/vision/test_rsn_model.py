"""RSN structure and numerics: exact parameter counts, output structure, RSB widths and wiring, PRM, backends.

Expected counts come from the spec card (the official exps/RSN18.coco and 4XRSN18.coco modules
instantiated) and, for RSN-50 and the PRM, from the official module with mmpose's RSN-50 layer counts
and the official `PRM(17)` (measured outside the repo; see official/vision/rsn/variants.py). The
Residual Steps Block is checked against a NumPy transcription of the spec's aggregation order.
"""

from __future__ import annotations

import functools
import json
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch

import official.vision.rsn  # noqa: F401  (registers the variants)
from official.core import registry
from official.core.model_table import shape_only
from official.losses.keypoint_mse import rsn_loss
from official.vision.rsn.layers import (
    branch_width,
    pose_refine_machine,
    residual_steps_block,
    stem,
    upsample_module,
)
from official.vision.rsn.model import RSN
from tests import helpers

PARAMS = {"rsn_18": 9_159_072, "rsn_18x4": 38_456_256, "rsn_50": 19_355_132}
PRM_PARAMS = 5_100  # official PRM(17): conv3x3 2,652 + three conv1x1 1,020 + depthwise 9x9 1,428 (with BNs)
BN = {"momentum": 0.9, "epsilon": 1e-5}


@functools.cache
def _cached(name, overrides):
    with shape_only():  # weights shaped, never allocated: counts and structure only
        return registry.create_model(name, **dict(overrides))


def _by_shape(name, **overrides):
    return _cached(name, tuple(sorted(overrides.items())))


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_exact_parameter_counts_and_output_shapes(name):
    model = _by_shape(name)
    assert helpers.trainable_count(model) == PARAMS[name]
    stages = 4 if name.endswith("x4") else 1
    shapes = {k: tuple(v.shape) for k, v in zip(model.output_names, model.outputs, strict=True)}
    assert shapes == {"heatmaps": (None, 64, 48, 17), "stage_heatmaps": (None, stages, 4, 64, 48, 17)}


def test_prm_parameters_and_placement():
    assert helpers.trainable_count(_by_shape("rsn_18", use_prm=True)) == PARAMS["rsn_18"] + PRM_PARAMS
    assert helpers.trainable_count(
        _by_shape("rsn_tiny", use_prm=True, prm_placement="all")
    ) == helpers.trainable_count(_by_shape("rsn_tiny")) + 2 * 4 * PRM_PARAMS
    with pytest.raises(ValueError, match="prm_placement"):
        RSN(prm_placement="everywhere")


def test_residual_steps_block_widths():
    model = _by_shape("rsn_18")
    assert branch_width(64) == 26 and branch_width(128) == 52 and branch_width(256) == 104
    conv1 = model.get_layer("s0_down_l0_b0_conv1_conv")
    assert tuple(conv1.kernel.shape) == (1, 1, 64, 104)  # b = 26 from C_in = 64
    assert tuple(model.get_layer("s0_down_l0_b0_conv2_4_4_conv").kernel.shape) == (3, 3, 26, 26)
    # First block of level 2: input 64 channels -> b = 26 (not 52 from its 128 output), stride 2.
    first = model.get_layer("s0_down_l1_b0_conv1_conv")
    assert tuple(first.kernel.shape) == (1, 1, 64, 104) and first.strides == (2, 2)
    assert tuple(model.get_layer("s0_down_l1_b0_conv3_conv").kernel.shape) == (1, 1, 104, 128)
    assert tuple(model.get_layer("s0_down_l1_b1_conv1_conv").kernel.shape) == (1, 1, 128, 208)
    assert tuple(model.get_layer("s0_down_l3_b0_conv1_conv").kernel.shape) == (1, 1, 256, 416)
    # Ten 3x3 step convs per block; shortcut convs only where the shape changes.
    assert sum(n.startswith("s0_down_l0_b0_conv2_") and n.endswith("_conv") for n in _names(model)) == 10
    assert [n for n in _names(model) if n.endswith("_down_conv")] == [
        f"s0_down_l{level}_b0_down_conv" for level in (1, 2, 3)
    ]
    assert tuple(model.get_layer("stem_conv").kernel.shape) == (7, 7, 3, 64)


def _names(model):
    return [layer.name for layer in model.layers]


# --- the Residual Steps Block against a NumPy transcription ------------------------------------


def _np_conv(x, kernel, bias, stride=1):
    """PyTorch conv2d (pad k // 2 each side), channels-last."""
    k = kernel.shape[0]
    p = k // 2
    xp = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    h = (x.shape[1] + 2 * p - k) // stride + 1
    w = (x.shape[2] + 2 * p - k) // stride + 1
    out = np.zeros((x.shape[0], h, w, kernel.shape[-1]))
    for i in range(k):
        for j in range(k):
            patch = xp[:, i : i + stride * h : stride, j : j + stride * w : stride]
            out += patch @ kernel[i, j]
    return out + bias


def _np_conv_bn(x, model, name, stride=1, relu=True):
    kernel, bias = (np.asarray(v, np.float64) for v in model.get_layer(f"{name}_conv").get_weights())
    gamma, beta, mean, var = (np.asarray(v, np.float64) for v in model.get_layer(f"{name}_bn").get_weights())
    y = (_np_conv(x, kernel, bias, stride) - mean) / np.sqrt(var + 1e-5) * gamma + beta
    return np.maximum(y, 0) if relu else y


def np_rsb(x, model, name, stride):
    """Spec card: y11=f(x1); y21=f(x2+y11), y22=f(y21); y31=f(x3+y21), y32=f(y31+y22), y33=f(y32);
    y41=f(x4+y31), y42=f(y41+y32), y43=f(y42+y33), y44=f(y43); concat(y11, y22, y33, y44)."""
    y = _np_conv_bn(x, model, f"{name}_conv1", stride)
    b = y.shape[-1] // 4
    x1, x2, x3, x4 = (y[..., i * b : (i + 1) * b] for i in range(4))

    def f(t, i, j):
        return _np_conv_bn(t, model, f"{name}_conv2_{i}_{j}")

    y11 = f(x1, 1, 1)
    y21 = f(x2 + y11, 2, 1)
    y22 = f(y21, 2, 2)
    y31 = f(x3 + y21, 3, 1)
    y32 = f(y31 + y22, 3, 2)
    y33 = f(y32, 3, 3)
    y41 = f(x4 + y31, 4, 1)
    y42 = f(y41 + y32, 4, 2)
    y43 = f(y42 + y33, 4, 3)
    y44 = f(y43, 4, 4)
    out = _np_conv_bn(np.concatenate([y11, y22, y33, y44], -1), model, f"{name}_conv3", relu=False)
    shortcut = x if stride == 1 else _np_conv_bn(x, model, f"{name}_down", stride, relu=False)
    return np.maximum(out + shortcut, 0)


@pytest.mark.parametrize("stride", [1, 2])
def test_residual_steps_block_matches_numpy(stride):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((7, 6, 16))
    filters = 16 if stride == 1 else 24
    block = keras.Model(inputs, residual_steps_block(inputs, filters, stride, "rsb", BN))
    helpers.randomise_weights(block, seed=stride)
    x = np.random.default_rng(stride).normal(size=(2, 7, 6, 16)).astype(np.float32)
    got = np.asarray(block(x, training=False))
    assert got.shape == (2, 7 if stride == 1 else 4, 6 if stride == 1 else 3, filters)
    np.testing.assert_allclose(got, np_rsb(x.astype(np.float64), block, "rsb", stride), atol=1e-4)


def test_stem_matches_numpy():
    """conv7x7/2 pad 3 + BN + ReLU, maxpool 3x3/2 pad 1 (-inf padding), PyTorch's symmetric padding."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 12, 3))
    top = keras.Model(inputs, stem(inputs, 8, BN))
    helpers.randomise_weights(top, seed=5)
    x = np.random.default_rng(5).normal(size=(2, 16, 12, 3))
    y = _np_conv_bn(x, top, "stem", stride=2)
    padded = np.pad(y, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=-np.inf)
    pooled = np.max([padded[:, i : i + 8 : 2, j : j + 6 : 2] for i in range(3) for j in range(3)], axis=0)
    np.testing.assert_allclose(np.asarray(top(x.astype(np.float32), training=False)), pooled, atol=1e-4)


def _torch_resize(x, size):
    """F.interpolate(bilinear, align_corners=True), the official code's resize, channels-last float64."""
    t = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    out = torch.nn.functional.interpolate(t, size=size, mode="bilinear", align_corners=True)
    return out.numpy().transpose(0, 2, 3, 1)


def np_upsample(features, model, name="up", out_size=(8, 6)):
    """Spec card upsample module, coarse -> fine: out = ReLU(BN(conv1x1(level)) [+ BN(conv1x1(resize(prev)))]);
    heatmap = resize(BN(conv3x3(ReLU(BN(conv1x1(out)))))); skip1 = cbr(level), skip2 = cbr(out);
    cross = cbr(finest out)."""
    heatmaps, skip1, skip2, out = [], [], [], None
    for u, x in enumerate(reversed(features)):
        unit = f"{name}_u{u}"
        y = _np_conv_bn(x, model, f"{unit}_lateral", relu=False)
        if u > 0:
            y = y + _np_conv_bn(_torch_resize(out, x.shape[1:3]), model, f"{unit}_up", relu=False)
        out = np.maximum(y, 0)
        head = _np_conv_bn(_np_conv_bn(out, model, f"{unit}_res1"), model, f"{unit}_res2", relu=False)
        heatmaps.append(_torch_resize(head, out_size))
        skip1.insert(0, _np_conv_bn(x, model, f"{unit}_skip1"))
        skip2.insert(0, _np_conv_bn(out, model, f"{unit}_skip2"))
    return heatmaps, skip1, skip2, _np_conv_bn(out, model, f"{name}_cross")


def test_upsample_module_matches_numpy():
    keras.utils.set_random_seed(0)
    shapes = [(8, 6, 8), (4, 3, 12), (2, 2, 16)]  # fine -> coarse levels (3 here; the code has 4)
    inputs = [keras.Input(shape) for shape in shapes]
    heatmaps, skip1, skip2, cross = upsample_module(inputs, 12, 5, (8, 6), "up", BN, gen_skip=True, cross_channels=8)
    module = keras.Model(inputs, [heatmaps, skip1, skip2, cross])
    helpers.randomise_weights(module, seed=4)
    rng = np.random.default_rng(4)
    x = [rng.normal(size=(2, *shape)).astype(np.float32) for shape in shapes]
    got = keras.tree.flatten(module(x, training=False))
    expected = keras.tree.flatten(np_upsample([t.astype(np.float64) for t in x], module))
    helpers.assert_outputs_close([np.asarray(g) for g in got], expected, 1e-4, "upsample module")


def _sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


def np_prm(x, model, name="prm"):
    """Spec card / official PRM: x' = conv3x3+BN+ReLU(x); a_c = sigmoid(cbr1x1(cbr1x1(GAP(x'))));
    a_s = sigmoid(BN+ReLU(depthwise9x9(cbr1x1(x')))); x' * (1 + a_c * a_s)."""
    x1 = _np_conv_bn(x, model, f"{name}_conv1")
    a_c = _np_conv_bn(x1.mean(axis=(1, 2), keepdims=True), model, f"{name}_channel1")
    a_c = _sigmoid(_np_conv_bn(a_c, model, f"{name}_channel2"))
    a_s = _np_conv_bn(x1, model, f"{name}_spatial1")
    kernel, bias = (np.asarray(v, np.float64) for v in model.get_layer(f"{name}_spatial2_conv").get_weights())
    padded = np.pad(a_s, ((0, 0), (4, 4), (4, 4), (0, 0)))
    h, w = a_s.shape[1:3]
    depthwise = sum(padded[:, i : i + h, j : j + w] * kernel[i, j, :, 0] for i in range(9) for j in range(9)) + bias
    gamma, beta, mean, var = (np.asarray(v, np.float64) for v in model.get_layer(f"{name}_spatial2_bn").get_weights())
    a_s = _sigmoid(np.maximum((depthwise - mean) / np.sqrt(var + 1e-5) * gamma + beta, 0))
    return x1 * (1 + a_c * a_s)


def test_pose_refine_machine_matches_numpy():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((10, 8, 5))
    prm = keras.Model(inputs, pose_refine_machine(inputs, "prm", BN))
    helpers.randomise_weights(prm, seed=3)
    x = np.random.default_rng(3).normal(size=(2, 10, 8, 5)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(prm(x, training=False)), np_prm(x.astype(np.float64), prm), atol=1e-4)


# --- the tiny variant: wiring, round trips, JAX, XLA --------------------------------------------


def test_tiny_wiring():
    model = _by_shape("rsn_tiny")
    # Stage 1's input is stage 0's 256 -> 64 ("cross") conv of its finest upsample output, not the stem.
    assert model.get_layer("s1_down_l0_b0_conv1_conv").input is model.get_layer("s0_up_cross_relu").output
    # Cross-stage aggregation: level l of stage 1 adds skip1 (of stage 0's level feature) and skip2
    # (of stage 0's upsample output) of the same level; the upsample unit u of level l is u = 3 - l.
    for level in range(4):
        add = model.get_layer(f"s1_down_l{level}_skips")
        sources = {t._keras_history.operation.name for t in add.input}
        assert sources == {f"s1_down_l{level}_b0_relu", f"s0_up_u{3 - level}_skip1_relu", f"s0_up_u{3 - level}_skip2_relu"}
        unit = f"s0_up_u{3 - level}"
        # skip1 convs stage 0's level feature, skip2 the unit's output (after the sum and ReLU).
        assert model.get_layer(f"{unit}_skip1_conv").input is model.get_layer(f"s0_down_l{level}_b0_relu").output
        assert model.get_layer(f"{unit}_skip2_conv").input is model.get_layer(f"{unit}_relu").output
    assert not [n for n in _names(model) if n.startswith("s1_up") and ("skip" in n or "cross" in n)]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """rsn_tiny with the PRM (every piece of the graph), randomised, after the shared model kit's checks:
    forward, exact output shapes, get_config / from_config and .keras round trips on the same weights."""
    return helpers.run_model_test(
        "rsn_tiny",
        tmp_path_factory.mktemp("rsn_tiny"),
        overrides=dict(use_prm=True),
        expected_output_shapes=[(2, 16, 12, 17), (2, 2, 4, 16, 12, 17)],  # flattened: heatmaps, stage_heatmaps
        saved_model=False,  # export is the experiment's test (tools.export verifies it numerically)
    )


def test_tiny_round_trips_and_outputs(tiny):
    x = helpers.random_inputs(tiny)
    out = tiny(x, training=False)
    np.testing.assert_array_equal(np.asarray(out["stage_heatmaps"])[:, -1, -1], np.asarray(out["heatmaps"]))
    single = tiny.inference_model()
    np.testing.assert_array_equal(np.asarray(single(x, training=False)), np.asarray(out["heatmaps"]))
    # The PRM refines only the final prediction: the other levels are the plain heads' resized maps.
    assert [layer.name for layer in tiny.layers if layer.name.endswith("_prm_out")] == ["s1_u3_prm_out"]


# helpers.check_jax_parity builds the model eagerly under JAX: ~300 initialisers and ~1,000 ops each
# compiled on first use (~20 s on 2 cores for rsn_tiny). Same check, faster: weights shaped without
# values (shape_only), filled from the TF model's file, one jitted forward (~6 s).
_JAX_SCRIPT = """
import json, sys
import jax
import keras
import numpy as np
from official.core.model_table import shape_only
from official.vision.rsn.model import RSN
assert keras.backend.backend() == "jax", keras.backend.backend()
with shape_only():
    model = RSN.from_config(json.load(open(sys.argv[1])))
model.load_weights(sys.argv[2])
outputs = jax.jit(lambda x: model(x, training=False))(np.load(sys.argv[3]))
np.savez(sys.argv[4], *[np.asarray(o) for o in keras.tree.flatten(outputs)])
assert "tensorflow" not in sys.modules, "the RSN modules imported tensorflow"
"""


@pytest.mark.jax
def test_tiny_jax_parity(tiny, tmp_path):
    model = tiny
    x = helpers.random_inputs(model, seed=1)
    files = [str(tmp_path / n) for n in ("config.json", "model.weights.h5", "inputs.npy", "out.npz")]
    with open(files[0], "w") as f:
        json.dump(model.get_config(), f)
    model.save_weights(files[1])
    np.save(files[2], x)
    helpers.run_in_jax_worker(textwrap.dedent(_JAX_SCRIPT), files, timeout=600)
    with np.load(files[3]) as data:
        got = [data[f"arr_{i}"] for i in range(len(data.files))]
    expected = helpers.outputs_of(model, x)
    assert max(float(np.abs(e).max()) for e in expected) > 1e-2  # not a comparison of zeros
    helpers.assert_outputs_close(got, expected, 1e-4, "TF vs JAX")


@pytest.mark.slow
def test_xla_training_step():
    """One jit_compile=True step through the RSN pieces (2 stages: skips and cross conv, align-corners
    resizes, OHKM top-k). Small widths, 2 levels, 2 steps: XLA's CPU compile time grows with the op count
    (rsn_tiny's step compiles in ~100 s on 2 cores, this one in ~8 s; the PRM would add ~5 s)."""
    keras.utils.set_random_seed(1)
    model = RSN(
        num_stages=2, blocks_per_level=(1, 1), level_widths=(8, 16), stem_width=8, unit_channels=16,
        num_steps=2, input_shape=(32, 32, 3),
    )
    optimizer = keras.optimizers.SGD(1e-5)  # the loss is in 0-255 heatmap units: large gradients
    optimizer.build(model.trainable_variables)  # built inside the first call, it makes tf.function trace twice
    x = helpers.random_inputs(model)
    rng = np.random.default_rng(0)
    targets = rng.uniform(0, 255, size=(2, 3, 8, 8, 17)).astype(np.float32)  # 2 levels + 1 kernel
    valid = np.full((2, 17), 2.0, np.float32)

    @tf.function(jit_compile=True)
    def step(x, targets, valid):
        with tf.GradientTape() as tape:
            loss = rsn_loss(model(x, training=True)["stage_heatmaps"], targets, valid)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    first = float(step(x, targets, valid))
    second = float(step(x, targets, valid))
    assert np.isfinite(first) and second < first
