"""official/evaluation/pose3d.py against scipy references and hand-computed cases.

References: scipy.spatial.procrustes (reflections allowed: compared where it picks a rotation),
scipy.spatial.transform.Rotation.align_vectors (Kabsch, rotations only) for any input, scipy
linear_sum_assignment via brute force over permutations, and MuPoTS-3D's / mvpose's rules written out.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.linalg import orthogonal_procrustes
from scipy.spatial import procrustes as scipy_procrustes
from scipy.spatial.transform import Rotation

from official.evaluation import pose3d


def _poses(seed: int, n: int = 6, joints: int = 17) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=300.0, size=(n, joints, 3))


def _similarity(poses: np.ndarray, seed: int) -> np.ndarray:
    """Each pose under its own random scale, rotation and translation."""
    rng = np.random.default_rng(seed)
    rot = Rotation.random(len(poses), random_state=seed).as_matrix()
    scale = rng.uniform(0.5, 2.0, size=(len(poses), 1, 1))
    shift = rng.normal(scale=1000.0, size=(len(poses), 1, 3))
    return scale * np.einsum("nij,nkj->nki", rot, poses) + shift


def _kabsch_reference(pred: np.ndarray, gt: np.ndarray, scale: bool = True) -> np.ndarray:
    """Similarity alignment built on scipy's rotation-only Kabsch solver."""
    out = []
    for p, g in zip(pred, gt, strict=True):
        x, y = p - p.mean(0), g - g.mean(0)
        rot, _ = Rotation.align_vectors(y, x)  # rotation mapping x onto y
        xr = rot.apply(x)
        s = (xr * y).sum() / (x**2).sum() if scale else 1.0
        out.append(s * xr + g.mean(0))
    return np.stack(out)


def test_procrustes_equals_scipy_spatial_procrustes():
    gt = _poses(0)
    pred = _similarity(gt + np.random.default_rng(1).normal(scale=20.0, size=gt.shape), seed=2)
    aligned = pose3d.procrustes_align(pred, gt)
    for a, p, g in zip(aligned, pred, gt, strict=True):
        std_gt, std_pred, disparity = scipy_procrustes(g, p)
        norm = np.linalg.norm(g - g.mean(0))
        np.testing.assert_allclose((a - g.mean(0)) / norm, std_pred, atol=1e-6)
        np.testing.assert_allclose(((std_gt - (a - g.mean(0)) / norm) ** 2).sum(), disparity, atol=1e-9)
        # PA-MPJPE is scipy's per-joint residual, rescaled to the GT's millimetres.
        ref = np.linalg.norm(std_gt - std_pred, axis=-1).mean() * norm
        np.testing.assert_allclose(pose3d.pa_mpjpe(p, g), ref, rtol=0, atol=1e-6)


def test_procrustes_equals_kabsch_reference_on_random_inputs_and_never_reflects():
    pred, gt = _poses(3, n=40), _poses(4, n=40)  # unrelated poses: about half prefer a reflection
    aligned = pose3d.procrustes_align(pred, gt)
    reference = _kabsch_reference(pred, gt)
    np.testing.assert_allclose(aligned, reference, atol=1e-6)
    np.testing.assert_allclose(
        pose3d.pa_mpjpe(pred, gt), np.linalg.norm(reference - gt, axis=-1).mean(), rtol=0, atol=1e-6
    )
    np.testing.assert_allclose(
        pose3d.procrustes_align(pred, gt, scale=False), _kabsch_reference(pred, gt, scale=False), atol=1e-6
    )
    _, rot, _ = pose3d.procrustes_transform(pred, gt)
    np.testing.assert_allclose(np.linalg.det(rot), 1.0, atol=1e-9)
    reflecting = [
        np.linalg.det(orthogonal_procrustes(p - p.mean(0), g - g.mean(0))[0]) < 0
        for p, g in zip(pred, gt, strict=True)
    ]
    assert 5 < sum(reflecting) < 35  # both branches of the sign fix were exercised


def test_mirrored_pose_is_not_aligned_by_a_reflection():
    gt = _poses(5, n=1)
    mirrored = gt * np.array([-1.0, 1.0, 1.0])
    err = pose3d.pa_mpjpe(mirrored, gt)
    x, y = mirrored[0] - mirrored[0].mean(0), gt[0] - gt[0].mean(0)
    reflection, s = orthogonal_procrustes(x, y)
    assert np.linalg.norm(x @ reflection * s / (x**2).sum() - y, axis=-1).mean() < 1e-6  # a reflection fits
    assert err > 10.0  # a rotation cannot


