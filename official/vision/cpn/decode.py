"""CPN decoding in keras.ops with fixed shapes: corner top-K, K x K pairing, score fusion, flip merge.

Stage 1 (CPNDet `_generate_bboxes`): sigmoid heatmaps, 3x3 max-pool peak NMS, the top K corners of
each type over all classes and cells, every (top-left, bottom-right) pair as a proposal on the
integer output grid with score s_c = (s_tl + s_br) / 2; a pair is invalid (score - 1) when the two
classes differ or the bottom-right corner is left of or above the top-left one (equal coordinates
are allowed), on the grid and again after the sub-cell offsets refine the corners
(`reject_inverted`). Proposals keep the top-left corner's class.
Stage 2 fusion (CPNDet `_filter_bboxes`): proposals with grouping score >= threshold get
(s_c + 0.5) * (s_region[class] + 0.5) - 0.25; the others are rejected.
Flip test (CPNDet test/coco.py): detections of the flipped image are mirrored back; each detection's
score is raised by score * IoU of its best same-class counterpart in the other view when that IoU is
>= 0.3; both sets then go through soft-NMS together (`postprocess`).
"""

from __future__ import annotations

from keras import ops

from official.ops import box_ops, nms
from official.ops.heatmap_peaks import gather_cells, peak_nms, top_corners  # noqa: F401 (decode.* API)


def pair_corners(tl: dict, br: dict) -> dict:
    """All K x K (top-left, bottom-right) pairs as proposals (row = top-left, column = bottom-right).

    Returns boxes (B, K*K, 4) on the integer grid, scores (B, K*K) with invalid pairs minus 1,
    valid (B, K*K) bool, classes (B, K*K) int32 (the top-left class), and tl_rank / br_rank (K*K,)
    int32 positions of each pair's corners in the top-K lists.
    """
    k = tl["scores"].shape[1]
    tl_x, tl_y = tl["xs"][:, :, None], tl["ys"][:, :, None]
    br_x, br_y = br["xs"][:, None, :], br["ys"][:, None, :]
    boxes = ops.stack(
        [
            ops.broadcast_to(tl_x, (ops.shape(tl_x)[0], k, k)),
            ops.broadcast_to(tl_y, (ops.shape(tl_y)[0], k, k)),
            ops.broadcast_to(br_x, (ops.shape(br_x)[0], k, k)),
            ops.broadcast_to(br_y, (ops.shape(br_y)[0], k, k)),
        ],
        axis=-1,
    )
    scores = (tl["scores"][:, :, None] + br["scores"][:, None, :]) / 2.0
    invalid = ops.logical_or(
        tl["classes"][:, :, None] != br["classes"][:, None, :], ops.logical_or(br_x < tl_x, br_y < tl_y)
    )
    scores = scores - ops.cast(invalid, scores.dtype)
    classes = ops.broadcast_to(tl["classes"][:, :, None], ops.shape(scores))
    ranks = ops.arange(k * k, dtype="int32")
    return {
        "boxes": ops.reshape(boxes, (-1, k * k, 4)),
        "scores": ops.reshape(scores, (-1, k * k)),
        "valid": ops.reshape(ops.logical_not(invalid), (-1, k * k)),
        "classes": ops.reshape(classes, (-1, k * k)),
        "tl_rank": ranks // k,
        "br_rank": ranks % k,
    }


def corner_proposals(tl_logits, br_logits, k: int, kernel: int = 3) -> dict:
    """Stage 1 from heatmap logits (B, H, W, C): peaks, top-k, pairs (see `pair_corners`) plus
    tl / br top-k dicts and per-pair corner scores tl_scores / br_scores (B, K*K)."""
    tl = top_corners(peak_nms(ops.sigmoid(tl_logits), kernel), k)
    br = top_corners(peak_nms(ops.sigmoid(br_logits), kernel), k)
    pairs = pair_corners(tl, br)
    pairs["tl"], pairs["br"] = tl, br
    pairs["tl_scores"] = ops.take(tl["scores"], pairs["tl_rank"], axis=1)
    pairs["br_scores"] = ops.take(br["scores"], pairs["br_rank"], axis=1)
    return pairs


def refine_boxes(pairs: dict, tl_offsets, br_offsets):
    """Adds the sub-cell offsets (B, H, W, 2) of each pair's corners to its grid box -> (B, K*K, 4)."""
    tl_off = gather_cells(tl_offsets, pairs["tl"]["cells"])  # (B, K, 2)
    br_off = gather_cells(br_offsets, pairs["br"]["cells"])
    tl_off = ops.take(tl_off, pairs["tl_rank"], axis=1)
    br_off = ops.take(br_off, pairs["br_rank"], axis=1)
    return pairs["boxes"] + ops.concatenate([tl_off, br_off], axis=-1)


