"""Rotation and quaternion utilities in keras.ops, batched over any leading dims (float32 or float64).

Quaternions are (..., 4) [w, x, y, z], scalar first (Scan2CAD, COLMAP, scipy's `scalar_first=True`),
and act on column vectors: R(q1 * q2) = R(q1) @ R(q2). Choices made for numerical safety:
- `matrix_to_quaternion` follows Shepperd: of the four equivalent formulas it takes the one whose
  square root is largest (always >= 1/4 of the trace sum, so no division by ~0, even at 180 degrees);
  the sign is fixed so that w >= 0.
- `axis_angle_to_matrix` writes Rodrigues with sin(t)/t and 2 sin^2(t/2)/t^2, switching to their Taylor
  series for small t, so it is exact and has finite gradients at v = 0 (SMPL's rest pose).
- the angle distances use atan2(sin, cos) rather than acos(cos), which loses half the digits for small
  angles; they equal 2 acos(|<q1, q2>|) and acos((tr(R1^T R2) - 1) / 2).
"""

from __future__ import annotations

from keras import ops

_SMALL_ANGLE_SQ = 1e-3  # below this t^2, Taylor series to t^4 (error ~ t^6 / 5040 < 2e-13)


def _unstack4(q):
    return q[..., 0], q[..., 1], q[..., 2], q[..., 3]


def quaternion_multiply(q1, q2):
    """Hamilton product q1 * q2 of (..., 4) [w, x, y, z] quaternions (broadcasts); rotate by q2, then q1."""
    q1, q2 = ops.convert_to_tensor(q1), ops.convert_to_tensor(q2)
    w1, x1, y1, z1 = _unstack4(q1)
    w2, x2, y2, z2 = _unstack4(q2)
    return ops.stack([
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
    ], axis=-1)  # fmt: skip


def quaternion_conjugate(q):
    """[w, -x, -y, -z]: the inverse rotation of a unit quaternion."""
    q = ops.convert_to_tensor(q)
    sign = ops.convert_to_tensor([1.0, -1.0, -1.0, -1.0], dtype=q.dtype)
    return q * sign


def quaternion_normalize(q, eps: float = 1e-12):
    """q / ||q|| (a zero quaternion stays zero instead of becoming NaN)."""
    q = ops.convert_to_tensor(q)
    norm = ops.sqrt(ops.sum(q * q, axis=-1, keepdims=True))
    return q / ops.maximum(norm, eps)


def quaternion_to_matrix(q):
    """(..., 3, 3) rotation matrix of (..., 4) quaternions; q need not be unit (scaled by 2 / ||q||^2)."""
    q = ops.convert_to_tensor(q)
    w, x, y, z = _unstack4(q)
    s = 2.0 / ops.maximum(ops.sum(q * q, axis=-1), 1e-24)
    rows = [
        [1.0 - s * (y * y + z * z), s * (x * y - w * z), s * (x * z + w * y)],
        [s * (x * y + w * z), 1.0 - s * (x * x + z * z), s * (y * z - w * x)],
        [s * (x * z - w * y), s * (y * z + w * x), 1.0 - s * (x * x + y * y)],
    ]
    return ops.stack([ops.stack(r, axis=-1) for r in rows], axis=-2)


