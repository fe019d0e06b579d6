"""Mask2CAD rotation bins: per-category k-medoids of training rotations, bin targets and quaternion residuals.

Mask2CAD (Kuo et al., ECCV 2020, spec card `Method`) classifies a detection's rotation into one of 16 bins
of its category, then refines it with a quaternion residual: q = q_bin * delta. The bins are medoids of
the training rotations of that category, so each bin centre is a rotation that actually occurs in the data.

Quaternions are (..., 4) [w, x, y, z] (scalar first, Scan2CAD and scipy's `scalar_first=True`).
Distance between rotations: d(q1, q2) = 1 - |<q1, q2>|, which is 0 for q and -q (the same rotation) and
grows monotonically with the geodesic angle 2 acos(|<q1, q2>|); the argmin over bins is therefore the same
for both. GUESS (no official code): the paper says "k-medoids on quaternion distance" without the exact
distance or initialisation; we use 1 - |<q1, q2>|, k-medoids++ seeding and Voronoi-iteration updates.

Numpy only: bins are fitted once, offline, from the training annotations; the targets are computed in the
input pipeline. `decode_rotation` has a keras.ops twin in retrieval.py for the graph.
"""

from __future__ import annotations

import numpy as np

NUM_BINS = 16  # spec card: 16 per-category rotation bins


def q_normalize(q: np.ndarray) -> np.ndarray:
    """Unit quaternions (..., 4)."""
    q = np.asarray(q, dtype=np.float64)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def q_conjugate(q: np.ndarray) -> np.ndarray:
    """[w, -x, -y, -z]: the inverse of a unit quaternion."""
    q = np.asarray(q, dtype=np.float64)
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def q_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a * b of (..., 4) [w, x, y, z] quaternions (rotation b first, then a)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack([
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ], axis=-1)


def q_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise 1 - |<a_i, b_j>|: a (N, 4), b (M, 4) unit quaternions -> (N, M); sign-invariant."""
    return 1.0 - np.abs(np.clip(q_normalize(a) @ q_normalize(b).T, -1.0, 1.0))


def q_angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise geodesic angle (radians) between rotations a (..., 4) and b (..., 4)."""
    dot = np.abs(np.sum(q_normalize(a) * q_normalize(b), axis=-1))
    return 2.0 * np.arccos(np.clip(dot, 0.0, 1.0))


def kmedoids(quaternions: np.ndarray, k: int = NUM_BINS, iterations: int = 50, seed: int = 0) -> np.ndarray:
    """Indices (k,) of k medoids among `quaternions` (N, 4) under 1 - |<q1, q2>|.

    k-medoids++ seeding, then alternate: assign each rotation to its nearest medoid, and move each medoid
    to the member minimising the summed distance to its cluster; stops when the medoids no longer move.
    With fewer than k distinct rotations the medoids repeat (argmin then picks the first copy).
    """
    q = q_normalize(np.asarray(quaternions, dtype=np.float64).reshape(-1, 4))
    n = len(q)
    if n == 0:
        raise ValueError("kmedoids: no rotations given")
    dist = q_distance(q, q)
    rng = np.random.default_rng(seed)
    medoids = [int(rng.integers(n))]
    for _ in range(1, k):
        nearest = dist[:, medoids].min(axis=1)
        total = nearest.sum()
        if total <= 1e-12:  # every rotation already coincides with a medoid
            medoids.append(medoids[0])
            continue
        medoids.append(int(rng.choice(n, p=nearest / total)))
    medoids = np.array(medoids)
    for _ in range(iterations):
        assign = np.argmin(dist[:, medoids], axis=1)
        new = medoids.copy()
        for j in range(k):
            members = np.flatnonzero(assign == j)
            if len(members):
                new[j] = members[np.argmin(dist[np.ix_(members, members)].sum(axis=1))]
        if np.array_equal(new, medoids):
            break
        medoids = new
    return medoids


def fit_rotation_bins(quaternions: np.ndarray, categories: np.ndarray, num_categories: int,
                      num_bins: int = NUM_BINS, seed: int = 0) -> np.ndarray:
    """Per-category bin centres (num_categories, num_bins, 4), each a training rotation with w >= 0.

    quaternions (N, 4), categories (N,) int in [0, num_categories). A category without rotations gets the
    identity in every bin (it has no targets, so its bins are never used in training).
    """
    q = q_normalize(np.asarray(quaternions, dtype=np.float64).reshape(-1, 4))
    categories = np.asarray(categories).reshape(-1)
    bins = np.zeros((num_categories, num_bins, 4))
    bins[..., 0] = 1.0
    for c in range(num_categories):
        members = q[categories == c]
        if len(members):
            bins[c] = members[kmedoids(members, num_bins, seed=seed + c)]
    return bins * np.where(bins[..., :1] < 0, -1.0, 1.0)


def rotation_targets(q_gt: np.ndarray, categories: np.ndarray, bins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bin index (N,) int32, residual delta (N, 4)) with q_gt = q_bin * delta, delta's w >= 0.

    The bin is the nearest centre of the object's category; delta = q_bin^-1 * q_gt (conjugate, as q_bin is
    unit) with the sign chosen so w >= 0, i.e. near the identity the rotation head's bias starts from.
    """
    q_gt = q_normalize(np.asarray(q_gt, dtype=np.float64).reshape(-1, 4))
    categories = np.asarray(categories).reshape(-1)
    centres = np.asarray(bins, dtype=np.float64)[categories]  # (N, num_bins, 4)
    dots = np.abs(np.einsum("nbk,nk->nb", centres, q_gt))
    index = np.argmax(dots, axis=1).astype(np.int32)  # argmax |<.,.>| == argmin geodesic angle
    q_bin = centres[np.arange(len(q_gt)), index]
    delta = q_multiply(q_conjugate(q_bin), q_gt)
    delta = delta * np.where(delta[:, :1] < 0, -1.0, 1.0)
    return index, delta


def decode_rotation(bin_index: np.ndarray, delta: np.ndarray, categories: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """q = q_bin * normalize(delta) (N, 4) with w >= 0: the inverse of `rotation_targets`."""
    q_bin = np.asarray(bins, dtype=np.float64)[np.asarray(categories).reshape(-1), np.asarray(bin_index).reshape(-1)]
    q = q_multiply(q_bin, q_normalize(delta))
    return q * np.where(q[:, :1] < 0, -1.0, 1.0)
