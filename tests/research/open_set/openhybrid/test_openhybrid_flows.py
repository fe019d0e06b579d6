"""The coupling flow of OpenHybrid against the spec card's checks 1-3 (openhybrid.md, "Checks we can run here"):
1. invertibility F^-1(F(z)) = z on 8-d and 128x4x4 inputs;
2. exact log-det == log|det| of the brute-force Jacobian (tf.GradientTape.jacobian + slogdet) on 8-d input;
3. an identity-initialised flow gives log p(z) == scipy's N(0, I) logpdf."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from scipy.stats import multivariate_normal

from research.open_set.openhybrid.flows import CouplingFlow


def _random_flow(channels: int, spatial: int, steps: int = 3, hidden: int = 16, seed: int = 0) -> CouplingFlow:
    """A flow with every weight random (the zero-initialised last convs and ActNorm included)."""
    flow = CouplingFlow(steps=steps, hidden=hidden, seed=seed)
    flow.build((None, spatial, spatial, channels))
    rng = np.random.default_rng(seed)
    for v in flow.weights:
        scale = 0.3 if len(v.shape) < 2 else 0.5 / np.sqrt(np.prod(v.shape[:-1]))
        v.assign(rng.normal(0.0, scale, v.shape).astype("float32"))
    return flow


@pytest.mark.parametrize("channels, spatial", [(8, 1), (128, 4)])
def test_inverse_undoes_forward(channels, spatial):
    flow = _random_flow(channels, spatial)
    z = np.random.default_rng(1).normal(size=(4, spatial, spatial, channels)).astype("float32")
    u, _ = flow.forward(z)
    assert np.max(np.abs(np.asarray(u) - z)) > 0.1, "the random flow is not the identity: the check means something"
    np.testing.assert_allclose(np.asarray(flow.inverse(u)), z, atol=1e-5)


@pytest.mark.parametrize("shape", [(1, 1, 8), (2, 2, 2)])  # 8-d: a vector, and a map (spatial convs, ActNorm x H W)
def test_log_det_equals_brute_force_jacobian(shape):
    flow = _random_flow(shape[-1], shape[0], steps=4)
    z = tf.constant(np.random.default_rng(2).normal(size=(3, *shape)).astype("float32"))
    _, logdet = flow.forward(z)
    flat = tf.reshape(z, (3, 8))
    with tf.GradientTape() as tape:
        tape.watch(flat)
        u = tf.reshape(flow.forward(tf.reshape(flat, (3, *shape)))[0], (3, 8))
    jacobians = tape.batch_jacobian(u, flat).numpy().astype(np.float64)  # the flow acts on each example alone
    for i in range(3):
        sign, brute = np.linalg.slogdet(jacobians[i])
        assert sign != 0
        assert abs(float(logdet[i]) - brute) < 1e-4, (float(logdet[i]), brute)
        assert abs(brute) > 0.1, "a log-det near 0 would not catch a sign error"


def test_identity_initialised_flow_is_the_standard_normal():
    flow = CouplingFlow(steps=2, hidden=8)
    z = np.random.default_rng(3).normal(size=(5, 2, 2, 6)).astype("float32")
    got = np.asarray(flow(z))
    want = multivariate_normal(np.zeros(24), np.eye(24)).logpdf(z.reshape(5, 24))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-4)
    u, logdet = flow.forward(z)
    # u is z with its channels shuffled (the permutations are the only non-identity part at init)
    np.testing.assert_allclose(np.sort(np.asarray(u), axis=-1), np.sort(z, axis=-1), atol=1e-6)
    np.testing.assert_allclose(np.asarray(logdet), 0.0, atol=1e-6)
