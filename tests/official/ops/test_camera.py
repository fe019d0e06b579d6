"""official/ops/camera.py against hand-written numpy pinhole maths (3DMPPE's world2cam / cam2pixel /
pixel2cam conventions) and the RootNet k formula. The JAX parity and the XLA compile of project /
back_project live in tests/official/ops/test_integral_decode.py (one subprocess, one compile for both modules)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from scipy.spatial.transform import Rotation

from official.ops import camera

FOCAL = np.array([1145.0, 1143.8])  # fx != fy and cx != cy so a swap shows
CENTER = np.array([512.5, 515.5])


def _scene(seed: int = 0):
    """World joints (2 people x 17, mm), a camera (R, centre T) looking at them from ~5 m."""
    rng = np.random.default_rng(seed)
    rotation = Rotation.from_euler("xyz", [95.0, 3.0, 20.0], degrees=True).as_matrix()
    cam_center = np.array([1800.0, -4500.0, 1500.0])
    people_cam = rng.normal(scale=400.0, size=(2, 17, 3)) + np.array(
        [[[-300.0, 100.0, 4500.0]], [[600.0, 0.0, 6000.0]]]
    )
    world = people_cam @ rotation + cam_center  # R^T cam + T
    return world, rotation, cam_center, people_cam


def test_world_to_camera_follows_3dmppe_world2cam_and_inverts():
    world, rotation, cam_center, people_cam = _scene()
    cam = np.asarray(camera.world_to_camera(world, rotation, cam_center))
    expected = np.einsum("ij,npj->npi", rotation, world - cam_center)  # R (X - T), per point
    np.testing.assert_allclose(cam, expected, atol=1e-9)
    np.testing.assert_allclose(cam, people_cam, atol=1e-6)
    np.testing.assert_allclose(
        np.asarray(camera.camera_to_world(cam, rotation, cam_center)), world, atol=1e-6
    )
    # The full chain: world -> camera -> image -> back-projection with the GT depth -> world, to 1e-3 mm.
    uv = camera.project(cam, FOCAL, CENTER)
    back = camera.camera_to_world(camera.back_project(uv, cam[..., 2], FOCAL, CENTER), rotation, cam_center)
    assert np.abs(np.asarray(back) - world).max() < 1e-3


def test_project_is_pinhole_and_back_project_round_trips_to_1e3_mm():
    _, _, _, cam = _scene(1)
    uv = np.asarray(camera.project(cam, FOCAL, CENTER))
    np.testing.assert_allclose(uv[..., 0], cam[..., 0] / cam[..., 2] * FOCAL[0] + CENTER[0], atol=1e-9)
    np.testing.assert_allclose(uv[..., 1], cam[..., 1] / cam[..., 2] * FOCAL[1] + CENTER[1], atol=1e-9)
    back = np.asarray(camera.back_project(uv, cam[..., 2], FOCAL, CENTER))
    assert np.abs(back - cam).max() < 1e-3
    # float32 (the model's dtype) also round-trips to 1e-3 mm at 4-7 m.
    back32 = camera.back_project(
        camera.project(cam.astype(np.float32), FOCAL.astype(np.float32), CENTER.astype(np.float32)),
        cam[..., 2].astype(np.float32),
        FOCAL.astype(np.float32),
        CENTER.astype(np.float32),
    )
    assert back32.dtype == tf.float32
    assert np.abs(np.asarray(back32, np.float64) - cam).max() < 1e-3


def test_per_batch_cameras_are_left_aligned():
    _, _, _, cam = _scene(2)  # (2, 17, 3): one camera per person here
    focal = np.stack([FOCAL, FOCAL[::-1] * 1.1])
    center = np.stack([CENTER, CENTER[::-1] + 7.0])
    uv = np.asarray(camera.project(cam, focal, center))
    for b in range(2):
        np.testing.assert_allclose(uv[b], np.asarray(camera.project(cam[b], focal[b], center[b])), atol=1e-9)
    back = np.asarray(camera.back_project(uv, cam[..., 2], focal, center))
    np.testing.assert_allclose(back, cam, atol=1e-6)
    rotations = Rotation.random(2, random_state=3).as_matrix()
    centers = np.array([[10.0, 20.0, 30.0], [-5.0, 0.0, 2.0]])
    out = np.asarray(camera.world_to_camera(cam, rotations, centers))
    for b in range(2):
        np.testing.assert_allclose(out[b], (cam[b] - centers[b]) @ rotations[b].T, atol=1e-9)


def test_projection_matrix_equals_project_of_world_to_camera():
    world, rotation, cam_center, _ = _scene(4)
    k = np.asarray(camera.intrinsics_matrix(FOCAL, CENTER))
    np.testing.assert_array_equal(k, [[FOCAL[0], 0, CENTER[0]], [0, FOCAL[1], CENTER[1]], [0, 0, 1]])
    t = np.asarray(camera.extrinsic_translation(rotation, cam_center))
    np.testing.assert_allclose(t, -rotation @ cam_center, atol=1e-9)
    p = np.asarray(camera.projection_matrix(k, rotation, t))
    assert p.shape == (3, 4)
    uv = np.asarray(camera.project_with_matrix(p, world))
    expected = np.asarray(camera.project(camera.world_to_camera(world, rotation, cam_center), FOCAL, CENTER))
    np.testing.assert_allclose(uv, expected, atol=1e-6)
    # Batched matrices: one per leading element.
    p2 = np.stack([p, p * 2.0])
    np.testing.assert_allclose(
        np.asarray(camera.project_with_matrix(p2, world)), np.stack([expected[0], expected[1]]), atol=1e-6
    )


def test_min_depth_keeps_padded_people_finite():
    points = np.zeros((1, 2, 3), np.float32)
    assert np.all(np.isfinite(np.asarray(camera.project(points, FOCAL, CENTER, min_depth=1.0))))


def test_rootnet_k_matches_formula_and_depth_scales_with_box():
    focal = np.array([[1500.0, 1400.0], [1145.0, 1143.8]])
    box = np.array([[200.0, 300.0], [120.0, 90.0]])
    k = np.asarray(camera.rootnet_k(focal, box))
    np.testing.assert_allclose(
        k, np.sqrt(2000.0 * 2000.0 * focal[:, 0] * focal[:, 1] / (box[:, 0] * box[:, 1]))
    )
    # A 2 m x 2 m person seen in a w x h box is at depth k: project its extent back.
    depth = 5000.0
    wh = np.array([2000.0 * 1500.0 / depth, 2000.0 * 1400.0 / depth])
    np.testing.assert_allclose(np.asarray(camera.rootnet_k(focal[0], wh)), depth)
