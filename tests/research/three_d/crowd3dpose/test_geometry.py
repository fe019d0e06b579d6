"""Spec checks 1 (homography) and 3 (triangulation, epipolar correction), against OpenCV and CORE's camera ops."""

import cv2
import numpy as np

from official.ops.camera import project_with_matrix
from research.three_d.crowd3dpose import geometry


def _feet(crowd):
    return crowd.poses[0][:, 17:].reshape(-1, 3)  # 72 points with z = 0


def test_homography_warp_equals_projection_and_cv2(crowd):
    a, b = crowd.cameras[0].P, crowd.cameras[1].P
    feet = _feet(crowd)
    assert np.abs(feet[:, 2]).max() < 1e-12
    in_a = np.asarray(project_with_matrix(a, feet), np.float64)
    in_b = np.asarray(project_with_matrix(b, feet), np.float64)
    h = geometry.view_homography(a, b)
    np.testing.assert_allclose(geometry.apply_homography(h, in_a), in_b, atol=1e-6)
    reference, _ = cv2.findHomography(in_a, in_b, 0)  # its DLT + LM refinement runs partly in float32
    np.testing.assert_allclose(h, reference / reference[2, 2], rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(geometry.apply_homography(reference, in_a), in_b, atol=1e-3)
    # Points above the ground do not follow the plane's homography (the feet rule needs ground points).
    heads = crowd.poses[0][:, 0]
    off = geometry.apply_homography(h, np.asarray(project_with_matrix(a, heads)))
    assert np.min(np.linalg.norm(off - np.asarray(project_with_matrix(b, heads)), axis=-1)) > 20.0


def test_fundamental_matrix_and_epipolar_correction(crowd):
    a, b = crowd.cameras[0].P, crowd.cameras[2].P
    joints = crowd.poses[0].reshape(-1, 3)
    xa, xb = geometry.project(a, joints), geometry.project(b, joints)
    f = geometry.fundamental_matrix(a, b)
    lines = geometry.epipolar_lines(f, xa)
    assert np.abs(geometry.point_line_distance(lines, xb)).max() < 1e-6
    rng = np.random.default_rng(1)
    na, nb = xa + rng.normal(0, 2.0, xa.shape), xb + rng.normal(0, 2.0, xb.shape)
    ca, cb = geometry.epipolar_correct(f, na, nb)
    # Exactly on each other's epipolar lines, both ways.
    assert np.abs(geometry.point_line_distance(geometry.epipolar_lines(f, ca), cb)).max() < 1e-9
    assert np.abs(geometry.point_line_distance(geometry.epipolar_lines(f.T, cb), ca)).max() < 1e-9
    # One point of each pair moves, by its distance to the other's line, and it is the nearer one.
    moved_a = np.linalg.norm(ca - na, axis=-1) > 0
    moved_b = np.linalg.norm(cb - nb, axis=-1) > 0
    assert not np.any(moved_a & moved_b) and np.all(moved_a | moved_b)
    da = np.abs(geometry.point_line_distance(geometry.epipolar_lines(f.T, nb), na))
    db = np.abs(geometry.point_line_distance(geometry.epipolar_lines(f, na), nb))
    np.testing.assert_array_equal(moved_b, db <= da)
    np.testing.assert_allclose(np.linalg.norm(cb - nb, axis=-1)[moved_b], db[moved_b], atol=1e-9)


def test_dlt_recovers_points_and_equals_cv2(crowd):
    cams = np.stack([c.P for c in crowd.cameras])
    joints = crowd.poses[0].reshape(-1, 3)
    pixels = np.stack([geometry.project(p, joints) for p in cams])
    np.testing.assert_allclose(geometry.triangulate(cams, pixels), joints, atol=1e-6)  # metres
    np.testing.assert_allclose(geometry.triangulate(cams[:2], pixels[:2]), joints, atol=1e-6)
    noisy = pixels + np.random.default_rng(0).normal(0, 1.0, pixels.shape)
    homo = cv2.triangulatePoints(cams[0], cams[1], noisy[0].T.copy(), noisy[1].T.copy())
    reference = (homo[:3] / homo[3]).T
    np.testing.assert_allclose(geometry.triangulate(cams[:2], noisy[:2]), reference, atol=1e-9)
    # A zero weight drops a view: a wrong third view changes nothing.
    wrong = noisy.copy()
    wrong[2] += 50.0
    weights = np.ones(pixels.shape[:2])
    weights[2] = 0.0
    np.testing.assert_allclose(geometry.triangulate(cams, wrong, weights), geometry.triangulate(cams[:2], noisy[:2]),
                               atol=1e-9)
