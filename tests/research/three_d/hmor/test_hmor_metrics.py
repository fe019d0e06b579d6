"""Spec card check 5 through HMOR's evaluation (research/three_d/hmor/metrics.py): 3DPCK = 100 for a
perfect prediction, PA-MPJPE invariant to a similarity transform and equal to a scipy reference,
matching, "all" vs "matched" PCK and the depth-order accuracy."""

import numpy as np
from scipy.linalg import orthogonal_procrustes
from scipy.spatial.transform import Rotation

from research.three_d.hmor import metrics

ROOT = 14


def batch(seed=0, people=3, max_people=4, joints=21):
    rng = np.random.default_rng(seed)
    cam = np.zeros((1, max_people, joints, 3))
    cam[0, :people] = rng.normal(0, 300, (people, joints, 3)) + np.array([0, 0, 1]) * rng.uniform(2000, 8000, (people, 1, 1))
    img = np.zeros((1, max_people, joints, 2))
    img[0, :people] = cam[0, :people, :, :2] / cam[0, :people, :, 2:] * 500 + 256
    mask = (np.arange(max_people) < people)[None].astype(np.float32)
    labels = {"keypoints_cam": cam, "keypoints_img": img, "person_mask": mask}
    return labels


def prediction(cam, img, valid):
    return {"joints_cam": cam, "joints_img": img, "root_depth": cam[..., ROOT, 2], "valid": valid}


def reference_pa_mpjpe(pred, gt):
    """Similarity Procrustes with scipy.linalg.orthogonal_procrustes (an independent implementation)."""
    errs = []
    for p, g in zip(pred, gt, strict=True):
        p0, g0 = p - p.mean(0), g - g.mean(0)
        r, s = orthogonal_procrustes(p0, g0)
        scale = s / (p0 * p0).sum()
        errs.append(np.linalg.norm(scale * p0 @ r - g0, axis=-1))
    return float(np.mean(errs))


def test_check5_perfect_prediction_scores_pck_100_and_zero_errors():
    y = batch()
    valid = y["person_mask"] > 0
    # predictions in another row order: matching by 2D roots must undo it
    order = [2, 0, 1, 3]
    pred = prediction(y["keypoints_cam"][:, order], y["keypoints_img"][:, order], valid[:, order])
    out = metrics.evaluate_batches([(y, pred, pred)], root=ROOT)
    for key in ("pck_rel_all", "pck_abs_all", "pck_rel_matched", "recall", "depth_order_acc"):
        assert out[key] == 100.0, key
    assert out["mpjpe_rel"] < 1e-9 and out["pa_mpjpe"] < 1e-6 and out["root_error_mm"] < 1e-9
    np.testing.assert_allclose(out["auc_rel_matched"], 100.0 * 30 / 31)  # MuPoTS: 0 mm counts nothing


def test_check5_pa_mpjpe_is_similarity_invariant_and_matches_scipy():
    y = batch(1)
    rng = np.random.default_rng(3)
    noisy = y["keypoints_cam"] + rng.normal(0, 40, y["keypoints_cam"].shape) * (y["person_mask"][..., None, None])
    valid = y["person_mask"] > 0
    base = metrics.evaluate_batches([(y, prediction(noisy, y["keypoints_img"], valid), None)], root=ROOT)
    rot = Rotation.random(random_state=4).as_matrix()
    moved = 1.7 * noisy @ rot.T + np.array([100.0, -50.0, 30.0])
    out = metrics.evaluate_batches([(y, prediction(moved, y["keypoints_img"], valid), None)], root=ROOT)
    np.testing.assert_allclose(out["pa_mpjpe"], base["pa_mpjpe"], rtol=1e-6)
    assert out["mpjpe_rel"] > 2 * base["mpjpe_rel"]  # the plain root-relative error does change
    np.testing.assert_allclose(base["pa_mpjpe"], reference_pa_mpjpe(noisy[0, :3], y["keypoints_cam"][0, :3]), rtol=1e-6)


def test_unmatched_people_count_as_wrong_in_all_people_pck_and_depth_order_is_scored():
    y = batch(2)
    cam = y["keypoints_cam"].copy()
    valid = (np.arange(4) < 2)[None]  # the third person is not detected
    cam[0, 0, :, 2] += 5000.0  # person 0 placed far behind: absolute PCK fails, relative holds
    out = metrics.evaluate_batches([(y, prediction(cam, y["keypoints_img"], valid), None)], root=ROOT)
    np.testing.assert_allclose(out["recall"], 200.0 / 3)
    np.testing.assert_allclose(out["pck_rel_all"], 200.0 / 3)
    assert out["pck_rel_matched"] == 100.0
    np.testing.assert_allclose(out["pck_abs_matched"], 50.0)
    z = y["keypoints_cam"][0, :2, ROOT, 2]
    expected = 100.0 if (z[0] + 5000.0 > z[1]) == (z[0] > z[1]) else 0.0
    assert out["depth_order_acc"] == expected
