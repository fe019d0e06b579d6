"""RPL loss terms (spec card rpl.md, checks 2-4): the distance formula, the sign convention (distance is
the logit) and the open-space term with its radius gradient."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from official.losses.reciprocal_points import (
    open_space_loss,
    own_point_distance,
    reciprocal_distances,
    rpl_loss,
)


def _brute_distances(f, p, k, c):
    """mean_j (f_j - P_{kc, j})^2 over the feature, then the mean over the C centres of class k (rows k*C + c)."""
    d = ((f[:, None, :] - p[None, :, :]) ** 2).mean(-1)  # (B, K * C)
    return d.reshape(len(f), k, c).mean(-1)


def test_distances_equal_brute_force_mean_squared_difference_and_average_the_centres():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(5, 128)).astype("float32")
    for centers in (1, 2):
        p = (0.1 * rng.normal(size=(6 * centers, 128))).astype("float32")
        got = np.asarray(reciprocal_distances(f, p, 6, centers))
        np.testing.assert_allclose(got, _brute_distances(f.astype(np.float64), p.astype(np.float64), 6, centers),
                                   atol=1e-5)
        expanded = ((f**2).sum(1, keepdims=True) - 2 * f @ p.T + (p**2).sum(1)[None]) / 128  # Dist.py's form
        np.testing.assert_allclose(got, expanded.reshape(5, 6, centers).mean(-1), atol=1e-5)
    # centre layout is class-major: with C = 2, class 0 averages rows 0 and 1 (not rows 0 and K)
    p = np.zeros((4, 2), "float32")
    p[1] = [2.0, 0.0]
    got = np.asarray(reciprocal_distances(np.zeros((1, 2), "float32"), p, 2, 2))
    np.testing.assert_allclose(got, [[1.0, 0.0]], atol=1e-6)


def test_one_sgd_step_on_a_sample_of_class_y_increases_its_distance_and_probability():
    """The distance is the logit: training moves f away from its own reciprocal point P_y."""
    rng = np.random.default_rng(1)
    y = 2
    f = tf.Variable(rng.normal(size=(1, 128)).astype("float32"))
    p = tf.Variable((0.1 * rng.normal(size=(6, 128))).astype("float32"))
    r = tf.Variable(np.zeros((1,), "float32"))
    def true_distances():  # the mean squared difference itself, not the function under test
        return ((f.numpy()[:, None, :] - p.numpy()[None]) ** 2).mean(-1)

    before = true_distances()
    with tf.GradientTape() as tape:
        loss = rpl_loss(reciprocal_distances(f, p, 6), f, p, r, tf.constant([y]))
    keras.optimizers.SGD(0.1).apply_gradients(zip(tape.gradient(loss, [f, p, r]), [f, p, r], strict=True))
    after = true_distances()
    assert after[0, y] > before[0, y], (before[0, y], after[0, y])
    softmax = lambda d: np.exp(d - d.max()) / np.exp(d - d.max()).sum()  # noqa: E731
    assert softmax(after[0])[y] > softmax(before[0])[y]


def test_open_space_term_is_zero_at_the_radius_and_its_radius_gradient_is_minus_twice_the_mean_gap():
    rng = np.random.default_rng(2)
    p = rng.normal(size=(6, 128)).astype("float64")
    labels = np.array([0, 3, 5, 3])
    signs = rng.choice([-1.0, 1.0], size=(4, 128))  # mean(u^2) = 1, so every own distance is exactly s^2
    f = p[labels] + 0.5 * signs
    own = np.asarray(own_point_distance(f, p, labels))
    np.testing.assert_allclose(own, 0.25, rtol=1e-12)
    assert float(open_space_loss(own, np.array([0.25]))) == 0.0
    assert float(open_space_loss(own, np.array([0.3]))) > 0
    # own point = row `labels` of P, the official `centers[labels]`
    np.testing.assert_allclose(own_point_distance(f[:1], p, labels[:1]), ((f[0] - p[0]) ** 2).mean(), rtol=1e-12)

    f = p[labels] + rng.normal(size=(4, 128))  # unequal distances
    own = np.asarray(own_point_distance(f, p, labels))
    r = tf.Variable([0.7], dtype=tf.float64)
    with tf.GradientTape() as tape:
        lo = open_space_loss(tf.constant(own), r)
    np.testing.assert_allclose(float(lo), np.mean((own - 0.7) ** 2), rtol=1e-12)
    np.testing.assert_allclose(tape.gradient(lo, r).numpy(), [-2 * np.mean(own - 0.7)], rtol=1e-10)


def test_rpl_loss_is_cross_entropy_on_distances_plus_weighted_open_space_term():
    rng = np.random.default_rng(3)
    f = rng.normal(size=(3, 8)).astype("float64")
    p = rng.normal(size=(4, 8)).astype("float64")
    labels, r, temp = np.array([1, 0, 3]), np.array([0.4]), 2.0
    d = _brute_distances(f, p, 4, 1)
    z = d / temp
    ce = np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(3), labels])
    lo = np.mean((((f - p[labels]) ** 2).mean(1) - 0.4) ** 2)
    got = float(rpl_loss(tf.constant(d), f, p, r, labels, temp=temp, weight_pl=0.1))
    np.testing.assert_allclose(got, ce + 0.1 * lo, rtol=1e-10)
