"""Spec checks 4 (MLE accuracy; our Levenberg-Marquardt vs scipy.optimize.least_squares within 1 mm) and
5 (MAP bone prior: bone deviations shrink; lambda_shape = 0 reduces to the MLE), shape init, outliers."""

import numpy as np
from scipy.optimize import least_squares

from research.three_d.crowd3dpose import bones, optimize
from tests.research.three_d.crowd3dpose.conftest import person_views

TRUE_BONES = None


def _cams(crowd, cameras=(0, 1, 2)):
    return np.stack([crowd.cameras[c].P for c in cameras])


def _mle_all(crowd, cameras=(0, 1, 2)):
    return np.stack([optimize.mle_refine(_cams(crowd, cameras), person_views(crowd, n, cameras)) for n in range(12)])


def test_mle_accuracy_on_the_crowd(crowd):
    poses = _mle_all(crowd)
    error_mm = 1000.0 * np.linalg.norm(poses - crowd.poses[0], axis=-1).mean()
    assert error_mm < 10.0, error_mm  # cameras 7 m from the centre, people 4.2-9.8 m away, 1 px noise
    start = np.stack([optimize.initial_pose(_cams(crowd), person_views(crowd, n)) for n in range(12)])
    assert error_mm < 1000.0 * np.linalg.norm(start - crowd.poses[0], axis=-1).mean()  # refinement helps


def _scipy(fun, x0):
    return least_squares(lambda x: fun(x)[0], x0, jac=lambda x: fun(x)[1], method="trf", x_scale="jac",
                         ftol=1e-12, xtol=1e-12, gtol=1e-12).x


def test_levenberg_marquardt_equals_scipy_least_squares(crowd):
    cams = _cams(crowd, (0, 1))
    medians = bones.median_bones(crowd.poses[0])
    for n in (5,):  # one person: scipy's trf with tolerances 1e-12 is the slow part
        kps = person_views(crowd, n, (0, 1))
        start = optimize.initial_pose(cams, kps)
        weights = np.ones(kps.shape[:2])  # the authors' MLE: every joint (a joint seen once would float on its ray)

        def mle(x, kps=kps, weights=weights):
            return optimize.reprojection_residuals(x, cams, kps[..., :2], weights)

        ours = optimize.levenberg_marquardt(mle, start.reshape(-1), ftol=1e-12).x
        assert np.abs(ours - _scipy(mle, start.reshape(-1))).max() < 1e-3  # metres: within 1 mm
        fun = optimize.map_residuals(cams, kps, medians, 0.1, 5.0)
        x0 = optimize.shape_initialize(ours.reshape(-1, 3), medians).reshape(-1)
        ours_map = optimize.levenberg_marquardt(fun, x0, ftol=1e-12).x
        assert np.abs(ours_map - _scipy(fun, x0)).max() < 1e-3


def test_analytic_jacobians_match_finite_differences(crowd):
    cams = _cams(crowd)
    kps = person_views(crowd, 3)
    x = crowd.poses[0, 3].reshape(-1) + 0.01
    fun = optimize.map_residuals(cams, kps, bones.median_bones(crowd.poses[0]), 0.1, 5.0)
    r, jac = fun(x)
    eps = 1e-6
    numeric = np.stack([(fun(x + eps * e)[0] - fun(x - eps * e)[0]) / (2 * eps) for e in np.eye(x.size)], 1)
    np.testing.assert_allclose(jac, numeric, atol=1e-3, rtol=1e-5)


def test_map_shrinks_bone_deviations_and_reduces_to_mle(crowd):
    cams = _cams(crowd, (0, 1))
    mle = _mle_all(crowd, (0, 1))
    medians = bones.median_bones(mle)
    targets = bones.median_per_bone(medians)
    maps = np.stack([optimize.map_refine(cams, person_views(crowd, n, (0, 1)), medians, mle[n]) for n in range(12)])
    dev_mle = np.abs(bones.bone_lengths(mle) - targets).mean()
    dev_map = np.abs(bones.bone_lengths(maps) - targets).mean()
    assert dev_map < 0.5 * dev_mle, (dev_map, dev_mle)
    # lambda_shape = 0 with equal scores (no occluded joint) leaves the (scaled) MLE objective: same minimum.
    n = next(n for n in range(12) if (person_views(crowd, n, (0, 1))[..., 2] > 0.5).all())
    kps = person_views(crowd, n, (0, 1))
    reduced = optimize.map_refine(cams, kps, medians, mle[n], lambda_shape=0.0, ftol=1e-12, initialize=False)
    exact = optimize.mle_refine(cams, kps, ftol=1e-12)
    np.testing.assert_allclose(reduced, exact, atol=1e-6)


def test_median_bones_and_shape_initialize(crowd):
    poses = crowd.poses.reshape(-1, 23, 3)
    lengths = bones.bone_lengths(poses)
    np.testing.assert_allclose(bones.median_bones(poses), np.median(lengths[:, :13] + lengths[:, 13:], 0) / 2)
    medians = bones.median_bones(poses)
    pose = poses[0].copy()
    pose[9] = pose[7] + 3.0 * (pose[9] - pose[7])  # left forearm 3x its median: shrunk to 1.1x
    fixed = optimize.shape_initialize(pose, medians)
    np.testing.assert_allclose(np.linalg.norm(fixed[9] - fixed[7]), 1.1 * medians[4], rtol=1e-9)
    np.testing.assert_allclose(fixed[:9], poses[0][:9], atol=1e-12)  # the rest stays
    np.testing.assert_allclose(fixed[10:], poses[0][10:], atol=1e-12)


def test_cope_outliers_replaces_a_far_joint(crowd):
    pose = crowd.poses[0, 2].copy()
    medians = bones.median_bones(crowd.poses[0])
    pose[10] += [2.0, 1.0, 0.5]  # right wrist 2.3 m away
    fixed, found = optimize.cope_outliers(pose, medians)
    assert found == [10]
    np.testing.assert_allclose(np.linalg.norm(fixed[10] - fixed[8]), medians[4], rtol=1e-9)
    assert optimize.cope_outliers(crowd.poses[0, 2], medians)[1] == []
