"""Spec check 5: MEPE equals a numpy reference, PCK AUC over 0-50 mm equals np.trapz of the PCK curve / 50,
top-1 equals scikit-learn's accuracy_score; and the 2.5D -> camera lifting inverts the projection."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score

from research.three_d.gesture_handpose import metrics
from research.three_d.gesture_handpose.model import camera_joints

trapezoid = getattr(np, "trapezoid", None) or np.trapz


def _reference(pred, gt, thresholds):
    dist = np.sqrt(((pred - gt) ** 2).sum(-1))
    curve = np.array([np.mean(dist <= t) for t in thresholds])
    return dist.mean(), 100.0 * trapezoid(curve, thresholds) / (thresholds[-1] - thresholds[0])


def test_mepe_and_pck_auc_match_numpy():
    rng = np.random.default_rng(0)
    gt = rng.normal(0, 50, (40, 21, 3))
    pred = gt + rng.normal(0, 12, gt.shape)
    pred[3] = gt[3]  # exact poses and far-off ones: both ends of the curve
    pred[4] += 300.0
    hm = rng.uniform(0, 32, (40, 21, 2))
    out = metrics.pose_metrics(pred, gt, hm + 1.0, hm, 50.0, 1.0)
    mepe, auc = _reference(pred, gt, np.arange(0.0, 51.0))
    assert abs(out["mepe"] - mepe) < 1e-9 and abs(out["pck_auc"] - auc) < 1e-9
    rel = pred - pred[:, :1] - (gt - gt[:, :1])
    assert abs(out["mepe_rootrel"] - np.sqrt((rel**2).sum(-1)).mean()) < 1e-9
    assert abs(out["err2d_hm"] - np.sqrt(2.0)) < 1e-9
    perfect = metrics.pose_metrics(gt, gt, hm, hm)
    assert perfect["mepe"] == 0.0 and abs(perfect["pck_auc"] - 100.0) < 1e-9 and perfect["err2d_hm"] == 0.0


def test_top1_matches_sklearn():
    rng = np.random.default_rng(1)
    logits, labels = rng.normal(size=(50, 45)), rng.integers(0, 45, 50)
    logits[np.arange(25), labels[:25]] += 10.0
    assert abs(metrics.top1(logits, labels) - 100 * accuracy_score(labels, logits.argmax(-1))) < 1e-9


def test_camera_joints_inverts_the_projection():
    rng = np.random.default_rng(2)
    cam = rng.normal(0, 40, (2, 3, 21, 3)) + [0, 0, 450.0]
    focal, center = np.array([[150.0, 160.0], [90.0, 95.0]]), np.array([[31.5, 30.0], [20.0, 25.0]])
    uv = cam[..., :2] / cam[..., 2:] * focal[:, None, None] + center[:, None, None]
    z_rel = cam[..., 2] - cam[..., :1, 2] + 7.0  # a constant offset of the predicted root is removed
    got = np.asarray(camera_joints(np.concatenate([uv, z_rel[..., None]], -1), cam[..., 0, 2], focal[:, None], center[:, None]))
    np.testing.assert_allclose(got, cam, atol=1e-6)
