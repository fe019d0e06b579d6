"""DSA's channel gate: importance, the deterministic mask, Bernoulli masks with the straight-through
gradient (spec check 3), the warm-start state, and the same values under JAX (subprocess)."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from official.training.dsa import gate as gate_lib
from official.training.dsa import solver
from tests.helpers import run_jax_script


def logit(a):
    return math.log(a / (1 - a))


def conv_gate(alpha=0.5, channels=6, seed=0):
    conv = keras.layers.Conv2D(channels, 3, use_bias=False)
    conv.build((None, 8, 8, 3))
    rng = np.random.default_rng(seed)
    conv.kernel.assign(rng.normal(0, 1, conv.kernel.shape).astype("float32") * np.linspace(0.2, 2, channels))
    return conv, gate_lib.ChannelGate.for_primal(channels, conv, theta_init=logit(alpha), seed=seed)


def test_filter_l1_conv_and_depthwise():
    rng = np.random.default_rng(0)
    k = rng.normal(size=(3, 3, 4, 5)).astype("float32")
    np.testing.assert_allclose(gate_lib.filter_l1(k), np.abs(k).sum(axis=(0, 1, 2)), rtol=1e-6)
    dw = rng.normal(size=(3, 3, 4, 2)).astype("float32")  # output channel c * 2 + j is filter (c, j)
    expect = np.array([np.abs(dw[:, :, c, j]).sum() for c in range(4) for j in range(2)])
    np.testing.assert_allclose(gate_lib.filter_l1(dw, depthwise=True), expect, rtol=1e-6)
    layer = keras.layers.DepthwiseConv2D(3, depth_multiplier=2)
    layer.build((None, 8, 8, 4))
    g = gate_lib.ChannelGate.for_primal(8, layer)
    assert g.depthwise and g.importance().shape == (8,)


def test_top_k_mask_keeps_the_most_important_ties_to_lower_index():
    imp = np.array([0.5, 2.0, 0.5, 1.0, 0.5, 3.0], "float32")
    for alpha, expect in [(0.5, [0, 1, 0, 1, 0, 1]), (0.67, [1, 1, 0, 1, 0, 1]), (0.01, [0, 0, 0, 0, 0, 1]),
                          (1.0, [1] * 6)]:
        np.testing.assert_array_equal(gate_lib.top_k_mask(imp, alpha).numpy(), expect)
    rng = np.random.default_rng(1)
    for _ in range(5):
        imp = rng.integers(0, 4, 16).astype("float32")  # many ties
        alpha = float(rng.uniform(0.05, 1))
        keep = np.argsort(-imp, kind="stable")[: max(1, round(alpha * 16))]
        np.testing.assert_array_equal(np.flatnonzero(gate_lib.top_k_mask(imp, alpha).numpy()), np.sort(keep))


def test_inference_call_applies_the_top_k_mask():
    _, g = conv_gate(alpha=0.5)
    x = np.random.default_rng(2).normal(size=(2, 4, 4, 6)).astype("float32")
    out = g(x, training=False).numpy()
    np.testing.assert_array_equal(out[..., :3], 0.0)  # filters scale with linspace(0.2, 2): the last 3 kept
    np.testing.assert_array_equal(out[..., 3:], x[..., 3:])


def test_bernoulli_draws_match_p_within_three_sigma_and_pass_the_gradient():
    p = tf.constant(np.linspace(0.01, 0.99, 12).astype("float32"))
    draws = 10_000
    weights = tf.constant(np.arange(1, 13, dtype="float32"))
    with tf.GradientTape() as tape:
        tape.watch(p)
        m = gate_lib.bernoulli_ste(p, keras.random.SeedGenerator(3), shape=(draws, 12))
        loss = tf.reduce_sum(m * weights)
    m = m.numpy()
    assert set(np.unique(m)) <= {0.0, 1.0}
    sigma = np.sqrt(p.numpy() * (1 - p.numpy()) / draws)
    assert np.all(np.abs(m.mean(axis=0) - p.numpy()) <= 3 * sigma + 1e-6)
    np.testing.assert_allclose(tape.gradient(loss, p).numpy(), draws * weights.numpy(), rtol=1e-6)


def test_training_call_samples_stores_warm_start_and_trains_alpha_through_the_mask():
    _, g = conv_gate(alpha=0.4, channels=8)
    x = tf.constant(np.random.default_rng(4).normal(size=(3, 4, 4, 8)).astype("float32"))
    c = tf.constant(np.linspace(-1, 1, 8).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(g.theta.value)
        out = g(x, training=True)
        loss = tf.reduce_sum(out * c)
    ratio = out.numpy() / x.numpy()
    assert np.all(np.isclose(ratio, 0) | np.isclose(ratio, 1))
    got = tape.gradient(loss, g.theta.value)
    # the same loss through p itself (no sampling): equal gradients iff dm/dp = 1 is passed unchanged
    with tf.GradientTape() as tape:
        tape.watch(g.theta.value)
        p, x_star = g.probabilities()
        ref = tf.reduce_sum(tf.reduce_sum(x, axis=(0, 1, 2)) * c * p)
    assert abs(float(got) - float(tape.gradient(ref, g.theta.value))) < 1e-4 and float(got) != 0
    assert abs(float(g.log_beta1) - float(x_star)) < 1e-4  # the warm start holds the solve
    assert abs(float(g.p_mean) - 0.4) < 1e-3


_SCRIPT = """
import sys
import numpy as np
import jax
import keras
assert keras.backend.backend() == "jax"
from official.training.dsa import gate as gate_lib, solver
d = dict(np.load(sys.argv[1]))
g = gate_lib.ChannelGate(10, lambda: d["kernel"], theta_init=float(d["theta"]), beta2_init=float(d["beta2"]))
p, x = g.probabilities()
w = d["w"]
grad = jax.grad(lambda a: (solver.keep_probabilities(a, g.importance(), g.beta2, 0.0)[0] * w).sum())(np.float32(0.3))
np.savez(sys.argv[2], p=np.asarray(p), x=np.asarray(x), mask=np.asarray(g.inference_mask()), grad=np.asarray(grad))
"""


@pytest.mark.jax
def test_solver_and_gate_match_under_jax(tmp_path):
    rng = np.random.default_rng(5)
    kernel = rng.normal(size=(3, 3, 4, 10)).astype("float32")
    w = rng.normal(size=10).astype("float32")
    theta, beta2 = 0.3, 2.5
    got = run_jax_script(_SCRIPT, tmp_path, kernel=kernel, theta=np.float32(theta), beta2=np.float32(beta2), w=w)
    g = gate_lib.ChannelGate(10, lambda: tf.constant(kernel), theta_init=theta, beta2_init=beta2)
    p, x = g.probabilities()
    np.testing.assert_allclose(got["p"], p.numpy(), atol=1e-5)
    np.testing.assert_allclose(got["x"], x.numpy(), atol=1e-4)
    np.testing.assert_array_equal(got["mask"], g.inference_mask().numpy())
    a = tf.Variable(0.3)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(solver.keep_probabilities(a, g.importance(), g.beta2, 0.0)[0] * w)
    np.testing.assert_allclose(got["grad"], tape.gradient(loss, a).numpy(), rtol=1e-4, atol=1e-5)
