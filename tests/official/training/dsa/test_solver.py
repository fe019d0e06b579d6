"""DSA's in-graph beta1 solve and its implicit gradient (spec checks 1 and 2).

Check 1: for random importances, beta2 and alpha in [0.05, 0.95], mean p = alpha to 1e-3 and the
probabilities equal those at scipy.optimize.root_scalar's root of the same function (float64).
Check 2: d(mean p)/dalpha = 1 through the custom gradient, and each dp_i/dalpha equals the central
finite difference of re-solved probabilities to 1e-3; the importances and beta2 get no gradient.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize
import tensorflow as tf

from official.training.dsa import solver


def scipy_probabilities(b, beta2, alpha):
    """p at scipy's root of mean p(log beta1) - alpha on [-500, 500], in float64 (the official formula)."""
    log_b = np.log(b.astype(np.float64) + 1e-8)

    def p(x):
        return np.minimum(1.0 / (1.0 + np.exp(np.clip(beta2 * (x - log_b), -20, 20))) + 0.01, 1.0)

    root = scipy.optimize.root_scalar(lambda x: p(x).mean() - alpha, bracket=[-500, 500], xtol=1e-12).root
    return p(root)


def random_group(rng):
    channels = int(rng.integers(4, 64))
    b = (rng.gamma(2.0, 1.0, channels) * 10 ** rng.uniform(-3, 2)).astype("float32")
    return b, float(rng.choice([0.5, 1.0, 3.0, 10.0, 50.0]))


def test_solver_matches_scipy_root_scalar():
    rng = np.random.default_rng(0)
    solve = tf.function(solver.keep_probabilities)
    for _ in range(8):
        b, beta2 = random_group(rng)
        for alpha in (0.05, 0.3, 0.5, 0.7, 0.95):
            start = float(rng.uniform(-30, 30))  # any warm start: the bracket is always [-500, 500]
            p, _ = solve(tf.constant(alpha), tf.constant(b), tf.constant(beta2), tf.constant(start))
            p = p.numpy()
            assert abs(p.mean() - alpha) < 1e-3
            np.testing.assert_allclose(p, scipy_probabilities(b, beta2, alpha), atol=1e-3)


def test_warm_start_at_the_root_stays_there():
    rng = np.random.default_rng(1)
    b, _ = random_group(rng)
    _, x = solver.keep_probabilities(0.4, b, 2.0, 0.0)
    _, again = solver.keep_probabilities(0.4, b, 2.0, x, iterations=1)
    assert abs(float(again) - float(x)) < 1e-3


def _jacobian(alpha, b, beta2):
    a = tf.Variable(alpha)
    with tf.GradientTape() as tape:
        p, x = solver.keep_probabilities(a, tf.constant(b), tf.constant(beta2), tf.constant(0.0))
    return tape.jacobian(p, a).numpy(), x


@pytest.mark.parametrize("alpha,beta2", [(0.3, 1.0), (0.6, 4.0), (0.85, 0.7)])
def test_implicit_gradient_matches_finite_differences(alpha, beta2):
    rng = np.random.default_rng(2)
    b = rng.gamma(2.0, 1.0, 24).astype("float32")
    jac, x = _jacobian(alpha, b, beta2)
    assert abs(jac.sum() / b.size - 1.0) < 1e-5  # d(mean p)/dalpha = 1
    h = 1e-3
    plus, _ = solver.keep_probabilities(alpha + h, b, beta2, x)
    minus, _ = solver.keep_probabilities(alpha - h, b, beta2, x)
    np.testing.assert_allclose(jac, (plus.numpy() - minus.numpy()) / (2 * h), atol=1e-3)


def test_importance_and_beta2_get_no_gradient():
    b = tf.Variable(np.linspace(0.1, 2.0, 8).astype("float32"))
    beta2 = tf.Variable(1.5)
    a = tf.Variable(0.5)
    with tf.GradientTape(persistent=True) as tape:
        p, _ = solver.keep_probabilities(a, b, beta2, 0.0)
        loss = tf.reduce_sum(p * tf.range(8, dtype=tf.float32))
    for grad in tape.gradient(loss, [b, beta2]):
        assert grad is None or float(tf.reduce_max(tf.abs(grad))) == 0.0
    assert float(tape.gradient(loss, a)) != 0.0


def test_solver_and_gradient_compile_under_xla():
    b = tf.constant(np.random.default_rng(3).gamma(2.0, 1.0, 16).astype("float32"))
    weights = tf.constant(np.arange(16, dtype="float32"))

    def step(alpha):
        with tf.GradientTape() as tape:
            tape.watch(alpha)
            p, x = solver.keep_probabilities(alpha, b, 2.0, 0.0)
            loss = tf.reduce_sum(p * weights)
        return p, x, tape.gradient(loss, alpha)

    eager = step(tf.constant(0.45))
    compiled = tf.function(step, jit_compile=True)(tf.constant(0.45))
    for e, c in zip(eager, compiled, strict=True):
        np.testing.assert_allclose(e.numpy(), c.numpy(), atol=1e-5)
