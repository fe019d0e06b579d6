"""Point-cloud sampling and grouping ops (PointNet++ family) in keras.ops.

These are the composites that every backend, XLA and exported graph runs. Their semantics follow
the PointNet++ CUDA kernels the ECCV 2020 point methods build on (Pointnet2_PyTorch), so converted
weights see the same neighbourhoods:
- `farthest_point_sample` starts at point 0 and takes, at each step, the point farthest from the
  chosen set (the first one on a tie);
- `ball_query` takes, for each centre, the first `max_samples` points in index order whose squared
  distance is strictly below radius**2, and pads the remaining slots with the first one found (0 when
  the ball is empty);
- `three_nn_interpolate` weights the three nearest known points by 1 / (distance + 1e-8),
  normalised; no gradient flows to the positions (as in the CUDA op).
Squared distances are summed per coordinate, (x - x')**2 + (y - y')**2 + (z - z')**2, like the CUDA
kernels, rather than expanded as |a|**2 - 2 a.b + |b|**2, which loses precision at a ball's edge.
Layout: (batch, points, 3) positions and (batch, points, channels) features; indices are int32.

On TensorFlow each public op runs its C++ kernel (official/ops/kernels/point*.cc) where
`official.ops.native.kernel_applies` allows it (CPU, float32, no XLA, not exporting); the
`composite_<name>` functions are the keras.ops forms everywhere else (JAX, XLA, GPU, exports). Both
give the same indices and values (to float rounding) and, on TensorFlow, the same gradients.
"""

from __future__ import annotations

import numbers

from keras import ops

from official.ops import native


def pairwise_sq_distances(a, b):
    """(B, M, N) squared distances between a (B, M, 3) and b (B, N, 3), per coordinate."""
    total = None
    for axis in range(3):
        d = a[:, :, None, axis] - b[:, None, :, axis]
        total = d * d if total is None else total + d * d
    return total


def _check_samples(points, num_samples: int) -> None:
    n = points.shape[1]
    if n is not None and num_samples > n:
        raise ValueError(f"farthest_point_sample: num_samples={num_samples} exceeds the {n} points")


def farthest_point_sample(points, num_samples: int):
    """(B, num_samples) int32 indices of a farthest-point sample of points (B, N, 3), from point 0."""
    _check_samples(points, num_samples)
    if native.kernel_applies(points, rank=3):
        return native.farthest_point_sample(points, num_samples)
    return composite_farthest_point_sample(points, num_samples)


def composite_farthest_point_sample(points, num_samples: int):
    """`farthest_point_sample` as a keras.ops loop of num_samples - 1 distance updates + first maximum."""
    _check_samples(points, num_samples)
    batch = ops.shape(points)[0]
    first = ops.zeros((batch,), dtype="int32")

    def step(i, state):
        indices, nearest, last = state
        chosen = ops.take_along_axis(points, ops.broadcast_to(last[:, None, None], (batch, 1, 3)), axis=1)
        d = ops.sum(ops.square(points - chosen), axis=-1)
        nearest = ops.minimum(nearest, d)
        # top_k, not argmax: both take the first maximum, but Keras' float argmax adds a -0.0 fix-up
        # (signbit -> BitwiseAnd) that TFLite cannot convert; distances are never -0.0
        nxt = ops.cast(ops.top_k(nearest, 1)[1][:, 0], "int32")
        indices = _set_column(indices, i, nxt)
        return indices, nearest, nxt

    indices = ops.zeros((batch, num_samples), dtype="int32")
    nearest = ops.full(ops.shape(points)[:2], 1e10, dtype=points.dtype)
    indices, _, _ = ops.fori_loop(1, num_samples, step, (indices, nearest, first))
    return indices


def _set_column(matrix, i, column):
    """matrix with column i replaced by `column` (i may be a traced loop counter)."""
    hit = ops.equal(ops.arange(ops.shape(matrix)[1], dtype="int32"), ops.cast(i, "int32"))
    return ops.where(hit[None, :], column[:, None], matrix)


def ball_query(points, centers, radius: float, max_samples: int):
    """(B, S, max_samples) int32 indices into points (B, N, 3) of the points in each centre's ball."""
    static_radius = isinstance(radius, numbers.Real)  # a tensor radius takes the composite
    if static_radius and native.kernel_applies(points, rank=3) and native.kernel_applies(centers, rank=3):
        return native.ball_query(points, centers, radius, max_samples)
    return composite_ball_query(points, centers, radius, max_samples)


