"""Spec checks 2 (soft-argmax + pixel mapping) and 3 (multi-order streams), and the per-joint depth readout."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from research.three_d.gesture_handpose.layers import JointDepth, MultiOrderStreams, SlowPath
from research.three_d.gesture_handpose.model import SoftArgmax2D, pixel_coordinates


def test_soft_argmax_delta_gaussian_and_gradient():
    h, w = 16, 12
    delta = np.full((1, h, w, 2), -1e4, np.float32)
    delta[0, 5, 7, 0] = 0.0  # (y, x) = (5, 7)
    delta[0, 11, 2, 1] = 0.0
    xy = np.asarray(SoftArgmax2D()(delta))
    np.testing.assert_array_equal(xy[0], [[7.0, 5.0], [2.0, 11.0]])
    ys, xs = np.mgrid[0:h, 0:w]
    gauss = -((xs - 4.3) ** 2 + (ys - 8.6) ** 2) / (2 * 1.5**2)  # log-Gaussian: softmax = the Gaussian
    got = np.asarray(SoftArgmax2D()(gauss[None, :, :, None].astype(np.float32)))[0, 0]
    assert np.max(np.abs(got - [4.3, 8.6])) < 0.01
    x = tf.Variable(gauss[None, :, :, None].astype(np.float32))
    with tf.GradientTape() as tape:
        out = SoftArgmax2D()(x)[0, 0, 0]
    grad = tape.gradient(out, x).numpy()
    assert np.abs(grad).sum() > 1e-3 and grad[0, 8, 11, 0] > 0 > grad[0, 8, 0, 0]


def test_heatmap_to_input_pixels():
    """Heatmap pixel x at stride s covers input pixels [x s, x s + s): its centre is (x + 0.5) s - 0.5."""
    xy = np.array([[[0.0, 0.0], [3.0, 7.5]]], np.float32)
    import keras

    inp = keras.Input((2, 2))
    model = keras.Model(inp, pixel_coordinates(inp, 4, "px"))
    np.testing.assert_allclose(np.asarray(model(xy)), [[[1.5, 1.5], [13.5, 31.5]]])


def test_multi_order_streams_on_a_linear_trajectory():
    t, d = 8, 5
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=d), rng.normal(size=d)
    x = (a + b * np.arange(t)[:, None])[None].astype(np.float32)  # X_t = a + b t
    zero, first, second = (np.asarray(s) for s in MultiOrderStreams()(x))
    np.testing.assert_array_equal(zero, x)
    np.testing.assert_allclose(first[0, 1:], np.tile(b, (t - 1, 1)), atol=1e-5)  # constant b
    np.testing.assert_allclose(first[0, 0], 0.0, atol=1e-6)  # X_{-1} = X_0 (replicated end)
    np.testing.assert_allclose(second[0, 1:-1], 0.0, atol=1e-5)  # exactly 0 inside the clip
    np.testing.assert_allclose(second[0, 0], b, atol=1e-5)  # X_1 - 2 X_0 + X_0
    np.testing.assert_allclose(second[0, -1], -b, atol=1e-5)  # X_{T-1} - 2 X_{T-1} + X_{T-2}
    # a quadratic X_t = c t^2 has second order 2c inside the clip
    quad = (0.5 * np.arange(t) ** 2)[None, :, None].astype(np.float32)
    np.testing.assert_allclose(np.asarray(MultiOrderStreams(("second",))(quad)[0])[0, 1:-1, 0], 1.0, atol=1e-5)


def test_slow_path_and_joint_depth():
    x = np.arange(2 * 8 * 3, dtype=np.float32).reshape(2, 8, 3)
    np.testing.assert_array_equal(np.asarray(SlowPath(4)(x)), x[:, ::4])
    heat = np.full((1, 4, 4, 2), -1e4, np.float32)
    heat[0, 1, 2, 0] = 0.0
    heat[0, 3, 0, 1] = 0.0
    depth = np.random.default_rng(0).normal(size=(1, 4, 4, 2)).astype(np.float32)
    got = np.asarray(JointDepth()(heat, depth))
    np.testing.assert_allclose(got, [[depth[0, 1, 2, 0], depth[0, 3, 0, 1]]], atol=1e-6)
