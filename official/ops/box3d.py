"""KITTI 3D box geometry in keras.ops: box keypoints, P2 projection, alpha -> rotation_y, multi-bin angles.

The `keras.ops` form of official/data/kitti_geometry.py (the numpy reference; a test checks they agree),
for the model's decoder and solver (official/vision/rtm3d/geometry.py). Same conventions: dimensions
(h, w, l), location = the bottom-face centre in rectified camera coordinates (y down), yaw `rotation_y`
about the camera y axis, R_y = [[c, 0, s], [0, 1, 0], [-s, 0, c]], object-frame keypoints
    x = ( l/2,  l/2, -l/2, -l/2,  l/2,  l/2, -l/2, -l/2,    0)
    y = (   0,    0,    0,    0,   -h,   -h,   -h,   -h, -h/2)
    z = ( w/2, -w/2, -w/2,  w/2,  w/2, -w/2, -w/2,  w/2,    0)
(corners 0-3 bottom, 4-7 top, keypoint 8 the 3D centre).

Orientation (KM3D, CenterNet's 2-bin scheme): the network predicts the observation angle alpha as an
8-vector rot = [bin1 logit0, bin1 logit1, sin1, cos1, bin2 logit0, bin2 logit1, sin2, cos2]. Bin 1
covers alpha < pi/6 or alpha > 5 pi/6 with residual alpha + pi/2 (its centre is -pi/2), bin 2 covers
alpha > -pi/6 or alpha < -5 pi/6 with residual alpha - pi/2 (centre +pi/2); the bins overlap around 0
and +-pi. Decoding picks bin 1 when rot[1] > rot[5] (ties go to bin 2) and, as KM3D's `gen_position`
does, takes the residual as atan(sin / cos) -- the arctangent of the ratio, not atan2 -- so the decoded
alpha is only known modulo pi unless the chosen bin's residual lies in (-pi/2, pi/2) (bin 1 for
alpha < 0, bin 2 for alpha > 0). A box turned by pi has the same corners, so 3D IoU does not see it;
orientation similarity (AOS) does. `mode="atan2"` decodes with atan2 (CenterNet's `get_alpha`).
rotation_y = alpha + atan2(u_centre - cx, fx) with u_centre the image column of keypoint 8 (KM3D's
ray angle; it ignores P2's 4th column, so it differs from the devkit's atan2(x, z) by O(P2[0,3] / (fx z))).

All functions are keras.ops only: they run under TensorFlow and JAX and trace into stock TF ops.
"""

from __future__ import annotations

import math

from keras import ops

_X = (0.5, 0.5, -0.5, -0.5, 0.5, 0.5, -0.5, -0.5, 0.0)
_Y = (0.0, 0.0, 0.0, 0.0, -1.0, -1.0, -1.0, -1.0, -0.5)
_Z = (0.5, -0.5, -0.5, 0.5, 0.5, -0.5, -0.5, 0.5, 0.0)
NUM_KEYPOINTS = 9


def _float(x, dtype=None):
    x = ops.convert_to_tensor(x)
    if dtype is None:
        dtype = x.dtype if "float" in str(x.dtype) else "float32"
    return ops.cast(x, dtype)


def wrap_angle(angle):
    """Angles mapped to [-pi, pi) (floor modulo, as kitti_geometry.wrap_angle)."""
    angle = _float(angle)
    two_pi = 2.0 * math.pi
    return angle - two_pi * ops.floor((angle + math.pi) / two_pi)


def box_local_keypoints(dimensions):
    """(..., 9, 3) object-frame keypoints relative to the bottom centre, before rotation."""
    dims = _float(dimensions)
    h, w, length = dims[..., 0:1], dims[..., 1:2], dims[..., 2:3]
    sx = ops.convert_to_tensor(_X, dtype=dims.dtype)
    sy = ops.convert_to_tensor(_Y, dtype=dims.dtype)
    sz = ops.convert_to_tensor(_Z, dtype=dims.dtype)
    return ops.stack([sx * length, sy * h, sz * w], axis=-1)


def rotate_y(points, rotation_y):
    """R_y(rotation_y) applied to (..., N, 3) points; rotation_y (...)."""
    c = ops.cos(rotation_y)[..., None]
    s = ops.sin(rotation_y)[..., None]
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    return ops.stack([c * x + s * z, y, c * z - s * x], axis=-1)


def box_keypoints_3d(dimensions, location, rotation_y):
    """(..., 9, 3) camera-frame keypoints: the 8 corners then the 3D centre.

    dimensions (..., 3) = (h, w, l); location (..., 3) the bottom centre; rotation_y (...).
    """
    dims = _float(dimensions)
    location = _float(location, dims.dtype)
    rotation_y = _float(rotation_y, dims.dtype)
    return rotate_y(box_local_keypoints(dims), rotation_y) + location[..., None, :]


