"""3D reconstruction of one matched person: DLT start, MLE and bone-prior MAP refinement, outliers.

Our own Levenberg-Marquardt (numpy, analytic Jacobians) replaces the authors' calls of
`scipy.optimize.least_squares(method="trf", x_scale="jac")`; the tests check both reach the same
minimum within 1 mm. Facts from the authors' optimization/pose_optimize/optimize_loss.py (own code):
- MLE (`optimze_loss_2d`, ftol 1e-4): residuals = reprojection error of every joint in both views
  (lambda_reproj = 1, no scores). The authors' residual is the per-joint pixel distance; we use its
  x and y components, whose squares sum to the same objective (and whose Jacobian is defined at 0).
  Joints whose score is below `min_score` in a view are left out of that view's residuals here (the
  authors keep every joint; with occluded joints at score 0.05 that pulls the joint to a wrong 2D guess);
- MAP (`optimze_loss`, ftol 1e-2): (lambda_reproj * score_vj * reprojection error)^2 over views and
  joints plus (lambda_shape * (|X_a - X_b| - median_bone))^2 over the 26 bones of both sides
  (bones.ALL_BONES), lambda_reproj = 0.1, lambda_shape = 5.0 (tuned for the authors' units: see the card);
- start of the MAP solve (`shape_initialize`): bones longer than 1.5 x their median are shrunk to
  1.1 x the median along their direction, walking outward from the torso (the authors also re-centre the
  torso bones to a length of 1 world unit, `centerize_keypoint` ignoring its `norm_dst`; we keep the
  torso as triangulated);
- outliers (matching/CopingWithOutlier.py `CopeOutlier`): each joint's summed distance to all joints,
  sorted; a joint where the ratio to the previous sum exceeds `ratio_thresh` is an outlier and is put back
  at its median bone length from the joint it hangs off (the authors' `adjustbone` uses per-joint rules;
  ours is the generic form). `ratio_thresh` has no default in the released code (unverified: 1.3 here).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from research.three_d.crowd3dpose import bones as bone_table
from research.three_d.crowd3dpose.geometry import epipolar_correct, fundamental_matrix, triangulate


@dataclasses.dataclass
class SolveResult:
    x: np.ndarray  # solution
    cost: float  # 0.5 * sum of squared residuals (scipy's convention)
    iterations: int


def levenberg_marquardt(
    fun: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    x0: np.ndarray,
    ftol: float = 1e-8,
    xtol: float = 1e-10,
    max_iterations: int = 100,
    damping: float = 1e-3,
) -> SolveResult:
    """Minimises 0.5 ||r(x)||^2 for `fun(x) -> (r, J)` with Marquardt's diagonal scaling (the analogue of
    scipy's x_scale="jac"): steps solve (J^T J + mu diag(J^T J)) dx = -J^T r; mu shrinks after a step that
    lowers the cost and grows otherwise. Stops when the relative cost decrease falls below `ftol` or the
    step below `xtol` (relative to |x|)."""
    x = np.asarray(x0, np.float64).copy()
    r, jac = fun(x)
    cost = 0.5 * float(r @ r)
    mu = damping
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        jtj = jac.T @ jac
        grad = jac.T @ r
        diag = np.maximum(np.diag(jtj), 1e-12)
        accepted = False
        for _ in range(30):
            step = np.linalg.solve(jtj + mu * np.diag(diag), -grad)
            r_new, jac_new = fun(x + step)
            cost_new = 0.5 * float(r_new @ r_new)
            if cost_new < cost:
                accepted = True
                break
            mu *= 4.0
        if not accepted:
            break
        decrease = cost - cost_new
        x, r, jac = x + step, r_new, jac_new
        small_step = np.linalg.norm(step) <= xtol * (xtol + np.linalg.norm(x))
        converged = decrease <= ftol * cost or small_step
        cost = cost_new
        mu = max(mu / 3.0, 1e-12)
        if converged:
            break
    return SolveResult(x=x, cost=cost, iterations=iterations)


def reprojection_residuals(
    x: np.ndarray, projections: np.ndarray, observed: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """x (J*3,), cameras (V, 3, 4), observed (V, J, 2), weights (V, J) -> residuals (V*J*2,) =
    weight * (projection - observed) and their (V*J*2, J*3) Jacobian."""
    points = x.reshape(-1, 3)
    num_joints = points.shape[0]
    homo = np.einsum("vij,nj->vni", projections[:, :, :3], points) + projections[:, None, :, 3]  # (V, J, 3)
    depth = homo[..., 2:3]
    uv = homo[..., :2] / depth
    residual = (uv - observed) * weights[..., None]
    # d(u, v)/dX = (P_row - (u, v) P_3) / depth, per view and joint: (V, J, 2, 3).
    rows = projections[:, None, :2, :3] - uv[..., None] * projections[:, None, 2:3, :3]
    blocks = rows / depth[..., None] * weights[..., None, None]
    jac = np.zeros((projections.shape[0], num_joints, 2, num_joints, 3))
    idx = np.arange(num_joints)
    jac[:, idx, :, idx, :] = np.transpose(blocks, (1, 0, 2, 3))
    return residual.reshape(-1), jac.reshape(-1, num_joints * 3)


def bone_residuals(x: np.ndarray, targets: np.ndarray, weight: float) -> tuple[np.ndarray, np.ndarray]:
    """weight * (|X_end - X_start| - target) over bones.ALL_BONES and the Jacobian (the authors take the
    absolute value of the difference: the same squared objective)."""
    points = x.reshape(-1, 3)
    starts, ends = bone_table.ALL_BONES[:, 0], bone_table.ALL_BONES[:, 1]
    vec = points[ends] - points[starts]
    length = np.maximum(np.linalg.norm(vec, axis=-1), 1e-12)
    residual = weight * (length - targets)
    unit = weight * vec / length[:, None]
    jac = np.zeros((len(starts), points.shape[0], 3))
    rows = np.arange(len(starts))
    np.add.at(jac, (rows, ends), unit)
    np.add.at(jac, (rows, starts), -unit)
    return residual, jac.reshape(len(starts), -1)


def initial_pose(projections: np.ndarray, keypoints: np.ndarray, min_score: float = 0.1) -> np.ndarray:
    """DLT start (J, 3) from (V, 3, 4) cameras and (V, J, 3) keypoints (x, y, score). Two views: the
    authors' epipolar correction first; more views: a DLT over the views whose score >= min_score."""
    projections = np.asarray(projections, np.float64)
    keypoints = np.asarray(keypoints, np.float64)
    points = keypoints[..., :2]
    if len(projections) == 2:
        f = fundamental_matrix(projections[0], projections[1])
        a, b = epipolar_correct(f, points[0], points[1])
        return triangulate(projections, np.stack([a, b]))
    weights = (keypoints[..., 2] >= min_score).astype(np.float64)
    weights[:, weights.sum(0) < 2] = 1.0  # joints seen confidently in < 2 views: use every view
    return triangulate(projections, points, weights)


