"""UniLoss for MPII PCKh (official/losses/uniloss_pose.py): refactoring vs official/evaluation/mpii_pckh.py,
closed-form anchor distances vs explicitly built anchors, values at anchors, gradient vs finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from official.evaluation.mpii_pckh import SC_BIAS, scaled_errors
from official.losses import uniloss_pose as P

B, H, W, J = 3, 10, 10, 16


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    heat = rng.normal(0, 1, (B, H, W, J))
    joints = rng.uniform(0, W - 1, (B, J, 2))
    head = rng.uniform(3.0, 7.0, B)  # SC_BIAS x head diagonal, heatmap pixels: radius 1.5-3.5 px
    visible = rng.random((B, J)) < 0.8
    positive = np.asarray(P.pckh_positive_mask(joints, head, visible, H, W))
    return heat, joints, head, visible, positive


def test_pckh_from_sign_vector_equals_mpii_pckh_of_the_heatmap_maxima():
    heat, joints, head, visible, positive = _batch()
    d, valid, joint_ok = P.pckh_comparisons(heat, positive, max_positives=40)
    np.testing.assert_array_equal(np.asarray(joint_ok), visible)  # every visible joint has positive cells
    got = np.asarray(P.pckh_from_bits(P.hard_sign(d, valid), valid, joint_ok))
    flat = heat.transpose(0, 3, 1, 2).reshape(B, J, -1).argmax(-1)
    preds = np.stack([flat % W, flat // W], -1).astype(float)  # (x, y) of each heatmap's maximum
    heads = np.zeros((2, 2, B))
    heads[1, 0] = head / SC_BIAS  # a head box whose diagonal x SC_BIAS is `head`
    scaled, vis = scaled_errors(preds, joints.transpose(1, 2, 0), visible.T.astype(float), heads, one_based=True)
    want = np.sum((scaled <= 0.5) * vis, axis=0) / np.sum(vis, axis=0)
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert 0 < want.mean() < 1


def _explicit(draws, n_random=16):
    """Every image's anchors built in full from the draws: (K, B, J, P, HW)."""
    valid = np.asarray(draws["valid"])
    vf = valid.astype(float)
    d = np.asarray(draws["d"])
    s = np.where(valid, np.where(d > 0, 1.0, -1.0), 0.0)
    flat, first = np.asarray(draws["flat"]), np.asarray(draws["first"])
    shape = valid.shape
    anchors = [vf[None]]
    for f in range(flat.shape[0]):
        a = vf.reshape(B, J, -1).copy()
        for bi, j, t in zip(*np.nonzero(first[f]), strict=True):
            a[bi, j, flat[f, bi, j, t]] = -1.0
        anchors.append(a.reshape(shape)[None])
    anchors += [np.asarray(r)[None] for r in draws["random"][:n_random]]
    prow, ncol = np.asarray(draws["prow"]), np.asarray(draws["ncol"])
    for k in range(prow.shape[0]):
        a = s.copy()
        for bi in range(B):
            for j in range(J):
                a[bi, j, prow[k, bi, j]] = vf[bi, j, prow[k, bi, j]]
        anchors.append(a[None])
    for k in range(ncol.shape[0]):
        a = s.copy()
        for bi in range(B):
            for j in range(J):
                a[bi, j, :, ncol[k, bi, j]] = -vf[bi, j, :, ncol[k, bi, j]]
        anchors.append(a[None])
    return np.concatenate(anchors), valid, s


def test_closed_form_distances_and_values_equal_explicit_anchors():
    heat, _, _, _, positive = _batch(1)
    loss, draws = P.pckh_uniloss(heat, positive, max_positives=40, n_random=3, seed=3, return_anchors=True)
    anchors, valid, s = _explicit(draws, 3)
    assert anchors.shape[0] == 1 + 16 + 3 + 2 * 8
    b = (2 / (1 + np.exp(-np.asarray(draws["d"]))) - 1) * valid
    sq = np.sum((anchors - b[None]) ** 2, axis=(2, 3, 4))  # (K, B)
    np.testing.assert_allclose(np.asarray(draws["sq"]), sq, rtol=1e-9, atol=1e-9)
    values = np.asarray(P.pckh_from_bits(anchors, valid, np.asarray(draws["joint_ok"])))
    np.testing.assert_allclose(np.asarray(draws["values"]), values, atol=1e-12)
    assert values[0].min() == 1.0 and values[-8:].max() == 0.0 and values[-16:-8].min() == 1.0
    # the batch interpolation: per-image shuffles joined slot by slot, IDW over the summed distances
    perm = np.asarray(draws["perm"])
    slot_sq = np.sum(np.take_along_axis(sq.T, perm, axis=1), axis=0)
    slot_v = np.mean(np.take_along_axis(values.T, perm, axis=1), axis=0)
    w = 1 / np.sqrt(slot_sq)
    assert float(loss) == pytest.approx(-np.sum(w * slot_v) / np.sum(w), rel=1e-6)
    assert slot_v.min() - 1e-12 <= -float(loss) <= slot_v.max() + 1e-12


def test_at_a_saturated_all_correct_heatmap_the_surrogate_is_the_true_pckh():
    _, _, _, visible, positive = _batch(2)
    # +60 on the positive cells, -60 elsewhere: b~ is exactly the all-correct anchor (PCKh 1). One image:
    # with several, each image shuffles its anchors, so a batch slot joins different anchors (official).
    heat = np.where(positive, 60.0, -60.0).reshape(B, J, H, W).transpose(0, 2, 3, 1).astype("float32")
    assert float(P.pckh_uniloss(heat[:1], positive[:1], max_positives=40, seed=0)) == -1.0


def test_gradient_matches_finite_differences():
    heat, _, _, _, positive = _batch(4)
    heat = heat[:2, :6, :6, :3] * 0.3  # small: 2 images, 6x6, 3 joints
    pos = np.asarray(P.pckh_positive_mask(np.array([[[1.2, 2.3], [4.1, 3.7], [2.2, 4.4]]] * 2), np.array([3.0, 4.0]),
                                          np.ones((2, 3), bool), 6, 6))

    def loss(h):  # an int seed: the same draws on every call
        return P.pckh_uniloss(h, pos, max_positives=12, n_random=2, n_nearby=2, n_flip=3, seed=5)

    x = tf.Variable(heat)
    with tf.GradientTape() as tape:
        value = loss(x)
    grad = tape.gradient(value, x).numpy()
    # central differences on the 4 coordinates of largest gradient and 2 random ones (the full Jacobian: 2 min)
    picks = list(np.argsort(-np.abs(grad).reshape(-1))[:4]) + list(np.random.default_rng(0).integers(0, heat.size, 2))
    for i in picks:
        e = np.zeros(heat.size)
        e[i] = 1e-5
        e = e.reshape(heat.shape)
        numeric = (float(loss(heat + e)) - float(loss(heat - e))) / 2e-5
        assert numeric == pytest.approx(grad.reshape(-1)[i], abs=1e-6)
    assert np.abs(grad).max() > 1e-4
