"""Pinhole camera geometry for 3D human pose: intrinsics, extrinsics, projection and back-projection.

Conventions (checked against mks0601/3DMPPE_POSENET_RELEASE `common/utils/pose_utils.py` and
`data/Human36M/Human36M.py`, the code HMOR, PartAwarePose and RootNet-style readers build on):
- Camera frame: x right, y down, z forward (depth), millimetres. Image: u = column, v = row, pixels.
- `cam2pixel`: u = X / Z * fx + cx, v = Y / Z * fy + cy (3DMPPE adds 1e-8 to Z; we divide by Z itself,
  or by max(Z, min_depth) when `min_depth` is given, so padded people with Z = 0 stay finite).
  f = (fx, fy) and c = (cx, cy) are ordered (x, y), as the 3DMPPE JSON `f` / `c` fields.
- `pixel2cam`: X = (u - cx) / fx * Z, Y = (v - cy) / fy * Z, Z = Z (`back_project`).
- `world2cam(world, R, T)` = R @ (world - T): R rotates world axes into camera axes and T is the camera
  CENTRE in world coordinates (Human3.6M's `_camera.json` R and t). `world_to_camera` follows it;
  `camera_to_world` is its inverse, world = R^T cam + T.
- `projection_matrix(K, R, t)` = K [R | t] uses the usual EXTRINSIC translation (cam = R X + t, OpenCV /
  Wildtrack calibration). From a 3DMPPE camera centre T, t = -R T (`extrinsic_translation`).
- RootNet's distance prior (3DMPPE_ROOTNET `data/dataset.py`):
  k = sqrt(bbox_real_w * bbox_real_h * fx * fy / (w * h)) with bbox_real = (2000, 2000) mm and (w, h)
  the processed (aspect-fitted, 1.25x) box in original-image pixels (`rootnet_k`).

Broadcasting: camera parameters are LEFT-aligned with the points: a focal of shape (B, 2) with points
(B, J, 3) means one camera per batch element (it is expanded to (B, 1, 2)); (2,) is shared by all points.
Values are computed in the inputs' common float dtype (float64 numpy stays float64 on TensorFlow; JAX
without x64 computes in float32). Only keras.ops: runs under TensorFlow graphs, XLA and JAX.
"""

from __future__ import annotations

import keras
from keras import ops

RootNetRealArea = 2000.0 * 2000.0  # mm^2: 3DMPPE_ROOTNET cfg.bbox_real = (2000, 2000)


def _floats(*values):
    """Tensors of one float dtype: the inputs' common dtype, or floatx when none is a float."""
    tensors = [ops.convert_to_tensor(v) for v in values]
    dtype = keras.backend.result_type(*[t.dtype for t in tensors])
    if "float" not in dtype:
        dtype = keras.config.floatx()
    return [ops.cast(t, dtype) for t in tensors]


def _left_align(param, points, param_rank: int):
    """Expands `param` (..., *core) so its leading dims line up with the FIRST leading dims of `points`."""
    extra = len(points.shape) - 1 - (len(param.shape) - param_rank)
    for _ in range(max(extra, 0)):
        param = ops.expand_dims(param, -param_rank - 1)
    return param


def _matvec(matrix, vectors):
    """matrix (..., m, n) times vectors (..., n) -> (..., m), broadcasting leading dims (numpy rules)."""
    return ops.sum(matrix * ops.expand_dims(vectors, -2), axis=-1)


def project(points_cam, focal, center, min_depth: float | None = None):
    """Camera-frame points (..., 3) -> pixels (..., 2): u = fx X / Z + cx, v = fy Y / Z + cy.

    focal, center: (..., 2) as (fx, fy), (cx, cy), left-aligned with the points' leading dims.
    min_depth: if set, Z is clamped to >= min_depth before dividing (masked padding stays finite).
    """
    points_cam, focal, center = _floats(points_cam, focal, center)
    focal = _left_align(focal, points_cam, 1)
    center = _left_align(center, points_cam, 1)
    z = points_cam[..., 2:3]
    if min_depth is not None:
        z = ops.maximum(z, min_depth)
    return points_cam[..., :2] / z * focal + center


