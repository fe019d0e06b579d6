"""Auction EMD: a permutation within 1% of scipy's linear_sum_assignment cost (256 points; the
1,024-point figure is benchmarks/emd_accuracy.py), gradients through the matched pairs under XLA; under
JAX (subprocess; eager TensorFlow runs the loop op by op, too slow here) the same bar, the chunked
Chamfer loss against cKDTree, exact on a permuted copy; the budget's end still gives a permutation."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from official.losses import emd

_JAX_CHECKS = """
import sys, numpy as np, jax
from official.losses import chamfer, emd
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
assign = jax.jit(emd.emd_assignment)
print(' '.join(map(str, np.asarray(assign(a, b)).ravel())))
cd = jax.jit(lambda p, q: chamfer.chamfer_distance(p, q, squared=False, chunk_size=100))(a, b)
print(' '.join(repr(float(v)) for v in np.asarray(cd)))
shuffle = np.random.default_rng(2).permutation(256)
perm = np.asarray(assign(a, a[:, shuffle]))  # the same shapes: no second compile
assert all(np.array_equal(shuffle[row], np.arange(256)) for row in perm)  # a_i -> a_shuffle(perm(i)) = a_i
assert float(np.abs(emd.earth_movers_distance(a, a[:, shuffle], assignment=perm)).max()) == 0.0
assert 'tensorflow' not in sys.modules
"""


def _cost(x, y, perm):
    return np.linalg.norm(x.astype(np.float64) - y[perm].astype(np.float64), axis=-1).mean()


def _optimal(x, y):
    c = np.linalg.norm(x[:, None].astype(np.float64) - y[None].astype(np.float64), axis=-1)
    rows, cols = linear_sum_assignment(c)
    return c[rows, cols].mean()


@tf.function(jit_compile=True)
def _assign_and_grad(x, y):
    perm = emd.emd_assignment(x, y)
    with tf.GradientTape() as tape:
        tape.watch([x, y])
        dist = emd.earth_movers_distance(x, y, assignment=perm)  # one auction in the compiled graph
        total = tf.reduce_sum(dist)
    return perm, dist, tape.gradient(total, [x, y])


def _sets():
    rng = np.random.default_rng(0)
    return tuple(rng.uniform(-0.5, 0.5, (2, 256, 3)).astype(np.float32) for _ in range(2))


def _check_near_hungarian(a, b, perm):
    for k in range(len(a)):
        assert np.array_equal(np.sort(perm[k]), np.arange(a.shape[1]))  # a bijection
        got, best = _cost(a[k], b[k], perm[k]), _optimal(a[k], b[k])
        assert best <= got + 1e-6 and got <= 1.01 * best, (got, best)


def test_auction_near_hungarian_and_gradient_under_xla():
    a, b = _sets()
    perm, dist, (ga, gb) = _assign_and_grad(tf.constant(a), tf.constant(b))
    perm, dist, ga, gb = perm.numpy(), dist.numpy(), ga.numpy(), gb.numpy()
    assert perm.dtype == np.int32
    _check_near_hungarian(a, b, perm)
    for k in range(2):
        np.testing.assert_allclose(dist[k], _cost(a[k], b[k], perm[k]), rtol=1e-5)
        diff = a[k] - b[k][perm[k]]
        unit = diff / np.linalg.norm(diff, axis=-1, keepdims=True) / 256
        np.testing.assert_allclose(ga[k], unit, atol=1e-6)
        want_b = np.zeros_like(unit)
        want_b[perm[k]] = -unit
        np.testing.assert_allclose(gb[k], want_b, atol=1e-6)


def test_budget_end_greedy_then_rank_fill():
    # targets 1 and 3 owned by points 0 and 2; free points 1, 3 take free targets 0, 2 in index order
    owner = tf.constant([[-1, 0, -1, 2]], tf.int32)
    np.testing.assert_array_equal(emd._complete(owner).numpy(), [[1, 0, 3, 2]])
    # greedy: points x = 0, 1, 10 and targets 1.1, 0.2, 20 on a line; round 1 matches 1 -> 1.1 (beating
    # 10 -> 1.1) and 0 -> 0.2, round 2 the rest; index order alone would give [0, 1, 2]
    x, y = np.array([0.0, 1.0, 10.0]), np.array([1.1, 0.2, 20.0])
    cost = tf.constant(np.abs(x[:, None] - y[None])[None], tf.float32)
    filled = emd._greedy_fill(cost, tf.fill((1, 3), -1), tf.zeros((1, 3), tf.bool), rounds=8)
    np.testing.assert_array_equal(emd._complete(filled).numpy(), [[1, 0, 2]])
    cut = emd.emd_assignment(*(t[:, :24] for t in _sets()), iterations=1, stages=1).numpy()  # bids collide
    for row in cut:
        assert np.array_equal(np.sort(row), np.arange(24))


@pytest.mark.jax
def test_auction_under_jax(tmp_path):
    a, b = _sets()
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    from tests import helpers

    printed = helpers.run_in_jax_worker(_JAX_CHECKS, [tmp_path / "a.npy", tmp_path / "b.npy"], timeout=300)
    perm_line, chamfer_line = printed.strip().splitlines()[-2:]
    _check_near_hungarian(a, b, np.array(perm_line.split(), int).reshape(2, 256))
    for k, value in enumerate(map(float, chamfer_line.split())):  # the Chamfer loss under JAX, chunked
        want = cKDTree(b[k]).query(a[k])[0].mean() + cKDTree(a[k]).query(b[k])[0].mean()
        np.testing.assert_allclose(value, want, rtol=1e-5)
