"""SoftPoolNet blocks: spec card checks 1 (permutation invariance), 2 (max-pool inclusion), 5 (entropy term),
and the per-region generator weights (one weight set per region, as the code's ModuleList)."""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from research.three_d.softpoolnet.layers import PatchGrid, RegionDense, SoftPool, regional_entropy


def _features(n=64, c=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(2, n, c)).astype("float32"), rng.normal(size=(2, n, 3)).astype("float32")


def test_soft_pool_is_permutation_invariant():  # card check 1
    feats, pts = _features()
    pool = SoftPool(ranks=8)
    want = np.asarray(pool([feats, pts]))
    perm = np.random.default_rng(1).permutation(feats.shape[1])
    got = np.asarray(pool([feats[:, perm], pts[:, perm]]))
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert want.shape == (2, 8, 8, 8 + 3)


def test_soft_pool_contains_max_pool_and_sorts_descending():  # card check 2
    feats, pts = _features()
    out = np.asarray(SoftPool(ranks=8)([feats, pts]))
    for k in range(feats.shape[-1]):
        np.testing.assert_array_equal(out[:, k, 0, k], feats[:, :, k].max(axis=1))
        # region k is the 8 points of highest channel k, in descending order, xyz of the same points
        order = np.argsort(-feats[:, :, k], axis=1, kind="stable")[:, :8]
        np.testing.assert_array_equal(out[:, k, :, :8], np.take_along_axis(feats, order[..., None], 1))
        np.testing.assert_array_equal(out[:, k, :, 8:], np.take_along_axis(pts, order[..., None], 1))


def test_spread_ranks_are_evenly_spaced_rows_of_the_full_sort():
    feats, pts = _features(n=32, c=4)
    out = np.asarray(SoftPool(ranks=4, rank_sampling="spread")([feats, pts]))
    rows = np.floor(np.linspace(0, 31, 4)).astype(int)  # 0, 10, 20, 31 (pytorch/model.py idx_step)
    full = np.sort(feats[:, :, 2], axis=1)[:, ::-1]
    np.testing.assert_array_equal(out[:, 2, :, 2], full[:, rows])


def test_region_dense_applies_each_regions_own_weights():
    x = np.random.default_rng(0).normal(size=(2, 5, 3, 4)).astype("float32")  # (B, K, R, C)
    layer = RegionDense(6)
    got = np.asarray(layer(x))
    kernel, bias = (np.asarray(w) for w in layer.weights)
    for r in range(3):
        np.testing.assert_allclose(got[:, :, r], x[:, :, r] @ kernel[r] + bias[r], rtol=1e-5, atol=1e-5)


def test_patch_grid_tiles_centres_and_offsets():
    coarse = np.arange(12, dtype="float32").reshape(1, 4, 3)
    glob = np.ones((1, 5), "float32")
    out = np.asarray(PatchGrid((2, 2), 0.05)([coarse, glob]))
    assert out.shape == (1, 16, 2 + 3 + 5)
    np.testing.assert_array_equal(out[0, 4:8, 2:5], np.repeat(coarse[0, 1:2], 4, 0))  # point 1's patch
    np.testing.assert_allclose(np.unique(out[0, :, 0]), [-0.05, 0.05])


def test_regional_entropy_values_and_gradient():  # card check 5
    k = 8
    uniform = np.zeros((2, 16, k), "float32")
    assert abs(float(regional_entropy(uniform))) < 1e-6
    one_region = np.full((2, 16, k), -1e4, "float32")
    one_region[..., 3] = 1e4
    np.testing.assert_allclose(float(regional_entropy(one_region)), math.log(k), rtol=1e-5)
    # a gradient step on the logits makes region use more even (the loss falls)
    logits = tf.Variable(np.random.default_rng(0).normal(scale=2.0, size=(2, 16, k)).astype("float32"))
    with tf.GradientTape() as tape:
        before = regional_entropy(logits)
    logits.assign_sub(50.0 * tape.gradient(before, logits))  # d/dlogit ~ 1/points: a long step
    assert float(regional_entropy(logits)) < 0.7 * float(before)


def test_soft_pool_gradient_reaches_the_gathered_values():
    feats, pts = _features(n=16, c=4)
    x = tf.Variable(feats)
    with tf.GradientTape() as tape:
        y = ops.sum(SoftPool(ranks=2)([x, pts])[..., :4])
    grad = np.asarray(tape.gradient(y, x))
    assert grad[0].sum() > 0 and (grad[0] == 0).any()  # kept rows get gradient, the rest none
    keras.backend.clear_session()
