"""Distances between persistence diagrams (exact), with the optimal matching, and optimal transport between
two sets of items: the evaluation and matching tools of topology-aware methods (TopoGAN).

Conventions equal gudhi's (`gudhi.hera.wasserstein_distance`, `gudhi.bottleneck_distance`; parity in
tests/official/evaluation/test_diagram_distance.py): a diagram is an (n, 2) array of (birth, death); a point
may be matched to its nearest diagonal point; `internal_p` is the ground norm (inf: max norm); points with
death = inf (essential classes) are matched only among themselves, by birth, and unequal counts give inf.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment, linprog
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching


def _as_diagram(points) -> np.ndarray:
    arr = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if np.any(np.isnan(arr)) or np.any(np.isinf(arr[:, 0])):
        raise ValueError("diagram: births must be finite and no value may be NaN")
    return arr


def _split(diagram: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(finite points, their indices, essential births, their indices)."""
    essential = np.isinf(diagram[:, 1])
    return diagram[~essential], np.flatnonzero(~essential), diagram[essential, 0], np.flatnonzero(essential)


def _ground(a: np.ndarray, b: np.ndarray, internal_p: float) -> np.ndarray:
    diff = np.abs(a[:, None, :] - b[None, :, :])
    return diff.max(-1) if np.isinf(internal_p) else (diff ** internal_p).sum(-1) ** (1.0 / internal_p)


def _to_diagonal(points: np.ndarray, internal_p: float) -> np.ndarray:
    """L_p distance from (b, d) to the nearest diagonal point ((b+d)/2, (b+d)/2)."""
    half = np.abs(points[:, 1] - points[:, 0]) / 2.0
    return half if np.isinf(internal_p) else half * 2.0 ** (1.0 / internal_p)


def _augmented_cost(x: np.ndarray, y: np.ndarray, internal_p: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n+m) x (m+n) distances: x_i -> y_j, x_i -> its diagonal copy, diagonal copies of y_j -> y_j, 0 diagonal-diagonal.

    Returns (distance matrix with inf where a match is not allowed, x's and y's diagonal distances)."""
    n, m = len(x), len(y)
    dx, dy = _to_diagonal(x, internal_p), _to_diagonal(y, internal_p)
    cost = np.full((n + m, m + n), np.inf)
    cost[:n, :m] = _ground(x, y, internal_p)
    cost[np.arange(n), m + np.arange(n)] = dx
    cost[n + np.arange(m), np.arange(m)] = dy
    cost[n:, m:] = 0.0
    return cost, dx, dy


def wasserstein_matching(x, y, order: float = 1.0, internal_p: float = np.inf) -> tuple[float, np.ndarray]:
    """(W_order distance, matching): the optimal partial matching, rows (i, j) with -1 for the diagonal, in
    gudhi's `matching=True` layout. Exact (Hungarian algorithm on the augmented cost matrix)."""
    x, y = _as_diagram(x), _as_diagram(y)
    xf, xi, xe, xei = _split(x)
    yf, yi, ye, yei = _split(y)
    if len(xe) != len(ye):
        return float("inf"), np.zeros((0, 2), dtype=np.int64)
    matching, total = [], 0.0
    ox, oy = np.argsort(xe, kind="stable"), np.argsort(ye, kind="stable")  # 1D optimal: sorted to sorted
    total += float(np.sum(np.abs(xe[ox] - ye[oy]) ** order))
    matching += [(int(xei[a]), int(yei[b])) for a, b in zip(ox, oy, strict=False)]
    cost, _, _ = _augmented_cost(xf, yf, internal_p)
    if cost.size:
        powered = cost ** order
        finite = powered[np.isfinite(powered)]
        # forbidden pairs get a cost no optimal matching takes (huge values stall the Hungarian solver)
        powered[np.isinf(powered)] = (finite.max() + 1.0) * (len(powered) + 1)
        rows, cols = linear_sum_assignment(powered)
        n, m = len(xf), len(yf)
        for r, c in zip(rows, cols, strict=False):
            if r < n or c < m:
                matching.append((int(xi[r]) if r < n else -1, int(yi[c]) if c < m else -1))
        total += float(powered[rows, cols].sum())
    return total ** (1.0 / order), np.asarray(matching, dtype=np.int64).reshape(-1, 2)


def wasserstein_distance(x, y, order: float = 1.0, internal_p: float = np.inf) -> float:
    """W_order between two diagrams (gudhi.hera.wasserstein_distance's defaults: order 1, internal_p inf)."""
    return wasserstein_matching(x, y, order, internal_p)[0]


def bottleneck_distance(x, y) -> float:
    """Exact bottleneck distance (max norm), as gudhi.bottleneck_distance(x, y, e=0)."""
    x, y = _as_diagram(x), _as_diagram(y)
    xf, _, xe, _ = _split(x)
    yf, _, ye, _ = _split(y)
    if len(xe) != len(ye):
        return float("inf")
    essential = float(np.max(np.abs(np.sort(xe) - np.sort(ye)))) if len(xe) else 0.0
    cost, dx, dy = _augmented_cost(xf, yf, np.inf)
    if not cost.size:
        return essential
    candidates = np.unique(np.concatenate([cost[np.isfinite(cost)].ravel(), [essential]]))
    candidates = candidates[candidates >= essential]  # the answer is the essential part's or a finite cost
    lo, hi = 0, len(candidates) - 1
    while lo < hi:  # smallest candidate with a perfect matching among edges of length <= candidate
        mid = (lo + hi) // 2
        graph = csr_matrix(cost <= candidates[mid])
        if np.all(maximum_bipartite_matching(graph, perm_type="column") >= 0):
            hi = mid
        else:
            lo = mid + 1
    return max(essential, float(candidates[lo]))


def optimal_transport_plan(cost) -> np.ndarray:
    """The optimal transport plan between uniform weights on the rows and on the columns of `cost` (M x N),
    by linear programming (TopoGAN's batch-to-reference assignment; the official code uses cvxopt/GLPK)."""
    cost = np.asarray(cost, dtype=np.float64)
    m, n = cost.shape
    rows = np.kron(np.eye(m), np.ones((1, n)))  # sum_j P_ij = 1/m
    cols = np.kron(np.ones((1, m)), np.eye(n))  # sum_i P_ij = 1/n
    a_eq = np.concatenate([rows, cols])
    b_eq = np.concatenate([np.full(m, 1.0 / m), np.full(n, 1.0 / n)])
    result = linprog(cost.ravel(), A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    if not result.success:
        raise RuntimeError(f"optimal_transport_plan: linear program failed ({result.message})")
    return result.x.reshape(m, n)
