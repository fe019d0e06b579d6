"""PointMixup's interpolation (spec card pointmixup.md checks 1-5): endpoints, the EMD shortest-path identities
with the exact (scipy Hungarian) assignment, invariance to point order, linearity in lambda, the auction's cost
against linear_sum_assignment, soft labels and mixrates, manifold feature mixing and symmetry alignment."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from official.training.pointmixup import interpolation as pm


def _exact(a, b):
    """(B, N) Hungarian assignment with Euclidean cost (a[i] -> b[perm[i]]) and the EMD sums."""
    perms, costs = [], []
    for x, y in zip(a, b, strict=True):
        c = cdist(x, y)
        rows, cols = linear_sum_assignment(c)
        perms.append(cols[np.argsort(rows)])
        costs.append(c[rows, cols].sum())
    return np.stack(perms).astype(np.int32), np.asarray(costs)


def _emd(a, b):
    return _exact(a, b)[1]


def _clouds(n=256, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(2, n, 3)).astype(np.float64), rng.normal(size=(2, n, 3)).astype(np.float64) + 0.5


def _mix_with_partner(s1, s2, rate, assignment):
    """pointmixup on the batch [s1, s2] with partner perm [1, 0] and a given assignment: row 0 = S_rate."""
    xyz = np.stack([s1, s2]).astype(np.float32)
    rates = np.asarray([rate, rate], np.float32)
    out, _, used = pm.pointmixup(xyz, None, np.array([1, 0], np.int32), rates, assignment=assignment)
    return np.asarray(out)[0].astype(np.float64), np.asarray(used)[0]


@pytest.fixture(scope="module")
def auction():
    """One graph call of pointmixup with the auction (eagerly its 300 rounds of small ops take a minute) on
    pairs (S1, S2) at rate 0 and 1, (S1, S2) at 0.3, and the same clouds with shuffled points at 0.3."""
    s1, s2 = (c[0].astype(np.float32) for c in _clouds(96, 1))
    rng = np.random.default_rng(4)
    p1, p2 = rng.permutation(96), rng.permutation(96)
    xyz = np.stack([s1, s2, s1, s2, s1, s2, s1[p1], s2[p2]])
    perm = np.array([1, 0, 3, 2, 5, 4, 7, 6], np.int32)
    rates = np.array([0.0, 0.5, 1.0, 0.5, 0.3, 0.3, 0.3, 0.3], np.float32)
    out, _, used = tf.function(lambda x, p, r: pm.pointmixup(x, None, p, r))(xyz, perm, rates)
    return {"s1": s1, "s2": s2, "p1": p1, "out": out.numpy(), "used": used.numpy()}


def test_endpoints_with_the_auction_assignment(auction):
    np.testing.assert_array_equal(auction["out"][0], auction["s1"])  # lambda = 0: S1 itself
    assert sorted(auction["used"][2].tolist()) == list(range(96))  # a bijection
    d = cdist(auction["out"][2], auction["s2"])
    assert d.min(0).max() < 1e-6 and d.min(1).max() < 1e-6  # lambda = 1: S2 up to order (Chamfer 0)


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_shortest_path_identities_with_the_exact_assignment(rate):
    s1, s2 = _clouds(256, 2)
    perm, _ = _exact(s1[:1], s2[:1])
    mixed, _ = _mix_with_partner(s1[0], s2[0], rate, assignment=np.stack([perm[0], perm[0]]))
    total = _emd(s1[:1], s2[:1])[0]
    np.testing.assert_allclose(_emd(s1[:1], mixed[None])[0], rate * total, rtol=1e-5)
    np.testing.assert_allclose(_emd(mixed[None], s2[:1])[0], (1 - rate) * total, rtol=1e-5)


def test_invariant_to_the_point_order_of_either_set(auction):
    s1, s2 = _clouds(128, 3)
    rng = np.random.default_rng(4)
    base = _mix_with_partner(s1[0], s2[0], 0.3, np.stack([_exact(s1[:1], s2[:1])[0][0]] * 2))[0]
    p1, p2 = rng.permutation(128), rng.permutation(128)
    a, b = s1[0][p1], s2[0][p2]
    moved = _mix_with_partner(a, b, 0.3, np.stack([_exact(a[None], b[None])[0][0]] * 2))[0]
    np.testing.assert_allclose(moved, base[p1], atol=1e-6)  # the same set, rows in S1's new order
    # with the auction: the same set up to its optimality gap (a few points matched differently)
    base, moved = auction["out"][4], auction["out"][6][np.argsort(auction["p1"])]
    def chamfer(x, y):
        d = cdist(x, y)
        return d.min(0).mean() + d.min(1).mean()

    # the two interpolants are far closer to each other than either is to the next rate's (0.5) interpolant
    assert chamfer(base, moved) < 0.25 * chamfer(base, auction["out"][1]), (chamfer(base, moved), chamfer(base, auction["out"][1]))


def test_linear_in_lambda():
    s1, s2 = _clouds(64, 5)
    assignment = np.stack([_exact(s1[:1], s2[:1])[0][0]] * 2)
    ends = [_mix_with_partner(s1[0], s2[0], r, assignment)[0] for r in (0.0, 1.0)]
    for r in (0.1, 0.35, 0.5):
        np.testing.assert_allclose(_mix_with_partner(s1[0], s2[0], r, assignment)[0], (1 - r) * ends[0] + r * ends[1],
                                   atol=1e-5)


def test_features_follow_the_points_assignment_and_rate():
    rng = np.random.default_rng(7)
    xyz = rng.normal(size=(3, 16, 3)).astype(np.float32)
    feats = rng.normal(size=(3, 16, 5)).astype(np.float32)
    perm, rate = np.array([2, 0, 1], np.int32), np.array([0.1, 0.3, 0.5], np.float32)
    assignment = np.stack([_exact(xyz[b:b + 1], xyz[perm[b]][None])[0][0] for b in range(3)])
    mixed_xyz, mixed_feats, used = (np.asarray(t) for t in pm.pointmixup(xyz, feats, perm, rate, assignment=assignment))
    for b in range(3):
        partner = perm[b]
        np.testing.assert_allclose(mixed_feats[b], (1 - rate[b]) * feats[b] + rate[b] * feats[partner][used[b]], atol=1e-6)
        np.testing.assert_allclose(mixed_xyz[b], (1 - rate[b]) * xyz[b] + rate[b] * xyz[partner][used[b]], atol=1e-6)


def test_soft_labels_and_mixrates():
    labels = np.array([0, 1, 2, 1])
    perm = np.array([1, 3, 0, 2], np.int32)
    rate = np.array([0.2, 0.4, 0.1, 0.3], np.float32)
    y = np.asarray(pm.mixed_labels(labels, perm, rate, 3))
    np.testing.assert_allclose(y.sum(-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(y[0], [0.8, 0.2, 0.0], atol=1e-6)  # major keeps 1 - rate
    np.testing.assert_allclose(y[1], [0.0, 1.0, 0.0])  # same class (1 and 1): one-hot
    np.testing.assert_allclose(y[3], [0.0, 0.7, 0.3], atol=1e-6)
    seed = keras.random.SeedGenerator(0)
    for alpha in (0.4, 1.5):
        r = np.asarray(pm.mixrates(alpha, 10_000, seed))
        assert r.min() >= 0.0 and r.max() <= 0.5
        # 0.5 - |B - 0.5| of Beta(a, a) is the folded Beta: P(r <= t) = 2 F(t)
        assert stats.kstest(r, lambda t, a=alpha: 2 * stats.beta(a, a).cdf(t)).pvalue > 1e-3
    perm = np.asarray(pm.batch_permutation(16, seed))
    assert sorted(perm.tolist()) == list(range(16))
    ce = np.asarray(pm.soft_cross_entropy(y, np.log(np.maximum(y, 1e-12))))
    np.testing.assert_allclose(ce, -(y * np.log(np.maximum(y, 1e-12))).sum(-1), atol=1e-5)  # = entropy at p = y


def test_symmetry_angle_and_alignment_rotation():
    rng = np.random.default_rng(8)
    half = rng.normal(size=(64, 3)).astype(np.float32)
    theta = 20 * math.pi / 60
    reflect = np.asarray(pm.y_reflections(np.float32(theta)))
    cloud = np.concatenate([half, half @ reflect])  # symmetric about the plane at theta
    rot = np.asarray(pm.y_rotations(np.float32(0.7)))
    other = cloud @ rot  # the same shape turned about y: its plane moves
    angles = np.asarray(pm.symmetry_angles(np.stack([cloud, other])))
    assert angles[0] == pytest.approx(theta, abs=1e-6)
    np.testing.assert_allclose(reflect @ reflect, np.eye(3), atol=1e-6)  # a reflection
    np.testing.assert_allclose(np.linalg.det(rot), 1.0, atol=1e-6)
    # the partner turned by -(theta_partner - theta_self) has its plane where the first one has it
    aligned = np.asarray(pm.aligned_partner(np.stack([cloud, other]), np.stack([other, cloud]), np.array([1, 0])))
    again = np.asarray(pm.symmetry_angles(aligned[:1]))
    assert again[0] == pytest.approx(theta, abs=2 * math.pi / 60 + 1e-6)
