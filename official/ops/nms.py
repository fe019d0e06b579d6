"""Hard NMS and soft-NMS (linear / Gaussian, optional box merging) with fixed-size padded outputs.

Both are the same greedy loop run exactly `max_output_size` times (`keras.ops.fori_loop`), so the
shapes are static for XLA: each step takes the highest-scoring box still alive, writes it to the next
output row, then re-weights every other alive box of the same class by its IoU with the pick:
- hard:     weight = 0 if IoU > iou_threshold else 1 (suppressed boxes are removed);
- linear:   weight = 1 - IoU if IoU > iou_threshold else 1 (Bodla et al. 2017);
- gaussian: weight = exp(-IoU^2 / sigma). CornerNet/CenterNet/CPN call this "exp_soft_nms" and
            "exponential"; "exponential" is accepted as that alias.
Boxes whose score falls below `score_threshold` are removed. Picks come out in decreasing order of
their final score, so the first k rows equal running per-class soft-NMS to the end and keeping the k
best (the CornerNet test protocol), without running the per-class loops.

`merge_weight_exp` reproduces CornerNet's `soft_nms_merge`: the picked box becomes the average of
itself and the boxes it overlaps (same class, positive "+1" intersection), each weighted by
(1 - weight)^merge_weight_exp; x1/y1 are additionally weighted by the first column of
`merge_weights` (the top-left corner score), x2/y2 by the second (bottom-right corner score).
Padded rows have valid=False, score 0 and index -1.
"""

from __future__ import annotations

from keras import ops

from official.ops import box_ops

METHODS = ("hard", "linear", "gaussian", "exponential")


def _gather_rows(x, index):
    """x (B, N, ...) at index (B,) -> (B, ...)."""
    idx = ops.reshape(index, (-1, 1) + (1,) * (len(x.shape) - 2))
    return ops.squeeze(ops.take_along_axis(x, idx, axis=1), axis=1)


