"""RTM3D / KM3D geometry: 9 image keypoints + dimensions + orientation -> a 3D box, in keras.ops.

Two solvers, both batched over objects (any leading shape (B, ...), one camera P2 (B, 3, 4) per image or
one (3, 4) for all), fixed shapes, no data-dependent Python control flow:

* `solve_location_grm` -- KM3D's geometric reasoning module (`Position_loss` / `gen_position`): with
  dimensions and yaw known, each keypoint i at image point (u_i, v_i) and object-frame offset o_i
  (R(yaw) applied to the i-th box keypoint, relative to the box's bottom centre L) satisfies
      (P_0 - u_i P_2) . [L + o_i; 1] = 0,   (P_1 - v_i P_2) . [L + o_i; 1] = 0
  (P_r the rows of the full 3x4 P2), two equations linear in L. KM3D writes them in normalised
  coordinates with f = P2[0, 0], cx, cy only (dropping P2's 4th column) and for the 3D centre
  T = L - (0, h/2, 0); we keep the full P2 and solve for L directly, which is the same system with
  o_i shifted by (0, -h/2, 0). The weighted normal equations (A^T W A + ridge I) L = A^T W b are solved
  per object; rows are divided by fx so A is O(1). Per-keypoint weights mask invisible keypoints (KM3D
  trains with all 9 at weight 1 and decodes with the 8 corners). Differentiable in every input.

* `solve_box_gauss_newton` -- the RTM3D paper's energy minimisation over (h, w, l, yaw, x, y, z):
      E = sum_i w_i |pi(P2, X_i(h, w, l, yaw, x, y, z)) - k_i|^2
          + lambda_d |D - D_pred|^2 + lambda_o (yaw - yaw_pred)^2
  with X_i the 9 box keypoints, residuals in pixels, D = (h, w, l). It runs a fixed number of
  Levenberg-Marquardt steps (Gauss-Newton with damping mu diag(J^T J) + 1e-9 I; a step is kept only
  if it lowers E, otherwise mu grows x10; on success mu shrinks x0.1) from the GRM location and the
  predicted dimensions and yaw. The Jacobian is analytic: d pi / d X = (P[:2, :3] - pi P[2, :3]) / depth
  and dX / d(h, w, l, yaw, x, y, z) from X = R(yaw) diag(l, h, w) s_i + L.
  DEFAULT PRIOR WEIGHTS ARE A RECONSTRUCTION: the paper names weights for the dimension and
  orientation terms but gives no values. We use lambda_d = lambda_o = 100 (pixels^2 per m^2 and per
  rad^2): a 0.1 m dimension change or a 0.1 rad yaw change costs as much as 1 px of reprojection error,
  so with a few-pixel keypoint error at KITTI depths the priors keep the box near the network's
  prediction while the keypoints move it where they agree.

`solve_box(..., method="gauss_newton" | "grm")` dispatches; `decode_boxes` goes from the network's
dimension and 8-vector orientation output (official/ops/box3d.py multibin_decode) to boxes.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from official.ops import box3d

DEFAULT_PRIOR_WEIGHTS = (100.0, 100.0)  # (lambda_d, lambda_o): a reconstruction, see the module docstring


def _camera(P2, dtype, rank):
    """P2 as (B, 1, ..., 1, 3, 4) with `rank` leading dims (or the shared (3, 4))."""
    P = ops.cast(ops.convert_to_tensor(P2), dtype)
    if len(P.shape) == 2:
        return P
    return ops.reshape(P, (-1,) + (1,) * (rank - 1) + (3, 4))


def _prepare(keypoints, weights, dimensions):
    keypoints = ops.convert_to_tensor(keypoints)
    dtype = keypoints.dtype if "float" in str(keypoints.dtype) else "float32"
    keypoints = ops.cast(keypoints, dtype)
    weights = ops.cast(ops.convert_to_tensor(weights), dtype)
    dimensions = ops.cast(ops.convert_to_tensor(dimensions), dtype)
    return keypoints, weights, dimensions, dtype


def solve_3x3(matrix, rhs, eps: float = 1e-12):
    """x with matrix @ x = rhs for (..., 3, 3) and (..., 3), by the adjugate (Cramer's rule).

    Never raises: a (near-)singular system, such as a padded object row whose keypoints are all zero,
    gets its determinant clamped away from 0 and a finite (meaningless) answer, where TensorFlow's
    MatrixSolve would stop the whole batch with "Input matrix is not invertible".
    """
    m = matrix
    c0 = ops.cross(m[..., 1, :], m[..., 2, :])
    c1 = ops.cross(m[..., 2, :], m[..., 0, :])
    c2 = ops.cross(m[..., 0, :], m[..., 1, :])
    det = ops.sum(m[..., 0, :] * c0, axis=-1)
    det = ops.where(ops.abs(det) < eps, ops.where(det < 0, -eps, eps), det)
    adjugate = ops.stack([c0, c1, c2], axis=-1)  # inverse = adjugate / det
    return ops.einsum("...ij,...j->...i", adjugate, rhs) / det[..., None]


def solve_location_grm(keypoints, weights, dimensions, rotation_y, P2, ridge: float = 1e-9):
    """Bottom-centre location (B, ..., 3) by weighted linear least squares (KM3D's GRM, full P2).

    keypoints (B, ..., 9, 2) pixels in the corner order of official/data/kitti_geometry.py (8 = the 3D
    centre); weights (B, ..., 9) >= 0; dimensions (B, ..., 3) = (h, w, l); rotation_y (B, ...);
    P2 (B, 3, 4) or (3, 4). `ridge` (times the identity, added to the fx-normalised normal matrix)
    keeps objects with fewer than two weighted keypoints finite (they come out near 0).
    """
    keypoints, weights, dimensions, dtype = _prepare(keypoints, weights, dimensions)
    rotation_y = ops.cast(ops.convert_to_tensor(rotation_y), dtype)
    P = _camera(P2, dtype, len(dimensions.shape) - 1)
    P = P / P[..., 0:1, 0:1]  # rows / fx: the coefficients below are O(1)
    offsets = box3d.rotate_y(box3d.box_local_keypoints(dimensions), rotation_y)  # (..., 9, 3)
    u, v = keypoints[..., 0:1], keypoints[..., 1:2]
    row0, row1, row2 = P[..., None, 0, :], P[..., None, 1, :], P[..., None, 2, :]
    rows = ops.concatenate([row0 - u * row2, row1 - v * row2], axis=-2)  # (..., 18, 4)
    coef = rows[..., :3]
    rhs = -(ops.sum(coef * ops.concatenate([offsets, offsets], axis=-2), axis=-1) + rows[..., 3])
    w = ops.concatenate([weights, weights], axis=-1)  # (..., 18)
    normal = ops.einsum("...ni,...n,...nj->...ij", coef, w, coef)
    normal = normal + ridge * ops.eye(3, dtype=dtype)
    target = ops.einsum("...ni,...n->...i", coef, w * rhs)
    return solve_3x3(normal, target)


def _residuals_and_jacobian(params, keypoints, sqrt_w, P, dims_prior, yaw_prior, sqrt_ld, sqrt_lo):
    """Residuals (..., 22) and their Jacobian (..., 22, 7) at params (..., 7) = (h, w, l, yaw, x, y, z)."""
    dtype = params.dtype
    dims, yaw, loc = params[..., 0:3], params[..., 3], params[..., 4:7]
    h, w, length = dims[..., 0:1], dims[..., 1:2], dims[..., 2:3]
    sx = ops.convert_to_tensor(box3d._X, dtype=dtype)
    sy = ops.convert_to_tensor(box3d._Y, dtype=dtype)
    sz = ops.convert_to_tensor(box3d._Z, dtype=dtype)
    c, s = ops.cos(yaw)[..., None], ops.sin(yaw)[..., None]  # (..., 1)
    lx, ly, lz = sx * length, sy * h, sz * w  # (..., 9)
    points = ops.stack([c * lx + s * lz, ly, c * lz - s * lx], axis=-1) + loc[..., None, :]
    uvw = ops.einsum("...ij,...nj->...ni", P[..., :3], points) + P[..., None, :, 3]
    depth = uvw[..., 2:3]
    uv = uvw[..., :2] / depth  # (..., 9, 2)
    r_kp = sqrt_w[..., None] * (uv - keypoints)
    # d uv / d X (..., 9, 2, 3)
    d_proj = (P[..., None, :2, :3] - uv[..., :, None] * P[..., None, 2:3, :3]) / depth[..., None]
    zeros, ones = ops.zeros_like(lx), ops.ones_like(lx)
    cols = [
        ops.stack([zeros, sy * ones, zeros], axis=-1),  # d/dh
        ops.stack([s * sz, zeros, c * sz], axis=-1),  # d/dw
        ops.stack([c * sx, zeros, -s * sx], axis=-1),  # d/dl
        ops.stack([-s * lx + c * lz, zeros, -c * lx - s * lz], axis=-1),  # d/dyaw
        ops.stack([ones, zeros, zeros], axis=-1),  # d/dx
        ops.stack([zeros, ones, zeros], axis=-1),  # d/dy
        ops.stack([zeros, zeros, ones], axis=-1),  # d/dz
    ]
    d_points = ops.stack(cols, axis=-1)  # (..., 9, 3, 7)
    j_kp = ops.einsum("...nij,...njk->...nik", d_proj, d_points) * sqrt_w[..., None, None]
    lead = tuple(ops.shape(params)[:-1])
    r_kp = ops.reshape(r_kp, lead + (18,))
    j_kp = ops.reshape(j_kp, lead + (18, 7))
    r_dims = sqrt_ld * (dims - dims_prior)
    r_yaw = sqrt_lo * (yaw - yaw_prior)[..., None]
    prior_j = ops.convert_to_tensor(
        [
            [sqrt_ld, 0, 0, 0, 0, 0, 0],
            [0, sqrt_ld, 0, 0, 0, 0, 0],
            [0, 0, sqrt_ld, 0, 0, 0, 0],
            [0, 0, 0, sqrt_lo, 0, 0, 0],
        ],
        dtype=dtype,
    )
    prior_j = ops.broadcast_to(prior_j, lead + (4, 7))
    residuals = ops.concatenate([r_kp, r_dims, r_yaw], axis=-1)
    jacobian = ops.concatenate([j_kp, prior_j], axis=-2)
    return residuals, jacobian


def box_energy(
    keypoints,
    weights,
    dimensions,
    rotation_y,
    location,
    P2,
    dims_prior,
    yaw_prior,
    prior_weights=DEFAULT_PRIOR_WEIGHTS,
):
    """E of `solve_box_gauss_newton` (B, ...) at a box: the sum of squared residuals."""
    keypoints, weights, dimensions, dtype = _prepare(keypoints, weights, dimensions)
    params = ops.concatenate(
        [dimensions, ops.cast(rotation_y, dtype)[..., None], ops.cast(location, dtype)], axis=-1
    )
    P = _camera(P2, dtype, len(dimensions.shape) - 1)
    sqrt_ld, sqrt_lo = (float(x) ** 0.5 for x in prior_weights)
    r, _ = _residuals_and_jacobian(
        params,
        keypoints,
        ops.sqrt(weights),
        P,
        ops.cast(dims_prior, dtype),
        ops.cast(yaw_prior, dtype),
        sqrt_ld,
        sqrt_lo,
    )
    return ops.sum(r * r, axis=-1)


def solve_box_gauss_newton(
    keypoints,
    weights,
    dims_init,
    yaw_init,
    loc_init,
    P2,
    iterations: int = 10,
    prior_weights=DEFAULT_PRIOR_WEIGHTS,
    damping: float = 1e-3,
):
    """Levenberg-Marquardt on the RTM3D energy: (dimensions (B, ..., 3), rotation_y (B, ...), location (B, ..., 3)).

    keypoints (B, ..., 9, 2) pixels; weights (B, ..., 9) per-keypoint weights (0 = ignore); dims_init
    (B, ..., 3) and yaw_init (B, ...) are both the start and the prior targets (the network's
    prediction); loc_init (B, ..., 3) the start location (the GRM solution); P2 (B, 3, 4) or (3, 4).
    prior_weights = (lambda_d, lambda_o); `damping` the initial mu. The returned yaw is wrapped to [-pi, pi).
    """
    keypoints, weights, dims_init, dtype = _prepare(keypoints, weights, dims_init)
    yaw_init = ops.cast(ops.convert_to_tensor(yaw_init), dtype)
    loc_init = ops.cast(ops.convert_to_tensor(loc_init), dtype)
    P = _camera(P2, dtype, len(dims_init.shape) - 1)
    sqrt_w = ops.sqrt(ops.maximum(weights, 0.0))
    sqrt_ld, sqrt_lo = (float(x) ** 0.5 for x in prior_weights)
    eye = ops.eye(7, dtype=dtype)

    def evaluate(p):
        return _residuals_and_jacobian(p, keypoints, sqrt_w, P, dims_init, yaw_init, sqrt_ld, sqrt_lo)

    params = ops.concatenate([dims_init, yaw_init[..., None], loc_init], axis=-1)
    r, jac = evaluate(params)
    cost = ops.sum(r * r, axis=-1)
    mu = ops.full(ops.shape(cost), damping, dtype=dtype)
    # Steps that raise E by less than the rounding of E itself still count as progress: in float32 the
    # pixel residuals carry ~1e-4 px rounding, enough to stall a strict "E must fall" rule mm away from
    # the optimum along the flat depth-vs-size valley. float64: the slack is 2e-13.
    slack = 1000.0 * float(np.finfo(keras.backend.standardize_dtype(dtype)).eps)

    def step(_, state):
        params, r, jac, cost, mu = state
        jtj = ops.einsum("...ni,...nj->...ij", jac, jac)
        grad = ops.einsum("...ni,...n->...i", jac, r)
        diag = ops.diagonal(jtj, axis1=-2, axis2=-1)
        # A trace-relative ridge keeps the system positive definite in float32 (TF's MatrixSolve raises
        # on an exactly singular matrix, e.g. padded rows).
        ridge = 1e-7 * ops.sum(diag, axis=-1) + 1e-9
        damped = jtj + mu[..., None, None] * (eye * diag[..., None, :]) + ridge[..., None, None] * eye
        trial = params + ops.linalg.solve(damped, -grad[..., None])[..., 0]
        r_new, jac_new = evaluate(trial)
        cost_new = ops.sum(r_new * r_new, axis=-1)
        accept = cost_new < cost * (1.0 + slack)  # False for NaN
        return (
            ops.where(accept[..., None], trial, params),
            ops.where(accept[..., None], r_new, r),
            ops.where(accept[..., None, None], jac_new, jac),
            ops.where(accept, cost_new, cost),
            ops.where(accept, ops.maximum(mu * 0.1, 1e-12), ops.minimum(mu * 10.0, 1e12)),
        )

    # a fixed-count loop: one traced body (tf.while_loop / lax.fori_loop), no data-dependent control flow
    params = ops.fori_loop(0, iterations, step, (params, r, jac, cost, mu))[0]
    return params[..., 0:3], box3d.wrap_angle(params[..., 3]), params[..., 4:7]


def solve_box(
    keypoints,
    weights,
    dimensions,
    rotation_y,
    P2,
    method: str = "gauss_newton",
    iterations: int = 10,
    prior_weights=DEFAULT_PRIOR_WEIGHTS,
):
    """(dimensions, rotation_y, location) of each object: "grm" keeps the given dimensions and yaw and
    solves the location; "gauss_newton" refines all seven from the GRM location."""
    if method not in ("gauss_newton", "grm"):
        raise ValueError(f"method must be 'gauss_newton' or 'grm', got {method!r}")
    keypoints, weights, dimensions, dtype = _prepare(keypoints, weights, dimensions)
    rotation_y = ops.cast(ops.convert_to_tensor(rotation_y), dtype)
    location = solve_location_grm(keypoints, weights, dimensions, rotation_y, P2)
    if method == "grm":
        return dimensions, rotation_y, location
    return solve_box_gauss_newton(
        keypoints,
        weights,
        dimensions,
        rotation_y,
        location,
        P2,
        iterations=iterations,
        prior_weights=prior_weights,
    )


def decode_boxes(
    keypoints,
    weights,
    dimensions,
    rot,
    P2,
    method: str = "gauss_newton",
    iterations: int = 10,
    prior_weights=DEFAULT_PRIOR_WEIGHTS,
    rot_mode: str = "km3d",
):
    """From network outputs to boxes: alpha = multibin_decode(rot (B, ..., 8)), rotation_y from alpha and
    the centre keypoint (keypoint 8) as KM3D, then `solve_box`. Returns (dimensions, rotation_y, location)."""
    keypoints, weights, dimensions, dtype = _prepare(keypoints, weights, dimensions)
    alpha = box3d.multibin_decode(ops.cast(ops.convert_to_tensor(rot), dtype), mode=rot_mode)
    rotation_y = box3d.rotation_y_from_alpha(
        alpha, keypoints[..., 8, 0], ops.cast(ops.convert_to_tensor(P2), dtype)
    )
    return solve_box(
        keypoints,
        weights,
        dimensions,
        rotation_y,
        P2,
        method=method,
        iterations=iterations,
        prior_weights=prior_weights,
    )
