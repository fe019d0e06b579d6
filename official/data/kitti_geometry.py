"""KITTI 3D box geometry in numpy (float64): corners, projection with P2, 2D boxes, alpha <-> rotation_y.

Used by the data pipeline, the synthetic-data generator and the evaluator; the model's solver has its
own `keras.ops` form (official/vision/rtm3d/geometry.py), and a test checks the two agree.

Box convention (KITTI devkit, KM3D `compute_box_3d`): dimensions (h, w, l), location = the bottom-face
centre (x, y, z) in rectified camera coordinates (y points down), yaw `rotation_y` about the camera y
axis. Object-frame corners, in the one order the zoo uses everywhere (targets, flip pairs, solver):
    x = ( l/2,  l/2, -l/2, -l/2,  l/2,  l/2, -l/2, -l/2)
    y = (   0,    0,    0,    0,   -h,   -h,   -h,   -h)
    z = ( w/2, -w/2, -w/2,  w/2,  w/2, -w/2, -w/2,  w/2)
0-3 the bottom face, 4-7 the top face (4 above 0); keypoint 8 is the 3D centre (0, -h/2, 0).
World point = R_y(rotation_y) @ corner + location with R_y = [[c, 0, s], [0, 1, 0], [-s, 0, c]].
"""

from __future__ import annotations

import numpy as np

NUM_KEYPOINTS = 9  # 8 corners + the 3D centre
# Mirroring the image swaps these corner pairs (KM3D flip_idx, 0-based; the centre stays).
FLIP_PAIRS = ((0, 1), (2, 3), (4, 5), (6, 7))
_X = np.array([0.5, 0.5, -0.5, -0.5, 0.5, 0.5, -0.5, -0.5, 0.0])
_Y = np.array([0.0, 0.0, 0.0, 0.0, -1.0, -1.0, -1.0, -1.0, -0.5])
_Z = np.array([0.5, -0.5, -0.5, 0.5, 0.5, -0.5, -0.5, 0.5, 0.0])


def rotation_y_matrix(ry) -> np.ndarray:
    """(..., 3, 3) rotation about the camera y axis."""
    ry = np.asarray(ry, dtype=np.float64)
    c, s = np.cos(ry), np.sin(ry)
    zero, one = np.zeros_like(ry), np.ones_like(ry)
    rows = [np.stack([c, zero, s], -1), np.stack([zero, one, zero], -1), np.stack([-s, zero, c], -1)]
    return np.stack(rows, -2)


def box_keypoints_3d(dimensions, location, rotation_y) -> np.ndarray:
    """(..., 9, 3) camera-frame points: the 8 corners in the order above, then the 3D centre.

    dimensions (..., 3) = (h, w, l); location (..., 3); rotation_y (...).
    """
    dims = np.asarray(dimensions, dtype=np.float64)
    h, w, length = dims[..., 0:1], dims[..., 1:2], dims[..., 2:3]
    local = np.stack([_X * length, _Y * h, _Z * w], -1)  # (..., 9, 3)
    rot = rotation_y_matrix(rotation_y)
    return np.einsum("...ij,...kj->...ki", rot, local) + np.asarray(location, dtype=np.float64)[..., None, :]


def project(points, P) -> tuple[np.ndarray, np.ndarray]:
    """Pinhole projection with a 3x4 camera matrix: (..., N, 3) -> ((..., N, 2) pixels, (..., N) depth)."""
    points = np.asarray(points, dtype=np.float64)
    hom = np.concatenate([points, np.ones(points.shape[:-1] + (1,))], -1)
    uvw = hom @ np.asarray(P, dtype=np.float64).T
    depth = uvw[..., 2]
    return uvw[..., :2] / depth[..., None], depth


def box_keypoints_2d(dimensions, location, rotation_y, P) -> np.ndarray:
    """(..., 9, 2) image keypoints: projected corners and projected 3D centre."""
    return project(box_keypoints_3d(dimensions, location, rotation_y), P)[0]


def box2d_from_3d(dimensions, location, rotation_y, P, image_size: tuple[int, int] | None = None) -> np.ndarray:
    """(..., 4) left, top, right, bottom of the 8 projected corners, clipped to (height, width) if given."""
    uv = box_keypoints_2d(dimensions, location, rotation_y, P)[..., :8, :]
    box = np.concatenate([uv.min(-2), uv.max(-2)], -1)
    if image_size is not None:
        height, width = image_size
        box = np.clip(box, 0.0, [width - 1, height - 1, width - 1, height - 1])
    return box


def wrap_angle(angle):
    """Angles mapped to [-pi, pi)."""
    return (np.asarray(angle, dtype=np.float64) + np.pi) % (2 * np.pi) - np.pi


def alpha_from_rotation_y(rotation_y, x, z):
    """Observation angle alpha = rotation_y - atan2(x, z), wrapped (KITTI devkit readme)."""
    return wrap_angle(np.asarray(rotation_y) - np.arctan2(x, z))


def rotation_y_from_alpha(alpha, x, z):
    """rotation_y = alpha + atan2(x, z), wrapped."""
    return wrap_angle(np.asarray(alpha) + np.arctan2(x, z))


def bev_corners(location, dimensions, rotation_y) -> np.ndarray:
    """(..., 4, 2) bird's-eye-view footprint in the camera x-z plane, the bottom corners 0-3 in order."""
    return box_keypoints_3d(dimensions, location, rotation_y)[..., :4, :][..., [0, 2]]