def soft_nms(
    boxes,
    scores,
    max_output_size: int,
    classes=None,
    method: str = "gaussian",
    iou_threshold: float = 0.5,
    sigma: float = 0.5,
    score_threshold: float = 0.001,
    merge_weight_exp: float | None = None,
    merge_weights=None,
    legacy: bool = True,
    valid=None,
) -> dict:
    """Greedy (soft-)NMS over a batch.

    Args:
      boxes: (B, N, 4) x1, y1, x2, y2.
      scores: (B, N).
      max_output_size: M, output rows per image.
      classes: optional (B, N) int; boxes only interact with boxes of the same class.
      method: "hard" | "linear" | "gaussian" ("exponential" = "gaussian").
      iou_threshold: Nt of the hard and linear rules.
      sigma: Gaussian rule parameter.
      score_threshold: boxes scoring below this (initially or after decay) are dropped.
      merge_weight_exp: if set, merge overlapping boxes into each pick (see the module docstring).
      merge_weights: (B, N, 2) corner weights for merging; ones if None.
      legacy: "+1" IoU (CornerNet's nms.pyx) or continuous IoU.
      valid: optional (B, N) bool; False rows never take part.

    Returns:
      dict with boxes (B, M, 4), scores (B, M), classes (B, M) (0 if classes is None),
      indices (B, M) int32 into N (-1 for padding), valid (B, M) bool, num_detections (B,) int32.
    """
    if method not in METHODS:
        raise ValueError(f"soft_nms: method must be one of {METHODS}, got {method!r}")
    boxes = ops.cast(boxes, "float32")
    scores = ops.cast(scores, "float32")
    batch, n = ops.shape(scores)[0], scores.shape[1]
    if classes is None:
        classes = ops.zeros_like(scores, dtype="int32")
    classes = ops.cast(classes, "int32")
    if merge_weights is None:
        merge_weights = ops.ones_like(boxes[..., :2])
    merge_weights = ops.cast(merge_weights, "float32")
    alive = scores >= score_threshold
    if valid is not None:
        alive = ops.logical_and(alive, ops.cast(valid, "bool"))
    m = max_output_size
    slots = ops.arange(m, dtype="int32")
    positions = ops.arange(n, dtype="int32")[None, :]
    def body(step, state):
        alive, current, out_boxes, out_scores, out_classes, out_index, out_valid = state
        masked = ops.where(alive, current, -3.0e38)
        pick = ops.cast(ops.argmax(masked, axis=1), "int32")  # (B,)
        picked_ok = ops.any(alive, axis=1)
        pick_box = _gather_rows(boxes, pick)  # (B, 4)
        pick_score = _gather_rows(current, pick)
        pick_class = _gather_rows(classes, pick)
        alive = ops.logical_and(alive, positions != pick[:, None])
        same = ops.logical_and(alive, classes == pick_class[:, None])
        inter = box_ops.intersection(pick_box[:, None, :], boxes, legacy)[:, 0, :]  # (B, N)
        union = box_ops.box_area(pick_box, legacy)[:, None] + box_ops.box_area(boxes, legacy) - inter
        iou = ops.where(union > 0, inter / ops.maximum(union, 1e-9), 0.0)
        overlapping = ops.logical_and(same, inter > 0)
        if method == "hard":
            weight = ops.where(iou > iou_threshold, 0.0, 1.0)
        elif method == "linear":
            weight = ops.where(iou > iou_threshold, 1.0 - iou, 1.0)
        else:
            weight = ops.exp(-(iou * iou) / sigma)
        weight = ops.where(overlapping, weight, 1.0)
        if merge_weight_exp is not None:
            pick_mw = _gather_rows(merge_weights, pick)  # (B, 2)
            mw = ops.where(overlapping, ops.power(1.0 - weight, merge_weight_exp), 0.0)[..., None] * merge_weights
            corner_w = ops.concatenate([mw[..., :1], mw[..., :1], mw[..., 1:], mw[..., 1:]], axis=-1)  # (B,N,4)
            pick_w = ops.concatenate([pick_mw[:, :1], pick_mw[:, :1], pick_mw[:, 1:], pick_mw[:, 1:]], axis=-1)
            merged = (pick_box * pick_w + ops.sum(boxes * corner_w, axis=1)) / ops.maximum(
                pick_w + ops.sum(corner_w, axis=1), 1e-12
            )
            pick_box = ops.where(ops.sum(corner_w, axis=1) > 0, merged, pick_box)
        decayed = ops.where(same, current * weight, current)
        removed = ops.logical_and(same, ops.logical_or(decayed < score_threshold, weight <= 0.0))
        alive = ops.logical_and(alive, ops.logical_not(removed))
        here = (slots == step)[None, :]  # (1, M)
        ok = picked_ok[:, None]
        out_boxes = ops.where((here & ok)[..., None], pick_box[:, None, :], out_boxes)
        out_scores = ops.where(here & ok, pick_score[:, None], out_scores)
        out_classes = ops.where(here & ok, pick_class[:, None], out_classes)
        out_index = ops.where(here & ok, pick[:, None], out_index)
        out_valid = ops.logical_or(out_valid, here & ok)
        return alive, decayed, out_boxes, out_scores, out_classes, out_index, out_valid

    init = (
        alive,
        scores,
        ops.zeros((batch, m, 4), "float32"),
        ops.zeros((batch, m), "float32"),
        ops.zeros((batch, m), "int32"),
        ops.full((batch, m), -1, "int32"),
        ops.zeros((batch, m), "bool"),
    )
    _, _, out_boxes, out_scores, out_classes, out_index, out_valid = ops.fori_loop(0, m, body, init)
    return {
        "boxes": out_boxes,
        "scores": out_scores,
        "classes": out_classes,
        "indices": out_index,
        "valid": out_valid,
        "num_detections": ops.sum(ops.cast(out_valid, "int32"), axis=1),
    }


def non_max_suppression(
    boxes,
    scores,
    max_output_size: int,
    iou_threshold: float = 0.5,
    score_threshold: float = float("-inf"),
    classes=None,
    legacy: bool = False,
    valid=None,
) -> dict:
    """Hard greedy NMS (class-aware when `classes` is given) with padded outputs; see `soft_nms`."""
    return soft_nms(
        boxes,
        scores,
        max_output_size,
        classes=classes,
        method="hard",
        iou_threshold=iou_threshold,
        score_threshold=score_threshold,
        legacy=legacy,
        valid=valid,
    )