def back_project(uv, depth, focal, center):
    """Pixels (..., 2) and camera-frame depth Z (...) -> camera-frame points (..., 3) (3DMPPE pixel2cam).

    X = (u - cx) / fx * Z, Y = (v - cy) / fy * Z; the inverse of `project` for Z > 0.
    """
    uv, depth, focal, center = _floats(uv, depth, focal, center)
    focal = _left_align(focal, uv, 1)
    center = _left_align(center, uv, 1)
    z = ops.expand_dims(depth, -1)
    xy = (uv - center) / focal * z
    return ops.concatenate([xy, z], axis=-1)


def world_to_camera(points, rotation, translation):
    """World points (..., 3) -> camera frame, cam = R (X - T) (3DMPPE world2cam).

    rotation: (3, 3) or (B, 3, 3); translation: the camera centre T in world coordinates, (3,) or (B, 3);
    both left-aligned with the points (one camera per leading batch element).
    """
    points, rotation, translation = _floats(points, rotation, translation)
    rotation = _left_align(rotation, points, 2)
    translation = _left_align(translation, points, 1)
    return _matvec(rotation, points - translation)


def camera_to_world(points_cam, rotation, translation):
    """Camera-frame points (..., 3) -> world, X = R^T cam + T (inverse of `world_to_camera`)."""
    points_cam, rotation, translation = _floats(points_cam, rotation, translation)
    rotation = _left_align(rotation, points_cam, 2)
    translation = _left_align(translation, points_cam, 1)
    return _matvec(ops.swapaxes(rotation, -1, -2), points_cam) + translation


def extrinsic_translation(rotation, camera_center):
    """t = -R T: the [R | t] translation of a camera whose centre is T (world2cam's convention)."""
    rotation, camera_center = _floats(rotation, camera_center)
    return -_matvec(rotation, camera_center)


def intrinsics_matrix(focal, center):
    """(..., 2) focal and principal point -> K (..., 3, 3) = [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]."""
    focal, center = _floats(focal, center)
    zero = ops.zeros_like(focal[..., 0])
    one = ops.ones_like(focal[..., 0])
    rows = [
        ops.stack([focal[..., 0], zero, center[..., 0]], axis=-1),
        ops.stack([zero, focal[..., 1], center[..., 1]], axis=-1),
        ops.stack([zero, zero, one], axis=-1),
    ]
    return ops.stack(rows, axis=-2)


def projection_matrix(intrinsics, rotation, translation):
    """P = K [R | t] (..., 3, 4) with the extrinsic translation t (cam = R X + t)."""
    intrinsics, rotation, translation = _floats(intrinsics, rotation, translation)
    extrinsics = ops.concatenate([rotation, ops.expand_dims(translation, -1)], axis=-1)
    return ops.matmul(intrinsics, extrinsics)


def project_with_matrix(projection, points):
    """World points (..., 3) -> pixels (..., 2) through P (3, 4) or (B, 3, 4): x = P [X; 1], uv = x[:2] / x[2]."""
    projection, points = _floats(projection, points)
    projection = _left_align(projection, points, 2)
    homogeneous = ops.concatenate([points, ops.ones_like(points[..., :1])], axis=-1)
    image = _matvec(projection, homogeneous)
    return image[..., :2] / image[..., 2:3]


def rootnet_k(focal, box_wh, real_area_mm2: float = RootNetRealArea):
    """RootNet's k = sqrt(fx * fy * A_real / (w * h)) (...): the root depth of a person whose real extent is
    A_real mm^2 and whose box is w x h pixels; RootNet predicts Z = gamma * k.
    """
    focal, box_wh = _floats(focal, box_wh)
    return ops.sqrt(focal[..., 0] * focal[..., 1] * real_area_mm2 / (box_wh[..., 0] * box_wh[..., 1]))
