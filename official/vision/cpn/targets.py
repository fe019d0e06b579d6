"""Stage-2 training targets of CPN: proposal assignment and selection, in keras.ops with fixed shapes.

CPNDet trains the grouping and region classifiers on the proposals its own stage 1 decodes (valid
pairs of the last stack, on the integer output grid), with mmdetection's MaxIoUAssigner
(pos_iou_thr 0.7, neg_iou_thr 0.7, min_pos_iou 0.5, "+1" IoU) and a RandomSampler (num 4900,
pos_fraction 1, add_gt_as_proposals). Here the candidate rows are [ground truth (max_boxes rows),
proposals (K*K rows)] with validity masks:
- a proposal is positive for its highest-IoU object when that IoU >= 0.7;
- every object also claims the proposals that reach its own highest IoU over proposals, when that
  is >= 0.5 (later objects win ties, as in mmdetection's loop); ground-truth rows are positive for
  themselves;
- the `num_samples` rows kept are the positives first, then the negatives, each by stage-1 score
  (ground truth first). The sampler here is deterministic instead of random: with the default
  4,900 samples it only matters when more than 4,900 rows are valid, and then it keeps the
  highest-scoring negatives.
Labels: grouping 1 for positives; region = one-hot class of the assigned object (all zeros for
negatives).
"""

from __future__ import annotations

from keras import ops

from official.ops import box_ops


def assign_proposals(
    proposals,
    proposal_scores,
    proposal_valid,
    gt_boxes,
    gt_classes,
    gt_mask,
    num_classes: int,
    num_samples: int,
    pos_iou: float = 0.7,
    min_pos_iou: float = 0.5,
) -> dict:
    """Selects and labels stage-2 rows.

    Args:
      proposals: (B, P, 4) grid boxes; proposal_scores: (B, P) stage-1 scores; proposal_valid: (B, P).
      gt_boxes: (B, G, 4) grid boxes; gt_classes: (B, G) int (-1 padding); gt_mask: (B, G) 0/1.
      num_classes: region label width.
      num_samples: S, rows returned per image (<= G + P).

    Returns:
      boxes (B, S, 4), valid (B, S) bool, is_gt (B, S) bool, grouping_labels (B, S) float32,
      region_labels (B, S, num_classes) float32.
    """
    gt_valid = ops.cast(gt_mask, "bool")
    proposal_valid = ops.cast(proposal_valid, "bool")
    g = gt_boxes.shape[1]
    iou = box_ops.iou_matrix(proposals, gt_boxes, legacy=True)  # (B, P, G)
    pair_ok = ops.logical_and(proposal_valid[:, :, None], gt_valid[:, None, :])
    iou = ops.where(pair_ok, iou, -1.0)
    best_iou = ops.max(iou, axis=2)
    assigned = ops.where(best_iou >= pos_iou, ops.cast(ops.argmax(iou, axis=2), "int32"), -1)
    # Low-quality matches: every object keeps the proposals at its own best IoU (>= min_pos_iou).
    gt_best = ops.max(iou, axis=1)  # (B, G)
    claims = ops.logical_and(
        ops.logical_and(iou == gt_best[:, None, :], pair_ok), (gt_best >= min_pos_iou)[:, None, :]
    )
    last_claim = ops.max(ops.where(claims, ops.arange(1, g + 1, dtype="int32")[None, None, :], 0), axis=2) - 1
    assigned = ops.where(last_claim >= 0, last_claim, assigned)

    rows = ops.concatenate([ops.cast(gt_boxes, "float32"), ops.cast(proposals, "float32")], axis=1)
    row_valid = ops.concatenate([gt_valid, proposal_valid], axis=1)
    gt_index = ops.broadcast_to(ops.arange(g, dtype="int32")[None, :], ops.shape(gt_classes))
    row_assigned = ops.concatenate([ops.where(gt_valid, gt_index, -1), assigned], axis=1)
    row_assigned = ops.where(row_valid, row_assigned, -1)
    is_gt = ops.concatenate([gt_valid, ops.zeros_like(proposal_valid)], axis=1)
    positive = row_assigned >= 0
    score = ops.concatenate([ops.ones_like(ops.cast(gt_mask, "float32")), ops.clip(proposal_scores, 0.0, 1.0)], axis=1)
    key = ops.where(row_valid, 1.0 + ops.cast(positive, "float32") * 2.0 + score, 0.0)
    key, order = ops.top_k(key, num_samples)
    order = ops.cast(order, "int32")

    boxes = ops.take_along_axis(rows, order[..., None], axis=1)
    assigned_sel = ops.take_along_axis(row_assigned, order, axis=1)
    positive_sel = assigned_sel >= 0
    cls = ops.take_along_axis(ops.cast(gt_classes, "int32"), ops.maximum(assigned_sel, 0), axis=1)
    region = ops.one_hot(ops.where(positive_sel, cls, -1), num_classes)
    return {
        "boxes": boxes,
        "valid": key > 0.0,
        "is_gt": ops.take_along_axis(is_gt, order, axis=1),
        "grouping_labels": ops.cast(positive_sel, "float32"),
        "region_labels": ops.cast(region, "float32") * ops.cast(positive_sel, "float32")[..., None],
    }
