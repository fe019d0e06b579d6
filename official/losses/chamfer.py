"""Chamfer distance between point sets (keras.ops, differentiable, every backend and XLA).

CD(A, B) = mean_{a in A} min_b ||a - b||^2 + mean_{b in B} min_a ||a - b||^2   (squared=True: the
"CD-L2" of PCN / Completion3D / SoftPoolNet and ShapeGF's CD). squared=False sums the mean Euclidean
nearest distances instead; the ONet/ConvONet "Chamfer-L1" is 0.5 times that.

Why nearest indices first, distances second: the nearest neighbour of each point is found with
`point_ops.pairwise_sq_distances` + argmin under stop_gradient (optionally over static chunks of query
points, so 16,384 x 16,384 sets never hold the 268M-entry matrix at once), and the distance is then
recomputed from the gathered neighbour. The gradient equals the subgradient of the min (as the CUDA
Chamfer kernels give, through their returned indices) while backprop keeps only (B, N, 3) tensors.
"""

from __future__ import annotations

import keras
from keras import ops

from official.ops.point_ops import gather_points, pairwise_sq_distances


def _nearest_one_way(queries, points, chunk_size: int | None):
    """(B, N) int32 index into points of each query's nearest point (no gradient)."""
    n = queries.shape[1]
    if chunk_size is None or n is None or n <= chunk_size:
        return ops.cast(ops.argmin(pairwise_sq_distances(queries, points), axis=-1), "int32")
    parts = []
    for start in range(0, n, chunk_size):  # static trip count: unrolled, XLA-friendly
        block = pairwise_sq_distances(queries[:, start:start + chunk_size], points)
        parts.append(ops.cast(ops.argmin(block, axis=-1), "int32"))
    return ops.concatenate(parts, axis=1)


def nearest_indices(a, b, chunk_size: int | None = None):
    """(idx_ab (B, N), idx_ba (B, M)) int32: nearest b of each a, nearest a of each b; no gradient.

    chunk_size bounds the distance block to (B, chunk_size, other) entries (static; None = one block).
    """
    a = ops.stop_gradient(ops.convert_to_tensor(a))
    b = ops.stop_gradient(ops.convert_to_tensor(b))
    if chunk_size is None:  # one matrix serves both directions
        d2 = pairwise_sq_distances(a, b)
        return (ops.cast(ops.argmin(d2, axis=2), "int32"), ops.cast(ops.argmin(d2, axis=1), "int32"))
    return _nearest_one_way(a, b, chunk_size), _nearest_one_way(b, a, chunk_size)


def _sq_dist_to(points, others, idx):
    """(B, N) squared distance from each point to others[idx], differentiable in both sets."""
    return ops.sum(ops.square(points - gather_points(others, idx)), axis=-1)


def nearest_sq_distances(a, b, chunk_size: int | None = None):
    """(d_ab (B, N), d_ba (B, M)): squared distance of each a (B, N, 3) to its nearest b (B, M, 3), and back."""
    a = ops.convert_to_tensor(a)
    b = ops.convert_to_tensor(b)
    idx_ab, idx_ba = nearest_indices(a, b, chunk_size)
    return _sq_dist_to(a, b, idx_ab), _sq_dist_to(b, a, idx_ba)


def safe_sqrt(x):
    """sqrt with a zero (not NaN/inf) gradient at 0, so identical sets train without NaNs."""
    positive = x > 0
    return ops.where(positive, ops.sqrt(ops.where(positive, x, ops.ones_like(x))), ops.zeros_like(x))


def chamfer_distance(a, b, squared: bool = True, chunk_size: int | None = None):
    """(B,) mean_a min_b d + mean_b min_a d, d = ||a - b||^2 (squared) or ||a - b|| (squared=False)."""
    d_ab, d_ba = nearest_sq_distances(a, b, chunk_size)
    if not squared:
        d_ab, d_ba = safe_sqrt(d_ab), safe_sqrt(d_ba)
    return ops.mean(d_ab, axis=-1) + ops.mean(d_ba, axis=-1)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ChamferLoss(keras.losses.Loss):
    """`chamfer_distance(y_pred, y_true)` per example as a Keras loss (y_* (B, N, 3) and (B, M, 3))."""

    def __init__(self, squared: bool = True, chunk_size: int | None = None, name: str = "chamfer", **kwargs):
        super().__init__(name=name, **kwargs)
        self.squared = bool(squared)
        self.chunk_size = chunk_size

    def call(self, y_true, y_pred):
        return chamfer_distance(y_pred, ops.cast(y_true, y_pred.dtype), self.squared, self.chunk_size)

    def get_config(self) -> dict:
        return {**super().get_config(), "squared": self.squared, "chunk_size": self.chunk_size}
