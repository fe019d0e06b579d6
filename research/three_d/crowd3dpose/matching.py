"""Cross-view person matching: the paper's feet-on-the-ground graph, and the epipolar baseline.

Facts from the authors' code (matching/GetTwoLists_pkg.py, Epolar_cost.py; own code, not a copy):
- foot point per foot (`GetTwoLists`): among big toe, small toe and heel (left 17-19, right 20-22) with
  score >= 0.2, the lowest in the image (largest y); a foot with none copies the other foot; a person
  with neither is skipped; people whose feet lie within `edge_thresh` px of the image border are
  dropped (in their own view, and after warping into the other view, `GetProjectLists`);
- feet of view A are warped into view B by the ground-plane homography and matched as a bipartite graph
  solved by linear assignment (scipy.optimize.linear_sum_assignment; here with a per-person "unmatched"
  option at the rejection cost, see `assign`);
- epipolar baseline (`epolar_cost_function`): cost(i, j) = sum over joints with score > 0.1 (the authors
  test view A's score twice; we require both) of |distance of B's joint to the epipolar line of A's|,
  divided by the largest entry of the matrix.
Not in the released code (the notebook with the edge weights is not readable), so reconstructed here and
flagged in the card: the edge cost = mean foot distance + stride_weight x |stride length difference| +
angle_weight x stride direction difference (radians), in B's pixels (stride terms dropped for a person
with a copied foot); pairs above `max_cost` px are
rejected. The epipolar baseline rejects pairs whose mean per-joint line distance exceeds `max_distance`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import linear_sum_assignment

from research.three_d.crowd3dpose.bones import LEFT_FOOT, RIGHT_FOOT
from research.three_d.crowd3dpose.geometry import apply_homography, epipolar_lines, point_line_distance


@dataclasses.dataclass(frozen=True)
class FeetMatchConfig:
    foot_score: float = 0.2  # authors' threshold for a usable foot point
    edge_thresh: float = 0.0  # px from the border inside which people are dropped (authors: per dataset)
    stride_weight: float = 0.25  # ours (unverified)
    angle_weight: float = 10.0  # px per radian, ours (unverified)
    max_cost: float = 80.0  # px, ours (unverified): larger edges are non-matches


def foot_points(keypoints: np.ndarray, score: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """(N, 23, 3) keypoints -> (N, 2, 2) [left, right] foot pixels and (N,) bool: any foot usable."""
    keypoints = np.asarray(keypoints, np.float64)
    feet = np.zeros((len(keypoints), 2, 2))
    found = np.zeros((len(keypoints), 2), bool)
    for side, ids in enumerate((LEFT_FOOT, RIGHT_FOOT)):
        pts = keypoints[:, ids]  # (N, 3, 3)
        ok = pts[..., 2] >= score
        y = np.where(ok, pts[..., 1], -np.inf)
        best = np.argmax(y, axis=1)
        feet[:, side] = pts[np.arange(len(pts)), best, :2]
        found[:, side] = ok.any(1)
    # One foot missing: copy the other.
    feet[:, 0] = np.where(found[:, 0:1], feet[:, 0], feet[:, 1])
    feet[:, 1] = np.where(found[:, 1:2], feet[:, 1], feet[:, 0])
    return feet, found.any(1)


def inside(feet: np.ndarray, size: tuple[int, int], edge: float) -> np.ndarray:
    """(N, 2, 2) feet, image (width, height) -> (N,) both feet farther than `edge` px from the border."""
    w, h = size
    ok = (feet[..., 0] >= edge) & (feet[..., 0] <= w - edge) & (feet[..., 1] >= edge) & (feet[..., 1] <= h - edge)
    return ok.all(-1)


def feet_cost(feet_a_in_b: np.ndarray, feet_b: np.ndarray, config: FeetMatchConfig = FeetMatchConfig()) -> np.ndarray:
    """(N, 2, 2) A's feet warped into B, (M, 2, 2) B's feet -> (N, M) edge costs in B's pixels."""
    a, b = feet_a_in_b[:, None], feet_b[None]
    location = np.linalg.norm(a - b, axis=-1).mean(-1)
    stride_a, stride_b = a[..., 0, :] - a[..., 1, :], b[..., 0, :] - b[..., 1, :]
    len_a, len_b = np.linalg.norm(stride_a, axis=-1), np.linalg.norm(stride_b, axis=-1)
    cos = np.sum(stride_a * stride_b, -1) / np.maximum(len_a * len_b, 1e-9)
    angle = np.arccos(np.clip(cos, -1.0, 1.0))
    # A copied foot (one side not found) has no stride: only the location counts for that pair.
    has_stride = (len_a > 1e-6) & (len_b > 1e-6)
    stride = config.stride_weight * np.abs(len_a - len_b) + config.angle_weight * angle
    return location + np.where(has_stride, stride, 0.0)


