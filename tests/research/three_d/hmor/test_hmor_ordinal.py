"""Spec card checks 3 (ordinal labels from a synthetic scene) and 4 (the ranking loss), on
research/three_d/hmor/ordinal.py."""

import numpy as np
import tensorflow as tf

from official.data import skeletons3d
from research.three_d.hmor import ordinal
from tests.research.three_d.hmor.hmor_fixtures import scenes


def padded_scene(max_people=5):
    scene = scenes(7, 1)[0]
    cam = np.zeros((1, max_people, 21, 3), np.float32)
    mask = np.zeros((1, max_people), np.float32)
    for i, p in enumerate(scene["people"]):
        cam[0, i] = p["keypoints_cam"]
        mask[0, i] = 1.0
    return cam, mask, len(scene["people"])


def test_check3_relations_antisymmetric_tied_within_tolerance_and_in_depth_order():
    cam, mask, n = padded_scene()
    assert n >= 2
    root = skeletons3d.MUCO_21.root
    z = cam[..., 2]
    parts = ordinal.parts_for("muco_21")
    assert len(parts) == 6 and (14 in parts[1]) and set(parts[2]) == {5, 6, 7, 18}
    levels = {
        "instance": (z[..., root:root + 1], 100.0),
        "part": (np.asarray(ordinal.part_depths(z, parts)[0]), 100.0),
        "joint": (z, 100.0),
    }
    for name, (values, tol) in levels.items():
        r = np.asarray(ordinal.relation_labels(values, tol))[0]  # (P, M, P, M)
        np.testing.assert_array_equal(r, -np.transpose(r, (2, 3, 0, 1)), err_msg=name)
        d = values[0][:, :, None, None] - values[0][None, None, :, :]
        assert np.all(r[np.abs(d) <= tol] == 0), name
        far = np.abs(d) > tol
        np.testing.assert_array_equal(r[far], np.sign(d[far]), err_msg=name)  # +1: a is farther
    # instance level against the sorted ground-truth root depths of the real people
    r = np.asarray(ordinal.relation_labels(z[..., root:root + 1], 0.0))[0, :, 0, :, 0]
    order = np.argsort(z[0, :n, root])
    for a, b in zip(order[:-1], order[1:], strict=True):
        assert r[b, a] == 1 and r[a, b] == -1  # b is farther than a
    pm = np.asarray(ordinal.pair_mask(mask))[0, :, 0, :, 0]
    assert pm[:n, :n].sum() == n * (n - 1) and pm[n:].sum() == 0 and np.trace(pm) == 0


def test_check3_ties_within_tolerance():
    values = np.array([[[1000.0], [1050.0], [1300.0]]], np.float32)
    r = np.asarray(ordinal.relation_labels(values, 100.0))[0, :, 0, :, 0]
    np.testing.assert_array_equal(r, [[0, 0, -1], [0, 0, -1], [1, 1, 0]])


def test_check4_ranking_loss_values_and_gradient_direction():
    ones = np.ones(3, np.float32)
    r = np.array([1.0, -1.0, 1.0], np.float32)
    big = np.array([50.0, -50.0, 60.0], np.float32)  # respects every relation with a large margin
    assert float(ordinal.ranking_loss(big, r, ones)) < 1e-12
    np.testing.assert_allclose(float(ordinal.ranking_loss(np.zeros(3, np.float32), r, ones)), np.log(2.0), rtol=1e-6)
    np.testing.assert_allclose(float(ordinal.ranking_loss(np.array([0.5], np.float32), np.zeros(1), np.ones(1))), 0.25)
    # masked pairs do not count
    np.testing.assert_allclose(float(ordinal.ranking_loss(np.array([0.0, 9.0]), np.array([1.0, -1.0]),
                                                          np.array([1.0, 0.0]))), np.log(2.0), rtol=1e-6)
    # gradient descent on (d_a, d_b) moves the pair in the labelled direction
    pred = tf.Variable([[[2.0], [2.0]]])  # one image, two people, equal depths
    gt = np.array([[[3000.0], [1000.0]]], np.float32)  # person 0 is farther
    with tf.GradientTape() as tape:
        loss = ordinal.pairwise_ranking_loss(pred, gt, np.ones((1, 2, 1)), np.ones((1, 2)), 100.0)
    g = tape.gradient(loss, pred).numpy()[0, :, 0]
    assert g[0] < 0 < g[1]  # descent raises d_0 and lowers d_1
    np.testing.assert_allclose(float(loss), np.log(2.0), rtol=1e-6)


def test_hierarchical_loss_prefers_the_true_order_and_counts_angles():
    cam, mask, _ = padded_scene()
    vis = np.ones(cam.shape[:3], np.float32)
    kwargs = dict(root=14, parts=ordinal.parts_for("muco_21"), tolerances_mm=(100.0, 100.0, 100.0))
    good = ordinal.hierarchical_ordinal_loss(cam[..., 2], cam[..., 2], mask, vis, **kwargs)
    flipped = ordinal.hierarchical_ordinal_loss(-cam[..., 2], cam[..., 2], mask, vis, **kwargs)
    for level in ("ordinal_instance", "ordinal_part", "ordinal_joint"):
        assert float(good[level]) < 0.5 * float(flipped[level]), level
    with_angles = ordinal.hierarchical_ordinal_loss(cam[..., 2], cam[..., 2], mask, vis, **kwargs, pred_joints=cam,
                                                    gt_joints=cam, angle_weight=1.0)
    assert float(with_angles["ordinal"]) > float(good["ordinal"])  # the angle term adds a positive loss
    correct, total = ordinal.depth_order_accuracy(cam[..., 14, 2], cam[..., 14, 2], mask)
    assert float(total) > 0 and float(correct) == float(total)
    correct, _ = ordinal.depth_order_accuracy(-cam[..., 14, 2], cam[..., 14, 2], mask)
    assert float(correct) == 0.0