def test_pa_mpjpe_invariant_to_similarity_of_prediction():
    gt = _poses(6)
    pred = gt + np.random.default_rng(7).normal(scale=30.0, size=gt.shape)
    moved = _similarity(pred, seed=8)
    assert pose3d.pa_mpjpe(pred, gt) > 5.0
    np.testing.assert_allclose(pose3d.pa_mpjpe(moved, gt), pose3d.pa_mpjpe(pred, gt), rtol=0, atol=1e-6)
    # Without scale, only rigid motions leave it unchanged.
    rot = Rotation.random(len(pred), random_state=10).as_matrix()
    rigid = np.einsum("nij,nkj->nki", rot, pred) + 500.0
    np.testing.assert_allclose(
        pose3d.pa_mpjpe(rigid, gt, scale=False), pose3d.pa_mpjpe(pred, gt, scale=False), atol=1e-6
    )


def test_ground_truth_scores_perfectly():
    gt = _poses(11)
    limbs = [(0, 1), (1, 2), (3, 4), (5, 6)]
    assert pose3d.mpjpe(gt, gt) == 0.0
    assert pose3d.mpjpe(gt, gt, root=0) == 0.0
    assert pose3d.pa_mpjpe(gt, gt) < 1e-9
    assert pose3d.pck3d(gt, gt) == 100.0
    assert pose3d.pcp(gt, gt, limbs) == 100.0
    assert pose3d.pcp(gt, gt, limbs, rule="both") == 100.0
    # Strict "<": nothing is below 0 mm, so the perfect AUC over 0:5:150 is 30 of 31 points.
    np.testing.assert_allclose(pose3d.pck_auc(gt, gt), 100.0 * 30 / 31)


def test_mpjpe_root_alignment_and_mask_by_hand():
    gt = np.zeros((1, 3, 3))
    pred = np.array([[[10.0, 0, 0], [10.0, 3.0, 4.0], [10.0, 0, 0]]])
    np.testing.assert_allclose(pose3d.per_joint_errors(pred, gt), [[10.0, np.sqrt(125.0), 10.0]])
    np.testing.assert_allclose(pose3d.mpjpe(pred, gt, root=0), 5.0 / 3)
    np.testing.assert_allclose(pose3d.mpjpe(pred, gt, mask=[[1, 0, 1]]), 10.0)
    np.testing.assert_allclose(pose3d.mpjpe(pred, gt, root=(0, 2)), 5.0 / 3)  # mean of joints 0 and 2
    np.testing.assert_allclose(pose3d.root_align(pred, 1)[0, 1], 0.0)


def test_masked_joints_do_not_affect_pa_mpjpe():
    gt = _poses(12, n=3)
    pred = gt + np.random.default_rng(13).normal(scale=10.0, size=gt.shape)
    mask = np.ones(gt.shape[:2], bool)
    mask[:, 5:8] = False
    wild = pred.copy()
    wild[:, 5:8] += 1e5  # garbage at invalid joints
    np.testing.assert_allclose(pose3d.pa_mpjpe(wild, gt, mask=mask), pose3d.pa_mpjpe(pred, gt, mask=mask))
    np.testing.assert_allclose(
        pose3d.pa_mpjpe(pred, gt, mask=mask), pose3d.pa_mpjpe(pred[:, mask[0]], gt[:, mask[0]]), atol=1e-9
    )
    np.testing.assert_allclose(
        pose3d.mpjpe(wild, gt, mask=mask), pose3d.mpjpe(pred[:, mask[0]], gt[:, mask[0]])
    )


def test_pck_curve_and_auc_equal_the_mupots_and_trapz_references():
    rng = np.random.default_rng(14)
    gt = _poses(15, n=20)
    pred = gt + rng.normal(scale=60.0, size=gt.shape)
    errors = np.linalg.norm(pred - gt, axis=-1)
    thresholds = np.arange(0, 151, 5)
    curve = np.array([100.0 * (errors < t).mean() for t in thresholds])  # mpii_compute_3d_pck.m
    np.testing.assert_allclose(pose3d.pck_curve(pred, gt, thresholds), curve)
    np.testing.assert_allclose(pose3d.pck_auc(pred, gt), curve.mean())
    np.testing.assert_allclose(pose3d.pck3d(pred, gt), 100.0 * (errors < 150).mean())
    hand = np.linspace(0, 50, 11)
    hand_curve = np.array([100.0 * (errors / 3.0 <= t).mean() for t in hand])
    np.testing.assert_allclose(
        pose3d.pck_auc(pred / 3.0, gt / 3.0, hand, method="trapz", inclusive=True),
        np.trapezoid(hand_curve, hand) / 50.0,
    )
    # Strict vs inclusive at an exact-threshold error.
    assert pose3d.pck_from_errors([[150.0]], 150.0) == 0.0
    assert pose3d.pck_from_errors([[150.0]], 150.0, inclusive=True) == 100.0