def assign(cost: np.ndarray, max_cost: float) -> list[tuple[int, int]]:
    """Linear assignment where leaving a person unmatched costs `max_cost`: the (N + M) square problem
    [[cost, max_cost on the diagonal], [max_cost on the diagonal, 0]] (a forced pair above the threshold
    would otherwise pull a chain of people off their partners); pairs above max_cost are never kept."""
    if cost.size == 0:
        return []
    if not np.isfinite(max_cost):
        rows, cols = linear_sum_assignment(cost)
        return [(int(i), int(j)) for i, j in zip(rows, cols, strict=True)]
    n, m = cost.shape
    big = 1e6 * (max_cost + float(np.abs(cost).max()) + 1.0)
    full = np.zeros((n + m, m + n))
    full[:n, :m] = np.where(cost <= max_cost, cost, big)
    full[:n, m:] = np.where(np.eye(n, dtype=bool), max_cost, big)
    full[n:, :m] = np.where(np.eye(m, dtype=bool), max_cost, big)
    rows, cols = linear_sum_assignment(full)
    return [(int(i), int(j)) for i, j in zip(rows, cols, strict=True) if i < n and j < m and cost[i, j] <= max_cost]


def match_feet(
    keypoints_a: np.ndarray,
    keypoints_b: np.ndarray,
    homography_ab: np.ndarray,
    size_b: tuple[int, int],
    size_a: tuple[int, int] | None = None,
    config: FeetMatchConfig = FeetMatchConfig(),
) -> list[tuple[int, int]]:
    """Pairs (index in A, index in B) of the same person, from feet warped A -> B."""
    feet_a, ok_a = foot_points(keypoints_a, config.foot_score)
    feet_b, ok_b = foot_points(keypoints_b, config.foot_score)
    warped = apply_homography(homography_ab, feet_a) if len(feet_a) else feet_a
    ok_a &= inside(warped, size_b, config.edge_thresh)
    if size_a is not None:
        ok_a &= inside(feet_a, size_a, config.edge_thresh)
    ok_b &= inside(feet_b, size_b, config.edge_thresh)
    ia, ib = np.nonzero(ok_a)[0], np.nonzero(ok_b)[0]
    cost = feet_cost(warped[ia], feet_b[ib], config)
    return [(int(ia[i]), int(ib[j])) for i, j in assign(cost, config.max_cost)]


def epipolar_cost(keypoints_a: np.ndarray, keypoints_b: np.ndarray, f: np.ndarray, score: float = 0.1
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(N, 23, 3), (M, 23, 3), F (x_B^T F x_A = 0) -> (N, M) summed distances normalised by their maximum,
    and (N, M) mean distance per used joint in px (for the rejection threshold)."""
    a, b = np.asarray(keypoints_a, np.float64), np.asarray(keypoints_b, np.float64)
    lines = epipolar_lines(f, a[..., :2])  # (N, 23, 3) lines in B
    dist = np.abs(point_line_distance(lines[:, None], b[None, :, :, :2]))  # (N, M, 23)
    used = (a[:, None, :, 2] > score) & (b[None, :, :, 2] > score)
    total = np.where(used, dist, 0.0).sum(-1)
    mean = total / np.maximum(used.sum(-1), 1)
    return total / max(float(total.max(initial=0.0)), 1e-12), mean


def match_epipolar(keypoints_a: np.ndarray, keypoints_b: np.ndarray, f: np.ndarray, max_distance: float = np.inf
                   ) -> list[tuple[int, int]]:
    """The baseline: assignment on the normalised epipolar cost; pairs whose mean distance > max_distance dropped."""
    if len(keypoints_a) == 0 or len(keypoints_b) == 0:
        return []
    cost, mean = epipolar_cost(keypoints_a, keypoints_b, f)
    rows, cols = linear_sum_assignment(cost)
    return [(int(i), int(j)) for i, j in zip(rows, cols, strict=True) if mean[i, j] <= max_distance]
