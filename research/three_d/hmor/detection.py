"""HMOR's person detector head: a one-stage FCOS-style head on one feature level (RECONSTRUCTED).

The spec card recalls an anchor-based Faster R-CNN-style detector (unverified). Here, as the issue allows,
a simpler one-stage head stands in (flagged in the model card): per feature cell an objectness logit and
the (left, top, right, bottom) distances from the cell centre to the box sides, as log(distance / stride).
Targets follow FCOS's centre sampling: a cell is positive for a box when its centre lies inside the box
and within `radius` strides of the box centre (ties: the smallest box). Decoding turns every cell into a
box and runs the zoo's padded hard NMS (official/ops/nms.py), so the detections have a fixed count.
"""

from __future__ import annotations

from keras import ops

from official.ops import box_ops
from official.ops.nms import non_max_suppression


def cell_centers(height: int, width: int, stride: float):
    """(H*W, 2) (x, y) centres of the cells of an (H, W) map in input pixels, row-major."""
    ys, xs = ops.meshgrid(ops.arange(height, dtype="float32"), ops.arange(width, dtype="float32"), indexing="ij")
    return ops.stack([ops.reshape(xs, (-1,)), ops.reshape(ys, (-1,))], axis=-1) * stride + 0.5 * stride


def decode_boxes(ltrb, centers, stride: float):
    """(B, N, 4) log-distance regressions at (N, 2) cell centres -> (B, N, 4) x1, y1, x2, y2."""
    dist = ops.exp(ops.minimum(ops.cast(ltrb, "float32"), 10.0)) * stride
    cx, cy = centers[None, :, 0], centers[None, :, 1]
    return ops.stack([cx - dist[..., 0], cy - dist[..., 1], cx + dist[..., 2], cy + dist[..., 3]], axis=-1)


def detection_targets(gt_boxes, person_mask, centers, stride: float, radius: float = 1.5):
    """Dense targets: (B, N) positive mask, (B, N, 4) log(distance / stride) regressions.

    gt_boxes: (B, P, 4) input pixels; person_mask: (B, P). A cell is positive when its centre is inside
    a real box and within radius * stride of that box's centre; it regresses the smallest such box.
    """
    boxes = ops.cast(gt_boxes, "float32")
    cx, cy = centers[None, :, None, 0], centers[None, :, None, 1]  # (1, N, 1)
    x1, y1, x2, y2 = (boxes[:, None, :, i] for i in range(4))  # (B, 1, P)
    left, top, right, bottom = cx - x1, cy - y1, x2 - cx, y2 - cy
    inside = ops.minimum(ops.minimum(left, top), ops.minimum(right, bottom)) > 0
    bcx, bcy = 0.5 * (x1 + x2), 0.5 * (y1 + y2)
    near = ops.logical_and(ops.abs(cx - bcx) <= radius * stride, ops.abs(cy - bcy) <= radius * stride)
    ok = inside & near & (ops.cast(person_mask, "float32")[:, None, :] > 0)
    area = (x2 - x1) * (y2 - y1)
    cost = ops.where(ok, area, 1e12)  # (B, N, P)
    pick = ops.argmin(cost, axis=-1)  # (B, N)
    positive = ops.any(ok, axis=-1)
    onehot = ops.one_hot(pick, boxes.shape[1])  # (B, N, P)
    dist = ops.stack([left, top, right, bottom], axis=-1) * onehot[..., None]  # (B, N, P, 4)
    dist = ops.sum(dist, axis=2)
    target = ops.log(ops.maximum(dist, 1e-3) / stride)
    return ops.cast(positive, "float32"), target


def sigmoid_focal_loss(logits, positive, alpha: float = 0.25, gamma: float = 2.0):
    """Per-element sigmoid focal loss (FCOS / RetinaNet)."""
    logits = ops.cast(logits, "float32")
    p = ops.sigmoid(logits)
    ce = ops.softplus(logits) - positive * logits  # BCE with logits
    p_t = p * positive + (1.0 - p) * (1.0 - positive)
    a_t = alpha * positive + (1.0 - alpha) * (1.0 - positive)
    return a_t * ops.power(1.0 - p_t, gamma) * ce


def detection_losses(objectness, ltrb, gt_boxes, person_mask, centers, stride: float, radius: float = 1.5):
    """(focal objectness loss / positives, L1 box loss over positives) of flattened (B, N, 1|4) maps."""
    positive, target = detection_targets(gt_boxes, person_mask, centers, stride, radius)
    num_pos = ops.maximum(ops.sum(positive), 1.0)
    cls = ops.sum(sigmoid_focal_loss(objectness[..., 0], positive)) / num_pos
    box = ops.sum(ops.sum(ops.abs(ops.cast(ltrb, "float32") - target), axis=-1) * positive) / (4.0 * num_pos)
    return cls, box


def detect(objectness, ltrb, centers, stride: float, max_detections: int, image_hw,
           iou_threshold: float = 0.5, score_threshold: float = 0.05) -> dict:
    """Flattened head maps -> padded detections {boxes (B, M, 4), scores, valid, num_detections}."""
    boxes = decode_boxes(ltrb, centers, stride)
    boxes = box_ops.clip_boxes(boxes, float(image_hw[0]), float(image_hw[1]))
    scores = ops.sigmoid(ops.cast(objectness[..., 0], "float32"))
    out = non_max_suppression(boxes, scores, max_detections, iou_threshold=iou_threshold,
                              score_threshold=score_threshold)
    return {k: out[k] for k in ("boxes", "scores", "valid", "num_detections")}
