"""Correspondence top-1 of learned features on a pair: does a voxel's feature nearest neighbour match it?

For each pair, up to n query voxels of view 0 with at least one true match are drawn (seeded), one true
match of each in view 1 is its key (as PointInfoNCE samples them); a query counts as correct when the key
nearest its feature (Euclidean) among the n keys is one of its true matches (within the match radius
after the known transform). Top-1 = correct / queries over all pairs. With n = 512 this is the card's
"nearest feature among 512 candidates" (check 7). Chance level is about 1 / n.
"""

from __future__ import annotations

import numpy as np


def sample_queries(matches: np.ndarray, valid0: np.ndarray, n: int, rng: np.random.Generator):
    """(queries, keys) of one pair: up to n view-0 voxels with a match and one random match each."""
    count = (matches >= 0).sum(1)
    candidates = np.flatnonzero((count > 0) & valid0)
    if len(candidates) > n:
        candidates = np.sort(rng.choice(candidates, n, replace=False))
    keys = matches[candidates, (rng.random(len(candidates)) * count[candidates]).astype(int)]
    return candidates, keys


def correspondence_hits(f0: np.ndarray, f1: np.ndarray, matches: np.ndarray, valid0: np.ndarray, n: int,
                        rng: np.random.Generator) -> tuple[int, int]:
    """(correct, queries) of one pair; f0 (V0, C), f1 (V1, C) features, matches (V0, K) (-1 padded)."""
    q, k = sample_queries(matches, valid0, n, rng)
    if len(q) == 0:
        return 0, 0
    a, b = f0[q].astype(np.float64), f1[k].astype(np.float64)
    d2 = (a * a).sum(1)[:, None] - 2 * a @ b.T + (b * b).sum(1)[None, :]
    nearest = k[np.argmin(d2, axis=1)]
    correct = (matches[q] == nearest[:, None]).any(1)
    return int(correct.sum()), len(q)
