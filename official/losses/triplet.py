"""Metric-learning losses of the re-ID "strong baseline" (Luo et al. 2019), used by ISP and any PK-batch model.

- batch-hard triplet (Hermans et al. 2017): Euclidean distances sqrt(max(d^2, 1e-12)); per anchor the
  farthest positive and the nearest negative; mean of max(0, d_ap - d_an + margin) (PyTorch's
  MarginRankingLoss with y = 1). Features are not normalised (normalize_feature=False).
- center loss (Wen et al. 2016): sum over the batch of ||x_i - c_{y_i}||^2 (clamped to [1e-12, 1e12]),
  divided by the batch size.
keras.ops only (every backend).
"""

from __future__ import annotations

from keras import ops


def pairwise_euclidean(x, y):
    """(n, m) Euclidean distances, sqrt(max(||x||^2 + ||y||^2 - 2 x.y, 1e-12)) as the baseline computes them."""
    x, y = ops.cast(x, "float32"), ops.cast(y, "float32")
    squared = ops.sum(x * x, axis=1)[:, None] + ops.sum(y * y, axis=1)[None, :] - 2.0 * ops.matmul(x, ops.transpose(y))
    return ops.sqrt(ops.maximum(squared, 1e-12))


def batch_hard_triplet_loss(features, labels, margin: float = 0.3):
    """Mean over anchors of max(0, max_p d(a, p) - min_n d(a, n) + margin); positives include the anchor."""
    dist = pairwise_euclidean(features, features)
    labels = ops.reshape(labels, (-1,))
    same = ops.cast(ops.equal(labels[:, None], labels[None, :]), dist.dtype)
    hardest_positive = ops.max(dist * same - (1.0 - same) * 1e9, axis=1)
    hardest_negative = ops.min(dist + same * 1e9, axis=1)
    return ops.mean(ops.relu(hardest_positive - hardest_negative + margin))


def center_loss(features, labels, centers):
    """sum_i clamp(||x_i - c_{y_i}||^2, 1e-12, 1e12) / batch; `centers` (num_classes, dim)."""
    features = ops.cast(features, "float32")
    picked = ops.take(centers, ops.cast(ops.reshape(labels, (-1,)), "int32"), axis=0)
    squared = ops.sum(ops.square(features - picked), axis=1)
    return ops.sum(ops.clip(squared, 1e-12, 1e12)) / ops.cast(ops.shape(features)[0], "float32")
