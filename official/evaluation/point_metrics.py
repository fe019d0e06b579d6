"""Point-cloud metrics for evaluation at scale (numpy + scipy's cKDTree): nearest distances, F-score,
Chamfer distance, exact EMD.

The training losses (official/losses/chamfer.py, emd.py) hold an (N, M) distance block per chunk;
evaluation runs on 100k-point clouds (ONet/ConvONet) where a kd-tree is the tool, as in the official
evaluation code (which uses a kd-tree too). Definitions:
- F-score@t (Tatarchenko et al. 2019, as ONet/ConvONet compute it): precision = fraction of predicted
  points within t of the ground truth, recall = fraction of ground-truth points within t of the
  prediction (distance <= t, ConvONet's get_threshold_percentage), F = 2PR / (P + R), 0 when P + R = 0.
- Chamfer: mean_a min_b d + mean_b min_a d with d squared (CD-L2) or Euclidean; ONet's Chamfer-L1 is
  half the Euclidean form (see mesh_metrics.mesh_distances).
- exact EMD: mean matched Euclidean distance under scipy's linear_sum_assignment (O(N^3): <= ~2k points),
  the reference the auction in official/losses/emd.py is measured against.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree


def nearest_distances(src: np.ndarray, tgt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Euclidean distance (N,), index (N,)) of each src point (N, 3) to its nearest tgt point (M, 3)."""
    src = np.asarray(src, dtype=np.float64).reshape(-1, 3)
    tgt = np.asarray(tgt, dtype=np.float64).reshape(-1, 3)
    if len(tgt) == 0:
        return np.full(len(src), np.inf), np.full(len(src), -1, dtype=np.int64)
    dist, idx = cKDTree(tgt).query(src, k=1)
    return dist, idx


def fscore_from_distances(accuracy: np.ndarray, completeness: np.ndarray, threshold: float):
    """(f, precision, recall) from pred->gt distances (accuracy) and gt->pred distances (completeness)."""
    precision = float(np.mean(accuracy <= threshold)) if len(accuracy) else 0.0
    recall = float(np.mean(completeness <= threshold)) if len(completeness) else 0.0
    total = precision + recall
    return (2.0 * precision * recall / total if total > 0 else 0.0), precision, recall


def fscore(pred: np.ndarray, gt: np.ndarray, threshold: float) -> tuple[float, float, float]:
    """(f, precision, recall) of predicted points (N, 3) against ground-truth points (M, 3) at `threshold`."""
    accuracy, _ = nearest_distances(pred, gt)
    completeness, _ = nearest_distances(gt, pred)
    return fscore_from_distances(accuracy, completeness, threshold)


def fscores(pred: np.ndarray, gt: np.ndarray, thresholds: Sequence[float]) -> dict[float, tuple[float, float, float]]:
    """{threshold: (f, precision, recall)} with one pair of kd-tree queries for all thresholds."""
    accuracy, _ = nearest_distances(pred, gt)
    completeness, _ = nearest_distances(gt, pred)
    return {float(t): fscore_from_distances(accuracy, completeness, t) for t in thresholds}


def chamfer_distance(a: np.ndarray, b: np.ndarray, squared: bool = True) -> float:
    """mean_a min_b d + mean_b min_a d between (N, 3) and (M, 3); d = ||.||^2 (squared) or ||.||."""
    d_ab, _ = nearest_distances(a, b)
    d_ba, _ = nearest_distances(b, a)
    if squared:
        d_ab, d_ba = d_ab**2, d_ba**2
    return float(d_ab.mean() + d_ba.mean())


def emd_exact(a: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray]:
    """(mean matched Euclidean distance, permutation) of the optimal bijection a[i] -> b[perm[i]]."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 3)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 3)
    if len(a) != len(b):
        raise ValueError(f"emd_exact: sets differ in size ({len(a)} vs {len(b)} points)")
    cost = np.linalg.norm(a[:, None] - b[None], axis=-1)
    rows, cols = linear_sum_assignment(cost)
    perm = np.empty(len(a), dtype=np.int64)
    perm[rows] = cols
    return float(cost[rows, cols].mean()), perm
