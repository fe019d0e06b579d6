"""Two-view geometry of Crowd3DPose: ground-plane homographies, fundamental matrix, epipolar correction, DLT.

numpy only: this is the non-differentiable part of the pipeline that runs outside any Keras graph.
Facts from the authors' code (HeCraneChen/3D-Crowd-Pose-Estimation-Based-on-MVG, optimization/pose_optimize/
multiview_geo.py; own code, not a copy):
- cameras are 3x4 projection matrices P = K [R | t] (the JSON's "P4" / "P6");
- F satisfies x_B^T F x_A = 0 (`fund_mat(P1, P2)`: F = K_B^-T [t_BA]x R_BA K_A^-1; here computed from the
  camera centre of A, F = [e_B]x P_B P_A^+, which is the same matrix up to scale);
- epipolar correction before DLT (`reconstruct_point_mini`): per joint, the distance of each point to the
  epipolar line of the other is computed; the point with the SMALLER distance is moved orthogonally onto
  the epipolar line of the other (untouched) point. The authors compare signed distances; we compare their
  magnitudes (a signed comparison moves the wrong point half of the time);
- DLT triangulation of the corrected pair (`cv2.triangulatePoints`; here a homogeneous SVD solve over any
  number of views, optionally weighted per view).
The ground homography between two cameras maps image points of the plane z = 0 in view A to view B
(GetTwoLists_pkg.py warps foot points with a per-pair H; here H comes from the calibration:
H_X = P_X[:, (0, 1, 3)] maps ground (x, y, 1) to view X, so H_AB = H_B H_A^-1).
"""

from __future__ import annotations

import numpy as np


def ground_homography(projection: np.ndarray) -> np.ndarray:
    """(3, 4) P -> (3, 3) homography from ground-plane (x, y, 1), z = 0, to image pixels."""
    return np.asarray(projection, np.float64)[:, (0, 1, 3)]


def view_homography(p_a: np.ndarray, p_b: np.ndarray) -> np.ndarray:
    """Homography that carries image points of the ground plane from view A into view B (H[2, 2] = 1)."""
    h = ground_homography(p_b) @ np.linalg.inv(ground_homography(p_a))
    return h / h[2, 2]


def apply_homography(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(..., 2) pixels -> (..., 2) pixels under the 3x3 homography h."""
    pts = np.asarray(points, np.float64)
    mapped = pts @ h[:, :2].T + h[:, 2]
    return mapped[..., :2] / mapped[..., 2:3]


def camera_center(projection: np.ndarray) -> np.ndarray:
    """(3, 4) P -> homogeneous (4,) null vector C with P C = 0 (the camera centre)."""
    _, _, vt = np.linalg.svd(np.asarray(projection, np.float64))
    return vt[-1]


def skew(v: np.ndarray) -> np.ndarray:
    """[v]x: skew(v) @ w == cross(v, w)."""
    return np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])


def fundamental_matrix(p_a: np.ndarray, p_b: np.ndarray) -> np.ndarray:
    """F with x_B^T F x_A = 0, normalised to unit Frobenius norm."""
    p_a, p_b = np.asarray(p_a, np.float64), np.asarray(p_b, np.float64)
    epipole_b = p_b @ camera_center(p_a)
    f = skew(epipole_b) @ p_b @ np.linalg.pinv(p_a)
    return f / np.linalg.norm(f)


def _homogeneous(points: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, np.float64)
    return np.concatenate([pts, np.ones(pts.shape[:-1] + (1,))], -1)


def epipolar_lines(f: np.ndarray, points_a: np.ndarray) -> np.ndarray:
    """(..., 2) points of view A -> (..., 3) lines (a, b, c) in view B with a^2 + b^2 = 1."""
    lines = _homogeneous(points_a) @ np.asarray(f).T
    return lines / np.linalg.norm(lines[..., :2], axis=-1, keepdims=True)


def point_line_distance(lines: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Signed distance of (..., 2) points to (..., 3) unit lines."""
    return np.sum(lines * _homogeneous(points), -1)


def epipolar_correct(f: np.ndarray, points_a: np.ndarray, points_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Moves, per correspondence, the point nearer to its epipolar line onto it (see the module docstring).

    Returns corrected (N, 2) points of A and B with x_B^T F x_A = 0 exactly (up to rounding).
    """
    points_a, points_b = np.asarray(points_a, np.float64), np.asarray(points_b, np.float64)
    line_b = epipolar_lines(f, points_a)  # lines in B of A's points
    line_a = epipolar_lines(f.T, points_b)  # lines in A of B's points
    dist_b = point_line_distance(line_b, points_b)
    dist_a = point_line_distance(line_a, points_a)
    moved_b = points_b - dist_b[..., None] * line_b[..., :2]
    moved_a = points_a - dist_a[..., None] * line_a[..., :2]
    move_b = np.abs(dist_b) <= np.abs(dist_a)
    out_a = np.where(move_b[..., None], points_a, moved_a)
    out_b = np.where(move_b[..., None], moved_b, points_b)
    return out_a, out_b


def triangulate(projections: np.ndarray, points: np.ndarray, weights: np.ndarray | None = None,
                normalize: bool = False) -> np.ndarray:
    """DLT: (V, 3, 4) cameras and (V, N, 2) pixels -> (N, 3) points; `weights` (V, N) >= 0 scale each view's
    two equations (0 drops a view for that point). Rows unscaled as cv2.triangulatePoints (the authors'
    call); `normalize` scales them to unit norm."""
    projections = np.asarray(projections, np.float64)
    points = np.asarray(points, np.float64)
    num_views, num_points = points.shape[:2]
    w = np.ones((num_views, num_points)) if weights is None else np.asarray(weights, np.float64)
    # Rows u P3 - P1 and v P3 - P2 per view: (N, 2V, 4).
    rows_u = points[..., 0:1] * projections[:, None, 2] - projections[:, None, 0]
    rows_v = points[..., 1:2] * projections[:, None, 2] - projections[:, None, 1]
    rows = np.stack([rows_u, rows_v], 2)  # (V, N, 2, 4)
    if normalize:
        rows = rows / np.linalg.norm(rows, axis=-1, keepdims=True)
    rows = rows * w[..., None, None]
    system = np.transpose(rows, (1, 0, 2, 3)).reshape(num_points, 2 * num_views, 4)
    _, _, vt = np.linalg.svd(system)
    x = vt[:, -1]
    return x[:, :3] / x[:, 3:4]


def project(projection: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(3, 4) P, (..., 3) points -> (..., 2) pixels, in float64 numpy for the solvers (the Keras op is
    official.ops.camera.project_with_matrix; the tests check both agree)."""
    homo = np.asarray(points, np.float64) @ np.asarray(projection, np.float64)[:, :3].T + projection[:, 3]
    return homo[..., :2] / homo[..., 2:3]