def mle_refine(
    projections: np.ndarray,
    keypoints: np.ndarray,
    start: np.ndarray | None = None,
    min_score: float = 0.1,
    ftol: float = 1e-4,
    max_iterations: int = 100,
) -> np.ndarray:
    """MLE: reprojection error over views (joints with score >= min_score) from the DLT start."""
    projections = np.asarray(projections, np.float64)
    keypoints = np.asarray(keypoints, np.float64)
    start = initial_pose(projections, keypoints, min_score) if start is None else start
    weights = (keypoints[..., 2] >= min_score).astype(np.float64)

    def fun(x):
        return reprojection_residuals(x, projections, keypoints[..., :2], weights)

    return levenberg_marquardt(fun, start.reshape(-1), ftol=ftol, max_iterations=max_iterations).x.reshape(-1, 3)


def map_residuals(projections, keypoints, medians, lambda_reproj, lambda_shape) -> Callable:
    """The MAP residual function x -> (r, J) (reprojection weighted by lambda_reproj * score; bones)."""
    targets = bone_table.median_per_bone(np.asarray(medians, np.float64))
    weights = lambda_reproj * keypoints[..., 2]

    def fun(x):
        r1, j1 = reprojection_residuals(x, projections, keypoints[..., :2], weights)
        if lambda_shape == 0.0:
            return r1, j1
        r2, j2 = bone_residuals(x, targets, lambda_shape)
        return np.concatenate([r1, r2]), np.concatenate([j1, j2])

    return fun


