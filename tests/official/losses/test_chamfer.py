"""Chamfer distance against scipy cKDTree and pykdtree nearest neighbours; zero on identical sets; the
chunked path equals the one-block path; gradients equal the analytic subgradient of the min; XLA."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from pykdtree.kdtree import KDTree
from scipy.spatial import cKDTree

from official.losses import chamfer


def _clouds(seed=0, b=2, n=96, m=80):
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.5, 0.5, (b, n, 3)).astype(np.float32), rng.uniform(-0.5, 0.5, (b, m, 3)).astype(np.float32)


def _ckdtree_nearest(x, y):
    """(squared distance, index) of each x to its nearest y, by scipy cKDTree in float64."""
    d, i = cKDTree(y.astype(np.float64)).query(x.astype(np.float64))
    return d**2, i


def test_nearest_sq_distances_equal_ckdtree_and_pykdtree():
    a, b = _clouds()
    d_ab, d_ba = (keras.ops.convert_to_numpy(t) for t in chamfer.nearest_sq_distances(a, b))
    for k in range(a.shape[0]):
        ref_ab, _ = _ckdtree_nearest(a[k], b[k])
        ref_ba, _ = _ckdtree_nearest(b[k], a[k])
        np.testing.assert_allclose(d_ab[k], ref_ab, atol=1e-6)
        np.testing.assert_allclose(d_ba[k], ref_ba, atol=1e-6)
        pyk_ab, _ = KDTree(b[k].astype(np.float64)).query(a[k].astype(np.float64), k=1)
        np.testing.assert_allclose(d_ab[k], pyk_ab**2, atol=1e-6)


@pytest.mark.parametrize("squared", [True, False])
def test_chamfer_equals_reference_both_conventions(squared):
    a, b = _clouds(1)
    got = keras.ops.convert_to_numpy(chamfer.chamfer_distance(a, b, squared=squared))
    for k in range(a.shape[0]):
        ab, _ = _ckdtree_nearest(a[k], b[k])
        ba, _ = _ckdtree_nearest(b[k], a[k])
        if not squared:
            ab, ba = np.sqrt(ab), np.sqrt(ba)
        np.testing.assert_allclose(got[k], ab.mean() + ba.mean(), rtol=1e-5)
    # asymmetric sizes and a hand case: a = {0}, b = {0, (1,0,0)} -> mean_a 0 + mean_b (0 + 1)/2
    hand = chamfer.chamfer_distance(np.zeros((1, 1, 3), np.float32), np.array([[[0, 0, 0], [1, 0, 0]]], np.float32))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(hand), [0.5], atol=1e-7)


def test_identical_sets_zero_and_finite_gradient():
    a, _ = _clouds(2)
    perm = a[:, ::-1].copy()  # same set, other order
    for squared in (True, False):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(chamfer.chamfer_distance(a, perm, squared)), 0.0)
    import tensorflow as tf

    x = tf.constant(a)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(chamfer.chamfer_distance(x, tf.constant(perm), squared=False))
    grad = tape.gradient(loss, x).numpy()
    assert np.isfinite(grad).all() and np.abs(grad).max() == 0.0


def test_chunked_equals_one_block_and_loss_class():
    a, b = _clouds(3, n=100, m=70)
    full = chamfer.nearest_sq_distances(a, b)
    parts = chamfer.nearest_sq_distances(a, b, chunk_size=32)  # 100 = 32 + 32 + 32 + 4; 70 = 32 + 32 + 6
    for x, y in zip(full, parts, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(x), keras.ops.convert_to_numpy(y))
    loss = chamfer.ChamferLoss(chunk_size=32)
    np.testing.assert_allclose(
        float(loss(b, a)), float(np.mean(keras.ops.convert_to_numpy(chamfer.chamfer_distance(a, b)))), rtol=1e-6
    )
    assert chamfer.ChamferLoss.from_config(loss.get_config()).chunk_size == 32


def test_gradient_is_subgradient_of_min_under_xla():
    import tensorflow as tf

    a, b = _clouds(4, b=1, n=40, m=30)

    @tf.function(jit_compile=True)
    def grads(x, y):
        with tf.GradientTape() as tape:
            tape.watch([x, y])
            loss = tf.reduce_sum(chamfer.chamfer_distance(x, y, chunk_size=16))
        return tape.gradient(loss, [x, y])

    ga, gb = (g.numpy()[0] for g in grads(tf.constant(a), tf.constant(b)))
    x, y = a[0].astype(np.float64), b[0].astype(np.float64)
    _, i_ab = cKDTree(y).query(x)
    _, i_ba = cKDTree(x).query(y)
    want_a = 2 * (x - y[i_ab]) / len(x)
    want_b = 2 * (y - x[i_ba]) / len(y)
    np.add.at(want_b, i_ab, -2 * (x - y[i_ab]) / len(x))
    np.add.at(want_a, i_ba, -2 * (y - x[i_ba]) / len(y))
    np.testing.assert_allclose(ga, want_a, atol=1e-5)
    np.testing.assert_allclose(gb, want_b, atol=1e-5)