def composite_ball_query(points, centers, radius: float, max_samples: int):
    """`ball_query` from the full (B, S, N) distance matrix and a top-k over index keys."""
    n = points.shape[1]
    d2 = pairwise_sq_distances(centers, points)
    inside = d2 < radius * radius
    order = ops.arange(n if n is not None else ops.shape(points)[1], dtype="int32")
    # inside points keep their index as the sort key, outside ones sort after every inside one
    key = ops.where(inside, order, order + ops.shape(points)[1])
    k = min(max_samples, n) if n is not None else max_samples
    neg, _ = ops.top_k(-key, k)
    key_sorted = -neg
    found = key_sorted < ops.shape(points)[1]
    first = ops.where(found[..., :1], key_sorted[..., :1], 0)
    idx = ops.where(found, key_sorted, first)
    if k < max_samples:  # fewer points than slots: the rest repeat the first found
        pad = ops.repeat(first, max_samples - k, axis=-1)
        idx = ops.concatenate([idx, pad], axis=-1)
    return ops.cast(idx, "int32")


def knn(points, queries, k: int):
    """(squared distances (B, M, k) ascending, indices (B, M, k) int32) of each query's k nearest points.

    Ties: the lower index first. Differentiable in the distances (to points and queries)."""
    if native.kernel_applies(points, rank=3) and native.kernel_applies(queries, rank=3):
        return native.knn(points, queries, k)
    return composite_knn(points, queries, k)


def composite_knn(points, queries, k: int):
    """`knn` as top-k of the negated (B, M, N) distance matrix."""
    d2 = pairwise_sq_distances(queries, points)
    neg, idx = ops.top_k(-d2, k)
    return -neg, ops.cast(idx, "int32")


def gather_points(features, indices):
    """features (B, N, C) gathered at indices (B, ...) -> (B, ..., C); gradients scatter-add back."""
    if native.kernel_applies(features, rank=3) and len(indices.shape) >= 1:
        return native.gather_points(features, indices)
    return composite_gather_points(features, indices)


def composite_gather_points(features, indices):
    """`gather_points` as one take on the (B * N, C) rows with per-batch offsets."""
    batch = ops.shape(features)[0]
    n = ops.shape(features)[1]
    channels = features.shape[-1]
    flat = ops.reshape(indices, (batch, -1))
    offsets = ops.arange(batch, dtype=flat.dtype)[:, None] * ops.cast(n, flat.dtype)
    rows = ops.take(ops.reshape(features, (-1, channels)), ops.reshape(flat + offsets, (-1,)), axis=0)
    return ops.reshape(rows, (*ops.shape(indices), channels))


def three_nn(unknown, known):
    """(distances (B, M, 3), indices (B, M, 3) int32): each unknown point's three nearest known points."""
    if native.kernel_applies(unknown, rank=3) and native.kernel_applies(known, rank=3):
        return native.three_nn(unknown, known)
    return composite_three_nn(unknown, known)


def composite_three_nn(unknown, known):
    """`three_nn` as the square root of `composite_knn`'s three smallest squared distances."""
    d2, idx = composite_knn(known, unknown, 3)
    return ops.sqrt(ops.maximum(d2, 0.0)), idx


def _inverse_distance_weights(dist):
    recip = 1.0 / (dist + 1e-8)
    return recip / ops.sum(recip, axis=-1, keepdims=True)


def three_nn_interpolate(unknown, known, known_features):
    """(B, M, C) features at unknown (B, M, 3), inverse-distance weighted from the 3 nearest known."""
    if all(native.kernel_applies(t, rank=3) for t in (unknown, known, known_features)):
        dist, idx = native.three_nn(ops.stop_gradient(unknown), ops.stop_gradient(known))
        return native.three_interpolate(known_features, idx, _inverse_distance_weights(dist))
    return composite_three_nn_interpolate(unknown, known, known_features)


def composite_three_nn_interpolate(unknown, known, known_features):
    """`three_nn_interpolate` from `composite_three_nn` and `composite_gather_points`."""
    dist, idx = composite_three_nn(ops.stop_gradient(unknown), ops.stop_gradient(known))
    weights = _inverse_distance_weights(dist)
    neighbours = composite_gather_points(known_features, idx)  # (B, M, 3, C)
    return ops.sum(neighbours * ops.cast(weights, neighbours.dtype)[..., None], axis=2)