def matrix_to_quaternion(rotation):
    """(..., 4) unit quaternion with w >= 0 of (..., 3, 3) rotation matrices (Shepperd's method)."""
    r = ops.convert_to_tensor(rotation)
    r00, r01, r02 = r[..., 0, 0], r[..., 0, 1], r[..., 0, 2]
    r10, r11, r12 = r[..., 1, 0], r[..., 1, 1], r[..., 1, 2]
    r20, r21, r22 = r[..., 2, 0], r[..., 2, 1], r[..., 2, 2]
    # d_i = 4 q_i^2; row i = 4 q_i * [w, x, y, z]
    d = ops.stack([1.0 + r00 + r11 + r22, 1.0 + r00 - r11 - r22,
                   1.0 - r00 + r11 - r22, 1.0 - r00 - r11 + r22], axis=-1)  # fmt: skip
    rows = ops.stack([
        ops.stack([d[..., 0], r21 - r12, r02 - r20, r10 - r01], axis=-1),
        ops.stack([r21 - r12, d[..., 1], r01 + r10, r02 + r20], axis=-1),
        ops.stack([r02 - r20, r01 + r10, d[..., 2], r12 + r21], axis=-1),
        ops.stack([r10 - r01, r02 + r20, r12 + r21, d[..., 3]], axis=-1),
    ], axis=-2)  # fmt: skip
    # the largest d_i is >= 1 (they sum to 4); clamping the others at 0.1 keeps unused rows finite
    candidates = rows / (2.0 * ops.sqrt(ops.maximum(d, 0.1)))[..., None]
    # top_k, not argmax: the first maximum either way, but Keras' float argmax adds a -0.0 fix-up that
    # TFLite cannot convert (see point_ops.composite_farthest_point_sample)
    pick = ops.one_hot(ops.top_k(d, 1)[1][..., 0], 4, dtype=r.dtype)
    q = ops.sum(candidates * pick[..., None], axis=-2)
    q = quaternion_normalize(q)
    return ops.where(q[..., :1] < 0, -q, q)


def _skew(v):
    """(..., 3, 3) cross-product matrix [v]_x."""
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    zero = ops.zeros_like(x)
    return ops.stack([ops.stack([zero, -z, y], axis=-1),
                      ops.stack([z, zero, -x], axis=-1),
                      ops.stack([-y, x, zero], axis=-1)], axis=-2)  # fmt: skip


def axis_angle_to_matrix(v):
    """(..., 3, 3) rotation of axis-angle vectors v = angle * axis (..., 3) by Rodrigues' formula:
    R = I + sin(t)/t K + (1 - cos t)/t^2 K^2 with K = [v]_x, t = ||v||; exact and smooth at v = 0."""
    v = ops.convert_to_tensor(v)
    t2 = ops.sum(v * v, axis=-1)
    small = t2 < _SMALL_ANGLE_SQ
    t = ops.sqrt(ops.where(small, ops.ones_like(t2), t2))  # never sqrt(0) on the exact branch
    half = 0.5 * t
    a = ops.where(small, 1.0 - t2 / 6.0 + t2 * t2 / 120.0, ops.sin(t) / t)
    b = ops.where(small, 0.5 - t2 / 24.0 + t2 * t2 / 720.0, 0.5 * ops.square(ops.sin(half) / half))
    k = _skew(v)
    eye = ops.eye(3, dtype=v.dtype)
    return eye + a[..., None, None] * k + b[..., None, None] * ops.matmul(k, k)


def _safe_norm(x):
    sq = ops.sum(x * x, axis=-1)
    positive = sq > 0
    return ops.where(positive, ops.sqrt(ops.where(positive, sq, ops.ones_like(sq))), ops.zeros_like(sq))


def quaternion_angle_distance(q1, q2):
    """(...) rotation angle in radians between quaternions, in [0, pi]; q and -q are the same rotation.
    Equals 2 acos(|<q1, q2>|) of the normalised inputs, computed as 2 atan2(|imag(r)|, |real(r)|) with
    r = conj(q1) * q2."""
    r = quaternion_multiply(quaternion_conjugate(quaternion_normalize(q1)), quaternion_normalize(q2))
    return 2.0 * ops.arctan2(_safe_norm(r[..., 1:]), ops.abs(r[..., 0]))


def rotation_matrix_angle_distance(r1, r2):
    """(...) angle in radians, in [0, pi], of the relative rotation R1^T R2 of (..., 3, 3) matrices:
    atan2(|axis part|, trace - 1), i.e. acos((tr(R1^T R2) - 1) / 2) without acos's loss near 0."""
    r1, r2 = ops.convert_to_tensor(r1), ops.convert_to_tensor(r2)
    rel = ops.matmul(ops.swapaxes(r1, -1, -2), r2)
    axis = ops.stack([rel[..., 2, 1] - rel[..., 1, 2], rel[..., 0, 2] - rel[..., 2, 0],
                      rel[..., 1, 0] - rel[..., 0, 1]], axis=-1)  # fmt: skip
    trace = rel[..., 0, 0] + rel[..., 1, 1] + rel[..., 2, 2]
    return ops.arctan2(_safe_norm(axis), trace - 1.0)
