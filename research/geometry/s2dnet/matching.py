"""Sparse-to-dense matching on S2DNet feature maps (keras.ops only: TF, XLA, JAX and SavedModels run it).

Coordinates are continuous pixels: pixel (row r, col c) covers [c, c + 1) x [r, r + 1), its centre is
(c + 0.5, r + 0.5). A map of stride s has cell i covering image pixels [i s, (i + 1) s), centred at
(i + 0.5) s; so a keypoint x samples map column u = x / s - 0.5 (the half-pixel convention, as
`scipy.ndimage.map_coordinates` indexes samples at integer u). OpenCV / HPatches pixel coordinates put the
centre of pixel c at c: add 0.5 going in and subtract it coming out (task.py does).

Procedure (spec card "Method"; S2DHM's exhaustive_search.py for the argmax, the ratio test and the cell
centres): descriptors d_l(p) bilinearly sampled from the source map of level l and L2-normalised; target
maps L2-normalised per position; C_l = <d_l(p), F_l(u)> for every target cell u (one batched matmul);
the levels used are resized (bilinear, half-pixel) to the finest one's grid and averaged (S2DHM
concatenates upsampled normalised hypercolumns; S2DNet's fusion rule is not released: our choice);
u* = argmax; modified ratio test: keep when ratio^2 C(u*) >= the k-th largest C, k = int(factor H W);
the match is the centre of cell u*: ((u* mod W) + 0.5) s, ((u* div W) + 0.5) s.
"""

from __future__ import annotations

from keras import ops

EPS = 1e-6


def l2_normalize(x, axis: int = -1):
    return x / ops.sqrt(ops.maximum(ops.sum(x * x, axis=axis, keepdims=True), EPS * EPS))


def sample_descriptors(feature_map, keypoints, stride: int):
    """Bilinear samples (B, N, C) of `feature_map` (B, h, w, C) at `keypoints` (B, N, 2) continuous (x, y)
    pixels; positions outside the map's sample centres take the border value (scipy mode="nearest")."""
    h, w = int(feature_map.shape[1]), int(feature_map.shape[2])
    channels = int(feature_map.shape[3])
    dtype = feature_map.dtype
    u = ops.clip(ops.cast(keypoints[..., 0], dtype) / stride - 0.5, 0.0, w - 1.0)
    v = ops.clip(ops.cast(keypoints[..., 1], dtype) / stride - 0.5, 0.0, h - 1.0)
    u0, v0 = ops.floor(u), ops.floor(v)
    wu, wv = (u - u0)[..., None], (v - v0)[..., None]
    u0, v0 = ops.cast(u0, "int32"), ops.cast(v0, "int32")
    u1, v1 = ops.minimum(u0 + 1, w - 1), ops.minimum(v0 + 1, h - 1)
    # One gather on the batch-flattened map (B h w, C) at the 4 neighbours: take_along_axis costs ~50 graph
    # ops per call in the TF backend, which made the training step's trace (and its XLA compile) slow.
    base = ops.arange(ops.shape(feature_map)[0], dtype="int32")[:, None, None] * (h * w)
    corners = ops.stack([v0 * w + u0, v0 * w + u1, v1 * w + u0, v1 * w + u1], axis=-1) + base  # (B, N, 4)
    values = ops.take(ops.reshape(feature_map, (-1, channels)), corners, axis=0)  # (B, N, 4, C)
    weights = ops.stack([(1 - wu) * (1 - wv), wu * (1 - wv), (1 - wu) * wv, wu * wv], axis=-2)  # (B, N, 4, 1)
    return ops.sum(values * weights, axis=-2)


def correspondence_maps(descriptors, target_map):
    """C (B, N, h, w) = <descriptor n, target_map (B, h, w, C) at each cell>."""
    return ops.einsum("bnc,bhwc->bnhw", descriptors, target_map)


def level_maps(source_maps, target_maps, keypoints, strides, levels):
    """Averaged cosine correspondence maps (B, N, h, w) on the grid of the finest level in `levels`,
    and that level's stride."""
    finest = min(levels, key=lambda level: strides[level])
    h, w = int(target_maps[finest].shape[1]), int(target_maps[finest].shape[2])
    total = None
    for level in levels:
        d = l2_normalize(sample_descriptors(source_maps[level], keypoints, strides[level]))
        c = correspondence_maps(d, l2_normalize(target_maps[level]))
        if level != finest:  # (B, N, h_l, w_l) -> (B, h_l, w_l, N) to resize the grid
            c = ops.transpose(c, (0, 2, 3, 1))
            c = ops.image.resize(c, (h, w), interpolation="bilinear")
            c = ops.transpose(c, (0, 3, 1, 2))
        total = c if total is None else total + c
    return total / float(len(levels)), strides[finest]


def ratio_test(flat_maps, factor: float = 0.006, ratio: float = 0.9):
    """(best index, best value, passed) over the last axis of (B, N, M): S2DHM's modified ratio test,
    passed when ratio^2 * max >= the k-th largest value, k = max(1, int(factor * M))."""
    m = int(flat_maps.shape[-1])
    k = max(1, min(m, int(factor * m)))
    values, indices = ops.top_k(flat_maps, k, sorted=True)
    best = values[..., 0]
    passed = (ratio**2) * best >= values[..., k - 1]
    return indices[..., 0], best, passed


def cell_centres(index, width: int, stride: int):
    """Flat cell index -> (x, y) continuous pixels of the cell centre: ((i mod W) + 0.5) s, ((i div W) + 0.5) s."""
    index = ops.cast(index, "int32")
    col = ops.cast(index % width, "float32")
    row = ops.cast(index // width, "float32")
    return ops.stack([(col + 0.5) * stride, (row + 0.5) * stride], axis=-1)


def match_sparse_to_dense(source_maps, target_maps, keypoints, keypoint_mask, strides, levels=(0, 1, 2),
                          factor: float = 0.006, ratio: float = 0.9):
    """Per keypoint of the source image its location in the target image.

    source_maps, target_maps: lists of (B, h_l, w_l, C) maps (the model's outputs in key order);
    keypoints (B, N, 2) continuous (x, y) in the source; keypoint_mask (B, N) (padding = False).
    Returns xy (B, N, 2) continuous pixels in the target, valid (B, N) bool (mask and ratio test), score (B, N)
    the fused cosine correlation at the match.
    """
    maps, stride = level_maps(source_maps, target_maps, keypoints, strides, tuple(levels))
    b, n, h, w = (ops.shape(maps)[0], int(maps.shape[1]), int(maps.shape[2]), int(maps.shape[3]))
    flat = ops.reshape(maps, (b, n, h * w))
    index, score, passed = ratio_test(flat, factor, ratio)
    xy = cell_centres(index, w, stride)
    valid = ops.logical_and(passed, ops.cast(keypoint_mask, "bool"))
    return xy, valid, score