def _expand_camera(P, rank):
    """P (3, 4) unchanged, or (B, 3, 4) reshaped to (B, 1, ..., 1, 3, 4) with `rank` leading dims in all."""
    if len(P.shape) == 2:
        return P
    return ops.reshape(P, (-1,) + (1,) * (rank - 1) + (3, 4))


def project_points(points, P):
    """Pinhole projection of (B, ..., N, 3) points with P (B, 3, 4) (or one (3, 4) for all).

    Returns ((B, ..., N, 2) pixels, (B, ..., N) depth = the third homogeneous coordinate).
    """
    points = _float(points)
    P = _expand_camera(_float(P, points.dtype), len(points.shape) - 2)
    uvw = ops.einsum("...ij,...nj->...ni", P[..., :3], points) + P[..., None, :, 3]
    depth = uvw[..., 2]
    return uvw[..., :2] / depth[..., None], depth


def box_keypoints_2d(dimensions, location, rotation_y, P):
    """(B, ..., 9, 2) image keypoints of boxes (B, ..., 3) with P (B, 3, 4)."""
    return project_points(box_keypoints_3d(dimensions, location, rotation_y), P)[0]


def rotation_y_from_alpha(alpha, u_centre, P):
    """KM3D's rotation_y = wrap(alpha + atan2(u_centre - cx, fx)); alpha, u_centre (B, ...), P (B, 3, 4) or (3, 4)."""
    alpha = _float(alpha)
    u_centre = _float(u_centre, alpha.dtype)
    P = _expand_camera(_float(P, alpha.dtype), max(len(alpha.shape), 1))
    fx, cx = P[..., 0, 0], P[..., 0, 2]
    return wrap_angle(alpha + ops.arctan2(u_centre - cx, fx))


def alpha_from_rotation_y(rotation_y, u_centre, P):
    """The inverse of `rotation_y_from_alpha`: wrap(rotation_y - atan2(u_centre - cx, fx))."""
    rotation_y = _float(rotation_y)
    u_centre = _float(u_centre, rotation_y.dtype)
    P = _expand_camera(_float(P, rotation_y.dtype), max(len(rotation_y.shape), 1))
    return wrap_angle(rotation_y - ops.arctan2(u_centre - P[..., 0, 2], P[..., 0, 0]))


def multibin_encode(alpha):
    """KM3D's training targets: (bins (..., 2) int32 in {0, 1}, residuals (..., 2), 0 where a bin is off)."""
    alpha = _float(alpha)
    on1 = ops.logical_or(alpha < math.pi / 6.0, alpha > 5.0 * math.pi / 6.0)
    on2 = ops.logical_or(alpha > -math.pi / 6.0, alpha < -5.0 * math.pi / 6.0)
    zero = ops.zeros_like(alpha)
    res1 = ops.where(on1, alpha + 0.5 * math.pi, zero)
    res2 = ops.where(on2, alpha - 0.5 * math.pi, zero)
    bins = ops.cast(ops.stack([on1, on2], axis=-1), "int32")
    return bins, ops.stack([res1, res2], axis=-1)


def _atan_ratio(sin, cos, eps):
    """atan(sin / cos) with |cos| kept >= eps (sign kept, +0 counts as positive)."""
    safe = ops.where(ops.abs(cos) < eps, ops.where(cos < 0, -eps, eps), cos)
    return ops.arctan(sin / safe)


def multibin_decode(rot, mode: str = "km3d", eps: float = 1e-7):
    """alpha (...) from the 8-vector rot (..., 8): bin 1 when rot[1] > rot[5], else bin 2.

    mode "km3d" (default) takes atan(sin / cos) as KM3D's gen_position (alpha known modulo pi, see the
    module docstring); "atan2" takes atan2(sin, cos) and wraps the result to [-pi, pi).
    """
    rot = _float(rot)
    if mode == "km3d":
        res1 = _atan_ratio(rot[..., 2], rot[..., 3], eps)
        res2 = _atan_ratio(rot[..., 6], rot[..., 7], eps)
    elif mode == "atan2":
        res1 = ops.arctan2(rot[..., 2], rot[..., 3])
        res2 = ops.arctan2(rot[..., 6], rot[..., 7])
    else:
        raise ValueError(f"mode must be 'km3d' or 'atan2', got {mode!r}")
    alpha = ops.where(rot[..., 1] > rot[..., 5], res1 - 0.5 * math.pi, res2 + 0.5 * math.pi)
    return alpha if mode == "km3d" else wrap_angle(alpha)
