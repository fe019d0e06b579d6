"""Spec card checks 1-2: rotation bins, bin targets and quaternion residuals against scipy's Rotation."""

import numpy as np
from scipy.spatial.transform import Rotation

from research.three_d.mask2cad import rotation_bins as rb


def _random_quats(n, seed):
    return Rotation.random(n, random_state=seed).as_quat(scalar_first=True)


def test_multiply_matches_scipy_composition():
    a, b = _random_quats(50, 1), _random_quats(50, 2)
    ours = rb.q_multiply(a, b)
    ref = (Rotation.from_quat(a, scalar_first=True) * Rotation.from_quat(b, scalar_first=True)).as_quat(
        scalar_first=True)
    np.testing.assert_allclose(np.abs(np.sum(ours * ref, axis=1)), 1.0, atol=1e-12)
    np.testing.assert_allclose(Rotation.from_quat(ours, scalar_first=True).as_matrix(),
                               Rotation.from_quat(a, scalar_first=True).as_matrix()
                               @ Rotation.from_quat(b, scalar_first=True).as_matrix(), atol=1e-12)


def test_check2_medoids_are_training_rotations_and_sign_invariant():
    q = _random_quats(1000, 0)
    medoids = rb.kmedoids(q, 16, seed=0)
    assert len(set(medoids.tolist())) == 16  # 16 distinct training rotations
    # flipping the sign of half the rotations must not change the clustering (q and -q are one rotation)
    flipped = q * np.where(np.arange(1000) % 2 == 0, -1.0, 1.0)[:, None]
    np.testing.assert_array_equal(rb.kmedoids(flipped, 16, seed=0), medoids)
    cats = np.repeat([0, 1], 500)
    bins = rb.fit_rotation_bins(flipped, cats, num_categories=3)
    assert bins.shape == (3, 16, 4)
    for c in (0, 1):
        members = q[cats == c]
        # each bin centre is (up to sign) one of the category's training rotations
        assert np.all(np.max(np.abs(bins[c] @ members.T), axis=1) > 1 - 1e-12)
    np.testing.assert_array_equal(bins[2], np.tile([1.0, 0, 0, 0], (16, 1)))  # empty category: identity
    # the distance is 1 - |<q1,q2>|: zero for q vs -q, and it orders pairs like scipy's geodesic angle
    np.testing.assert_allclose(np.diag(rb.q_distance(q[:5], -q[:5])), 0.0, atol=1e-12)
    r = Rotation.from_quat(q[:100], scalar_first=True)
    angles = (r[:1].inv() * r).magnitude()
    assert np.all(np.diff(rb.q_distance(q[:1], q[:100])[0][np.argsort(angles)]) >= -1e-12)


def test_check1_targets_reconstruct_gt_and_agree_with_scipy():
    train = _random_quats(1000, 3)
    cats = np.arange(1000) % 2
    bins = rb.fit_rotation_bins(train, cats, num_categories=2)
    q_gt = _random_quats(200, 4) * np.where(np.arange(200) % 3 == 0, -1.0, 1.0)[:, None]
    c_gt = np.arange(200) % 2
    index, delta = rb.rotation_targets(q_gt, c_gt, bins)
    # the bin is the nearest centre of the object's own category by scipy's geodesic angle
    for i in range(0, 200, 7):
        centres = Rotation.from_quat(bins[c_gt[i]], scalar_first=True)
        angles = (centres.inv() * Rotation.from_quat(q_gt[i], scalar_first=True)).magnitude()
        assert angles[index[i]] <= angles.min() + 1e-9
    assert np.all(delta[:, 0] >= 0)
    # delta = q_bin^-1 * q_gt as scipy composes it
    q_bin = Rotation.from_quat(bins[c_gt, index], scalar_first=True)
    ref_delta = (q_bin.inv() * Rotation.from_quat(q_gt, scalar_first=True)).as_matrix()
    np.testing.assert_allclose(Rotation.from_quat(delta, scalar_first=True).as_matrix(), ref_delta, atol=1e-9)
    decoded = rb.decode_rotation(index, delta, c_gt, bins)
    np.testing.assert_allclose(np.abs(np.sum(decoded * q_gt, axis=1)), 1.0, atol=1e-6)
    np.testing.assert_allclose(Rotation.from_quat(decoded, scalar_first=True).as_matrix(),
                               Rotation.from_quat(q_gt, scalar_first=True).as_matrix(), atol=1e-6)
    # the residual's angle is the distance to the chosen (nearest) bin, never more than to any other bin
    resid = rb.q_angle(delta, np.array([1.0, 0, 0, 0]))
    to_all = np.stack([rb.q_angle(bins[c_gt, j], q_gt) for j in range(16)], 1)
    np.testing.assert_allclose(resid, to_all.min(1), atol=1e-6)
