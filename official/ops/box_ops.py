"""Box utilities shared by detectors (keras.ops only): areas, IoU, clipping, flips, formats, coders.

Boxes are (x1, y1, x2, y2) in the last axis. `legacy=True` uses the "+1" pixel-index convention of
Detectron / mmdetection v1 / CornerNet (a box from 0 to 0 is one pixel wide), which CPN's proposal
assignment and soft-NMS were written with; `legacy=False` is the continuous convention.
"""

from __future__ import annotations

import math

from keras import ops


def _unstack(boxes):
    return boxes[..., 0], boxes[..., 1], boxes[..., 2], boxes[..., 3]


def box_area(boxes, legacy: bool = False):
    """Area of (..., 4) boxes; widths and heights below 0 count as 0."""
    one = 1.0 if legacy else 0.0
    x1, y1, x2, y2 = _unstack(boxes)
    return ops.maximum(x2 - x1 + one, 0.0) * ops.maximum(y2 - y1 + one, 0.0)


def intersection(a, b, legacy: bool = False):
    """Pairwise intersection areas: a (..., N, 4), b (..., M, 4) -> (..., N, M)."""
    one = 1.0 if legacy else 0.0
    ax1, ay1, ax2, ay2 = [t[..., :, None] for t in _unstack(a)]
    bx1, by1, bx2, by2 = [t[..., None, :] for t in _unstack(b)]
    iw = ops.maximum(ops.minimum(ax2, bx2) - ops.maximum(ax1, bx1) + one, 0.0)
    ih = ops.maximum(ops.minimum(ay2, by2) - ops.maximum(ay1, by1) + one, 0.0)
    return iw * ih


def iou_matrix(a, b, legacy: bool = False, eps: float = 1e-9):
    """Pairwise IoU: a (..., N, 4), b (..., M, 4) -> (..., N, M); 0 where the union is empty."""
    inter = intersection(a, b, legacy)
    union = box_area(a, legacy)[..., :, None] + box_area(b, legacy)[..., None, :] - inter
    return ops.where(union > eps, inter / ops.maximum(union, eps), 0.0)


def clip_boxes(boxes, height, width):
    """Clips x to [0, width] and y to [0, height]; height/width are scalars or (...,) per-box-set."""
    height = ops.cast(height, boxes.dtype)
    width = ops.cast(width, boxes.dtype)
    if len(ops.shape(height)) > 0:  # one size per leading index: broadcast over the box axis
        height, width = height[..., None], width[..., None]
    x1, y1, x2, y2 = _unstack(boxes)

    def clip(v, hi):
        return ops.minimum(ops.maximum(v, 0.0), hi)

    return ops.stack([clip(x1, width), clip(y1, height), clip(x2, width), clip(y2, height)], axis=-1)


def flip_horizontal(boxes, width):
    """Boxes of an image mirrored left-right: x -> width - x (continuous convention)."""
    x1, y1, x2, y2 = _unstack(boxes)
    return ops.stack([width - x2, y1, width - x1, y2], axis=-1)


def xyxy_to_xywh(boxes):
    x1, y1, x2, y2 = _unstack(boxes)
    return ops.stack([x1, y1, x2 - x1, y2 - y1], axis=-1)


def xywh_to_xyxy(boxes):
    x, y, w, h = _unstack(boxes)
    return ops.stack([x, y, x + w, y + h], axis=-1)


_MAX_LOG_RATIO = math.log(1000.0 / 16.0)  # Detectron's clamp on dw/dh before exp


def encode_boxes(boxes, anchors, weights: tuple[float, float, float, float] = (10.0, 10.0, 5.0, 5.0)):
    """Faster R-CNN deltas (dx, dy, dw, dh) * weights of `boxes` relative to `anchors` (same shape).

    mmdetection's target_stds s correspond to weights 1/s (stds (0.1, 0.1, 0.2, 0.2) = (10, 10, 5, 5)).
    """
    ax1, ay1, ax2, ay2 = _unstack(anchors)
    bx1, by1, bx2, by2 = _unstack(boxes)
    aw, ah = ax2 - ax1, ay2 - ay1
    bw, bh = bx2 - bx1, by2 - by1
    wx, wy, ww, wh = weights
    return ops.stack(
        [
            wx * ((bx1 + 0.5 * bw) - (ax1 + 0.5 * aw)) / aw,
            wy * ((by1 + 0.5 * bh) - (ay1 + 0.5 * ah)) / ah,
            ww * ops.log(bw / aw),
            wh * ops.log(bh / ah),
        ],
        axis=-1,
    )


def decode_boxes(deltas, anchors, weights: tuple[float, float, float, float] = (10.0, 10.0, 5.0, 5.0)):
    """Inverse of `encode_boxes`; dw/dh are clamped at log(1000/16) as in Detectron."""
    ax1, ay1, ax2, ay2 = _unstack(anchors)
    aw, ah = ax2 - ax1, ay2 - ay1
    wx, wy, ww, wh = weights
    dx, dy = deltas[..., 0] / wx, deltas[..., 1] / wy
    dw = ops.minimum(deltas[..., 2] / ww, _MAX_LOG_RATIO)
    dh = ops.minimum(deltas[..., 3] / wh, _MAX_LOG_RATIO)
    cx, cy = ax1 + 0.5 * aw + dx * aw, ay1 + 0.5 * ah + dy * ah
    w, h = aw * ops.exp(dw), ah * ops.exp(dh)
    return ops.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], axis=-1)
