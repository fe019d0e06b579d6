"""Spec card check 5: mesh F1@0.3 in the Pix3D protocol against a trimesh + pykdtree reference; rotation
metrics against scipy."""

import numpy as np
import trimesh
from pykdtree.kdtree import KDTree
from scipy.spatial.transform import Rotation

from research.three_d.mask2cad import metrics


def _reference_f1(pred_mesh, gt_mesh, n, seed, t=0.3):
    """Independent reference: same trimesh samples, pykdtree nearest neighbours, GT longest edge = 10."""
    p, _ = trimesh.sample.sample_surface(pred_mesh, n, seed=seed)
    g, _ = trimesh.sample.sample_surface(gt_mesh, n, seed=seed + 1)
    s = 10.0 / gt_mesh.extents.max()
    p, g = np.ascontiguousarray(p * s), np.ascontiguousarray(g * s)
    d_pg, _ = KDTree(g).query(p, k=1)
    d_gp, _ = KDTree(p).query(g, k=1)
    prec, rec = np.mean(d_pg < t), np.mean(d_gp < t)
    return 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0


def test_check5_identical_translated_and_reference():
    gt = trimesh.creation.box(extents=(0.4, 0.9, 0.5))  # metres; longest edge 0.9 -> scale 10 / 0.9
    gt.apply_translation([0.1, -0.2, 2.5])
    same = metrics.mesh_f1(gt.vertices, gt.faces, gt.vertices, gt.faces, num_samples=10000)
    assert same["f1"] > 0.99
    # identical points give exactly 1
    pts = metrics.sample_surface(gt.vertices, gt.faces, 500)
    assert metrics.points_f1(pts, pts, 10.0)["f1"] == 1.0
    # 1 unit after normalisation = 0.09 m: F1 < 0.5
    shifted = gt.copy()
    shifted.apply_translation([0.09, 0.0, 0.0])
    moved = metrics.mesh_f1(shifted.vertices, shifted.faces, gt.vertices, gt.faces, num_samples=10000)
    assert moved["f1"] < 0.5
    # agrees with the reference on a different shape and a small rotation + offset
    pred = trimesh.creation.cylinder(radius=0.25, height=0.8, sections=24)
    pred.apply_transform(trimesh.transformations.rotation_matrix(0.2, [0, 1, 0]))
    pred.apply_translation([0.12, -0.2, 2.52])
    for mesh in (pred, shifted):
        ours = metrics.mesh_f1(mesh.vertices, mesh.faces, gt.vertices, gt.faces, num_samples=2000, seed=3)["f1"]
        np.testing.assert_allclose(ours, _reference_f1(mesh, gt, 2000, 3), atol=1e-12)
    # the scale comes from the GT, not the prediction: a uniformly larger GT scene changes nothing
    big_gt, big_pred = gt.copy(), pred.copy()
    big_gt.apply_scale(3.0)
    big_pred.apply_scale(3.0)
    a = metrics.mesh_f1(pred.vertices, pred.faces, gt.vertices, gt.faces, num_samples=2000, seed=3)["f1"]
    b = metrics.mesh_f1(big_pred.vertices, big_pred.faces, big_gt.vertices, big_gt.faces, num_samples=2000,
                        seed=3)["f1"]
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_rotation_metrics_match_scipy():
    q_gt = Rotation.random(40, random_state=0)
    noise = Rotation.from_rotvec(np.random.default_rng(0).normal(scale=0.5, size=(40, 3)))
    q_pred = noise * q_gt
    ref = np.degrees((q_pred * q_gt.inv()).magnitude())
    qp = q_pred.as_quat(scalar_first=True) * np.where(np.arange(40) % 2, -1.0, 1.0)[:, None]  # sign-invariant
    err = metrics.rotation_errors_deg(qp, q_gt.as_quat(scalar_first=True))
    np.testing.assert_allclose(err, ref, atol=1e-6)
    m = metrics.rotation_metrics(qp, q_gt.as_quat(scalar_first=True))
    assert m["rotation_accuracy"] == np.mean(ref < 30) and 0 < m["rotation_accuracy"] < 1
    np.testing.assert_allclose(m["median_rotation_error_deg"], np.median(ref), atol=1e-6)
    assert metrics.retrieval_top1([1, 2, 3, 4], [1, 2, 0, 4]) == 0.75


def test_average_precision_by_hand():
    # 3 GT, 4 detections (scores 0.9, 0.8, 0.7, 0.6): TP, FP (F1 too low), TP, duplicate of GT 0 (FP)
    sim = np.array([[0.9, 0.1, 0.0], [0.2, 0.4, 0.0], [0.0, 0.1, 0.7], [0.8, 0.0, 0.0]])
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    # precision at the TPs: 1/1 and 2/3; recall 1/3 and 2/3 -> AP = 1/3 * 1 + 1/3 * 2/3
    np.testing.assert_allclose(metrics.average_precision(scores, sim, 3), 1 / 3 + 2 / 9)
    # order by score, not by row: reversing the rows changes nothing
    np.testing.assert_allclose(metrics.average_precision(scores[::-1], sim[::-1], 3), 1 / 3 + 2 / 9)
    # a greedy claim: the duplicate, scored highest, takes GT 0 and the true best becomes a miss
    scores2 = np.array([0.5, 0.8, 0.7, 0.95])
    np.testing.assert_allclose(metrics.average_precision(scores2, sim, 3), 1 / 3 + 2 / 9)
    assert metrics.average_precision(np.array([]), np.zeros((0, 2)), 2) == 0.0
    assert metrics.average_precision(scores, np.eye(4)[:, :4], 4) == 1.0
