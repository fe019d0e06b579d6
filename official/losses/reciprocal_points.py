"""Reciprocal-point distances and the RPL objective (Chen et al., ECCV 2020), as keras.ops functions.

Facts from the authors' code (iCGY96/ARPL `loss/Dist.py`, `loss/RPLoss.py`):
- distance of a feature f (dim D) to reciprocal point P_i: the mean squared difference, computed in the
  expanded form (|f|^2 - 2 f.P_i + |P_i|^2) / D; rows of P are laid out class-major (row k * C + c is
  centre c of class k, C = num_centers) and a class's distance is the mean over its C centres;
- the distance is the logit: CE(d / temp, y) (far from "everything that is not k" = class k);
- open-space term L_o = MSE(mean_j (f_j - P_{y, j})^2, R) with a learnable scalar radius R broadcast over
  the batch. The authors pick the own point as row `y` of P (`centers[labels]`), which is class y's
  point only when num_centers = 1; `own_point_distance` keeps that indexing so converted weights train
  and score as in the repo;
- L = CE + weight_pl * L_o.
"""

from __future__ import annotations

from keras import ops


def reciprocal_distances(features, points, num_classes: int, num_centers: int = 1):
    """(B, D) features, (K * C, D) points -> (B, K) mean squared distances, averaged over each class's C centres."""
    dim = ops.shape(features)[-1]
    f2 = ops.sum(ops.square(features), axis=-1, keepdims=True)  # (B, 1)
    p2 = ops.sum(ops.square(points), axis=-1)  # (K * C,)
    dist = (f2 - 2.0 * ops.matmul(features, ops.transpose(points)) + p2[None, :]) / ops.cast(dim, features.dtype)
    return ops.mean(ops.reshape(dist, (-1, num_classes, num_centers)), axis=-1)


def own_point_distance(features, points, labels):
    """mean_j (f_j - P_{y, j})^2 per sample, P_y = row `labels` of the points (the repo's `centers[labels]`)."""
    own = ops.take(points, ops.cast(labels, "int32"), axis=0)
    return ops.mean(ops.square(features - own), axis=-1)


def open_space_loss(own_distance, radius):
    """L_o = mean over the batch of (own distance - R)^2; R is a (1,) or scalar weight."""
    return ops.mean(ops.square(own_distance - ops.reshape(radius, (-1,))[0]))


def rpl_loss(distances, features, points, radius, labels, temp: float = 1.0, weight_pl: float = 0.1):
    """CE(distances / temp, labels) + weight_pl * L_o, both batch means (RPLoss.forward with labels)."""
    labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
    ce = ops.mean(ops.sparse_categorical_crossentropy(labels, distances / temp, from_logits=True))
    return ce + weight_pl * open_space_loss(own_point_distance(features, points, labels), radius)