def reject_inverted(pairs: dict, refined) -> dict:
    """Marks pairs whose REFINED box (B, K*K, 4) has x2 < x1 or y2 < y1 invalid (score - 1, as
    `pair_corners` does on the grid). CornerNet's `_decode`, which CPNDet's decoding follows, tests
    widths and heights after adding the offsets: grid corners in the same cell or column pass the
    grid test, and their offsets can still invert the box (issue 24: 8 of 1,228 shapes detections)."""
    inverted = ops.logical_or(refined[..., 2] < refined[..., 0], refined[..., 3] < refined[..., 1])
    newly = ops.logical_and(pairs["valid"], inverted)
    out = dict(pairs)
    out["valid"] = ops.logical_and(pairs["valid"], ops.logical_not(inverted))
    out["scores"] = pairs["scores"] - ops.cast(newly, pairs["scores"].dtype)
    return out


def fuse_scores(corner_score, region_score):
    """CPN's final score: (s_c + 0.5) * (s_r + 0.5) - 0.25 (monotone in both, 0 when both are 0)."""
    return (corner_score + 0.5) * (region_score + 0.5) - 0.25


def flip_consistency(boxes_a, scores_a, classes_a, valid_a, boxes_b, scores_b, classes_b, valid_b, min_iou: float = 0.3):
    """Scores of view a raised by score * (best same-class IoU with view b, if >= min_iou); (B, N)."""
    iou = box_ops.iou_matrix(boxes_a, boxes_b, legacy=True)
    same = ops.logical_and(
        classes_a[:, :, None] == classes_b[:, None, :], ops.logical_and(valid_a[:, :, None], valid_b[:, None, :])
    )
    best = ops.max(ops.where(same, iou, 0.0), axis=2)
    best = ops.where(best >= min_iou, best, 0.0)
    return scores_a + scores_a * best


def postprocess(
    proposals: dict,
    batch: int,
    input_size: int,
    flip: bool,
    image_sizes=None,
    pre_nms_top_k: int = 1000,
    max_detections: int = 100,
    sigma: float = 0.5,
    merge_weight_exp: float | None = 10.0,
    nms_iou: float = 0.5,
) -> dict:
    """Unpacked proposals (`head.unpack_proposals`) of B images (or 2B: images then mirrors when
    `flip`) -> soft-NMS detections (B, max_detections); see `CPN.detect`."""
    k = min(pre_nms_top_k, proposals["scores"].shape[1])
    scores, index = ops.top_k(proposals["scores"], k)
    take = {
        name: ops.take_along_axis(proposals[name], index[..., None] if name == "boxes" else index, axis=1)
        for name in ("boxes", "classes", "tl_scores", "br_scores", "valid")
    }
    if image_sizes is None:
        height = width = ops.full((batch,), float(input_size))
    else:
        image_sizes = ops.cast(image_sizes, "float32")
        height, width = image_sizes[:, 0], image_sizes[:, 1]

    def finish(boxes, scores, valid):
        """CPNDet `_rescale_dets`: drop boxes more than 5 px outside the image, clip the rest."""
        x1, y1, x2, y2 = boxes[..., 0], boxes[..., 1], boxes[..., 2], boxes[..., 3]
        inside = ops.logical_and(
            ops.logical_and(x1 > -5.0, y1 > -5.0),
            ops.logical_and(x2 < width[:, None] + 5.0, y2 < height[:, None] + 5.0),
        )
        valid = ops.logical_and(valid, inside)
        return box_ops.clip_boxes(boxes, height, width), ops.where(valid, scores, -1.0), valid

    boxes, classes, tl_s, br_s = take["boxes"], take["classes"], take["tl_scores"], take["br_scores"]
    if flip:
        a = finish(boxes[:batch], scores[:batch], take["valid"][:batch])
        b = finish(box_ops.flip_horizontal(boxes[batch:], float(input_size)), scores[batch:], take["valid"][batch:])
        ca, cb = classes[:batch], classes[batch:]
        sa = flip_consistency(a[0], a[1], ca, a[2], b[0], b[1], cb, b[2])
        sb = flip_consistency(b[0], b[1], cb, b[2], a[0], a[1], ca, a[2])
        boxes = ops.concatenate([a[0], b[0]], axis=1)
        scores = ops.concatenate([sa, sb], axis=1)
        valid = ops.concatenate([a[2], b[2]], axis=1)
        classes = ops.concatenate([ca, cb], axis=1)
        tl_s = ops.concatenate([tl_s[:batch], tl_s[batch:]], axis=1)
        br_s = ops.concatenate([br_s[:batch], br_s[batch:]], axis=1)
    else:
        boxes, scores, valid = finish(boxes, scores, take["valid"])
    dets = nms.soft_nms(
        boxes, scores, max_detections, classes=classes, method="gaussian", iou_threshold=nms_iou, sigma=sigma,
        merge_weight_exp=merge_weight_exp, merge_weights=ops.stack([tl_s, br_s], axis=-1), legacy=True, valid=valid,
    )
    return {key: dets[key] for key in ("boxes", "scores", "classes", "num_detections", "valid")}