def test_pcp_follows_mvpose_mean_rule_not_each_endpoint():
    gt = np.array([[[0.0, 0, 0], [100.0, 0, 0]]])
    # Start endpoint off by 80 (> 50 = 0.5 * 100), end exact: mean error 40 <= 50 -> correct for mvpose.
    pred = np.array([[[0.0, 80.0, 0], [100.0, 0, 0]]])
    assert pose3d.pcp(pred, gt, [(0, 1)]) == 100.0
    assert pose3d.pcp(pred, gt, [(0, 1)], rule="both") == 0.0
    pred_far = np.array([[[0.0, 60.0, 0], [100.0, 0, 60.0]]])  # mean 60 > 50
    assert pose3d.pcp(pred_far, gt, [(0, 1)]) == 0.0
    # The threshold uses the GT length, not the predicted one.
    long_pred = np.array([[[0.0, 0, 0], [100.0 + 90.0, 0, 0]]])  # mean error 45 <= 50
    assert pose3d.pcp(long_pred, gt, [(0, 1)]) == 100.0
    assert pose3d.pcp(long_pred, gt, [(0, 1)], alpha=0.4) == 0.0
    # A limb with an invalid endpoint is not counted.
    gt3 = np.array([[[0.0, 0, 0], [100.0, 0, 0], [200.0, 0, 0]]])
    pred3 = gt3.copy()
    pred3[0, 2] += 1000.0
    assert pose3d.pcp(pred3, gt3, [(0, 1), (1, 2)]) == 50.0
    assert pose3d.pcp(pred3, gt3, [(0, 1), (1, 2)], mask=[[1, 1, 0]]) == 100.0


def test_match_people_equals_brute_force_assignment():
    rng = np.random.default_rng(16)
    pred, gt = rng.normal(size=(4, 3)) * 1000, rng.normal(size=(5, 3)) * 1000
    pairs = pose3d.match_people(pred, gt)
    cost = np.linalg.norm(pred[:, None] - gt[None], axis=-1)
    best = min(
        (sum(cost[p, g] for p, g in enumerate(perm)), perm) for perm in itertools.permutations(range(5), 4)
    )
    assert sorted(pairs) == sorted(enumerate(best[1]))
    assert [g for _, g in pairs] == sorted(g for _, g in pairs)
    # A far-away prediction stays unmatched; no prediction or no GT gives [].
    gt2 = np.array([[0.0, 0.0], [1000.0, 0.0]])
    pred2 = np.array([[1005.0, 0.0], [5000.0, 5000.0]])
    assert pose3d.match_people(pred2, gt2, max_distance=100.0) == [(0, 1)]
    assert pose3d.match_people(np.zeros((0, 3)), gt) == []
    assert pose3d.match_people(pred, np.zeros((0, 3))) == []


def test_edge_cases_raise_or_give_nan():
    gt = _poses(17, n=2)
    with pytest.raises(ValueError, match="pred is empty"):
        pose3d.mpjpe(np.zeros((0, 17, 3)), np.zeros((0, 17, 3)))
    with pytest.raises(ValueError, match="gt has shape"):
        pose3d.pa_mpjpe(gt, gt[:, :16])
    with pytest.raises(ValueError, match="pred must have shape"):
        pose3d.mpjpe(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="mask has shape"):
        pose3d.mpjpe(gt, gt, mask=np.ones((2, 16)))
    with pytest.raises(ValueError, match="limbs is empty"):
        pose3d.pcp(gt, gt, [])
    with pytest.raises(ValueError, match="method must be"):
        pose3d.pck_auc(gt, gt, method="simpson")
    with pytest.raises(ValueError, match="gt_roots has D"):
        pose3d.match_people(np.zeros((2, 3)), np.zeros((2, 2)))
    zero = np.zeros(gt.shape[:2])
    for value in (
        pose3d.mpjpe(gt, gt + 1.0, mask=zero),
        pose3d.pa_mpjpe(gt, gt + 1.0, mask=zero),
        pose3d.pck3d(gt, gt, mask=zero),
        pose3d.pcp(gt, gt, [(0, 1)], mask=zero),
    ):
        assert np.isnan(value)
    # A collapsed prediction (all joints equal) maps onto the GT centroid without dividing by zero.
    collapsed = np.ones_like(gt)
    np.testing.assert_allclose(
        pose3d.procrustes_align(collapsed, gt), np.repeat(gt.mean(1, keepdims=True), 17, 1)
    )
    # A single (J, 3) pose is a batch of one.
    np.testing.assert_allclose(pose3d.mpjpe(gt[0], gt[0] + [3.0, 4.0, 0.0]), 5.0)