def shape_initialize(pose: np.ndarray, medians: np.ndarray, outlier_ratio: float = 1.5,
                     draw_back: float = 1.1) -> np.ndarray:
    """Shrinks bones longer than outlier_ratio x median to draw_back x median, walking outward (bones
    2..12 of each side; the torso's four corners stay)."""
    pose = np.asarray(pose, np.float64)
    new = pose.copy()
    for table in (bone_table.LEFT_BONES, bone_table.RIGHT_BONES):
        for i in range(2, len(table)):
            start, end = table[i]
            vec = pose[end] - pose[start]
            ratio = np.linalg.norm(vec) / medians[i]
            scale = draw_back / ratio if ratio >= outlier_ratio else 1.0
            new[end] = new[start] + vec * scale
    return new


def map_refine(
    projections: np.ndarray,
    keypoints: np.ndarray,
    medians: np.ndarray,
    start: np.ndarray,
    lambda_reproj: float = 0.1,
    lambda_shape: float = 5.0,
    ftol: float = 1e-2,
    max_iterations: int = 100,
    initialize: bool = True,
) -> np.ndarray:
    """MAP with the bone prior, from `start` (the MLE pose) after `shape_initialize` when `initialize`."""
    projections = np.asarray(projections, np.float64)
    keypoints = np.asarray(keypoints, np.float64)
    x0 = shape_initialize(start, medians) if initialize else np.asarray(start, np.float64)
    fun = map_residuals(projections, keypoints, medians, lambda_reproj, lambda_shape)
    return levenberg_marquardt(fun, x0.reshape(-1), ftol=ftol, max_iterations=max_iterations).x.reshape(-1, 3)


def _parents() -> dict[int, tuple[int, int]]:
    """joint -> (joint it hangs off, bone index into the 13 medians), from both sides' bone lists."""
    parents: dict[int, tuple[int, int]] = {}
    for table in (bone_table.LEFT_BONES, bone_table.RIGHT_BONES):
        for i, (start, end) in enumerate(table):
            if i >= 2:
                parents.setdefault(end, (start, i))
    return parents


def cope_outliers(pose: np.ndarray, medians: np.ndarray, ratio_thresh: float = 1.3) -> tuple[np.ndarray, list[int]]:
    """Returns the pose with outlier joints re-placed and their indices (see the module docstring)."""
    pose = np.asarray(pose, np.float64).copy()
    sums = np.linalg.norm(pose[:, None] - pose[None], axis=-1).sum(1)
    order = np.argsort(sums, kind="stable")
    ratios = sums[order[1:]] / np.maximum(sums[order[:-1]], 1e-12)
    outliers = [int(order[k + 1]) for k in np.nonzero(ratios > ratio_thresh)[0]]
    parents = _parents()
    for joint in outliers:
        if joint not in parents:
            continue  # torso corners: no parent to hang off
        parent, bone = parents[joint]
        vec = pose[joint] - pose[parent]
        pose[joint] = pose[parent] + vec / max(np.linalg.norm(vec), 1e-12) * medians[bone]
    return pose, outliers
