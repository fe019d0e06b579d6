"""S2DNet's objective: sparse-to-dense matching as classification over target cells (keras.ops only).

Paper (spec card "Method"): per level l the correspondence map C_l(p) of a source keypoint over every target
position is pushed towards a one-hot map at the ground-truth position: cross-entropy of softmax_u(C_l / T)
against the cell holding the true correspondence, summed over the levels. Not released (our choices,
README "Known differences"): C_l on L2-normalised descriptors (the cosine maps the matcher uses) with a
temperature T; the mean over keypoints whose correspondence lies inside the target image (others masked);
equal level weights.
"""

from __future__ import annotations

from keras import ops

from research.geometry.s2dnet.matching import correspondence_maps, l2_normalize, sample_descriptors


def loss_terms(levels: int) -> tuple[str, ...]:
    return tuple(f"level_{i + 1}_loss" for i in range(levels))


def correspondence_cross_entropy(logits, gt_index, mask):
    """Mean over mask of -log softmax(logits)[gt]: logits (B, N, M), gt_index (B, N) int, mask (B, N)."""
    log_p = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
    b, n, m = ops.shape(log_p)[0], int(log_p.shape[1]), int(log_p.shape[2])
    rows = ops.reshape(ops.arange(b * n, dtype="int32"), (b, n))  # one flat gather: few graph ops
    picked = ops.take(ops.reshape(log_p, (-1,)), rows * m + ops.cast(gt_index, "int32"))
    mask = ops.cast(mask, "float32")
    return -ops.sum(picked * mask) / ops.maximum(ops.sum(mask), 1.0)


def gt_cells(target_keypoints, height: int, width: int, stride: int):
    """(flat cell index (B, N), inside (B, N)) of continuous target pixels on a (height, width) map of `stride`."""
    col = ops.floor(target_keypoints[..., 0] / stride)
    row = ops.floor(target_keypoints[..., 1] / stride)
    inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
    col = ops.clip(ops.cast(col, "int32"), 0, width - 1)
    row = ops.clip(ops.cast(row, "int32"), 0, height - 1)
    return row * width + col, inside


def s2d_loss(source_maps, target_maps, keypoints, target_keypoints, keypoint_mask, strides, temperature: float):
    """(total, {level_<l>_loss}) over the levels; maps are lists of (B, h_l, w_l, C)."""
    mask = ops.cast(keypoint_mask, "bool")
    terms = {}
    for level, (source, target) in enumerate(zip(source_maps, target_maps, strict=True)):
        stride = strides[level]
        h, w = int(target.shape[1]), int(target.shape[2])
        d = l2_normalize(sample_descriptors(source, keypoints, stride))
        c = correspondence_maps(d, l2_normalize(target))
        logits = ops.reshape(c, (ops.shape(c)[0], int(c.shape[1]), h * w)) / temperature
        index, inside = gt_cells(target_keypoints, h, w, stride)
        terms[f"level_{level + 1}_loss"] = correspondence_cross_entropy(logits, index, ops.logical_and(mask, inside))
    total = sum(terms.values())
    return total, terms
