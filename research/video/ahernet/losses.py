"""AherNet's losses (keras.ops): detection (`aher_losses_classwise_iou`, the repo's `losses_complete`),
moment classification and the masked adversarial background losses (aher_adv.py `Adversary_Back_Train`).

Detection, given each anchor's best ground-truth IoU g (official.ops.temporal_segments.match_anchors):
- positives g > match_threshold (0.8); negatives g < neg_threshold (0.3) and not positive; of those the
  hardest n_neg = min(ratio * n_pos + batch, #neg) by background probability are kept (strictly below
  the n_neg-th smallest, as the official `nvalues < max_hard_pred`);
- proposal: softmax CE (pos / bg) x cls_weight over positives + kept negatives, / their count;
- localisation: smooth-L1 of the offsets on positives, / the same count;
- classification: softmax CE of the per-position transferred logits against the video's label, summed
  over positions, / batch, x cls_weight (the official default anchor_position_wise=False);
- IoU: squared error of sigmoid(IoU logits) against g where g > 0, x iou_weight, / their count.
"""

from __future__ import annotations

from keras import ops


def _smooth_l1(x):
    a = ops.abs(x)
    return ops.where(a < 1.0, 0.5 * x * x, a - 0.5)


def _softmax_ce(logits, labels):
    """Per-row CE of integer labels (any leading shape)."""
    logp = logits - ops.logsumexp(logits, axis=-1, keepdims=True)
    return -ops.take_along_axis(logp, ops.expand_dims(ops.cast(labels, "int32"), -1), axis=-1)[..., 0]


def hard_negative_mask(pos, neg, background_prob, ratio: float, batch: int):
    """Negatives kept for the proposal loss: the lowest background probabilities, n = ratio * #pos + batch."""
    flat = ops.reshape(ops.where(neg, background_prob, 1.0), (-1,))
    n_neg = ops.minimum(ops.cast(ratio * ops.sum(ops.cast(pos, "float32")), "int32") + batch,
                        ops.sum(ops.cast(neg, "int32")))
    ordered = ops.sort(flat)
    kth = ops.take(ordered, ops.maximum(n_neg - 1, 0))
    return ops.logical_and(ops.logical_and(neg, ops.reshape(flat, ops.shape(neg)) < kth), n_neg > 0)


def detection_losses(outputs, match, video_labels, match_threshold: float = 0.8, neg_threshold: float = 0.3,
                     negative_ratio: float = 1.0, cls_weight: float = 2.0, iou_weight: float = 25.0,
                     loc_weight: float = 1.0) -> dict:
    """The four terms and their sum; `video_labels` (B,) int (one class per training video)."""
    g = match["iou"]
    batch = g.shape[0] if g.shape[0] is not None else ops.shape(g)[0]
    pos = g > match_threshold
    neg = ops.logical_and(ops.logical_not(pos), g < neg_threshold)
    prop_prob = ops.softmax(outputs["proposal_logits"], axis=-1)
    kept_neg = hard_negative_mask(pos, neg, ops.stop_gradient(prop_prob[..., 0]), negative_ratio, batch)
    used = ops.cast(ops.logical_or(pos, kept_neg), "float32")
    n_used = ops.maximum(ops.sum(used), 1.0)
    prop_ce = _softmax_ce(outputs["proposal_logits"], ops.cast(pos, "int32"))
    proposal = ops.sum(prop_ce * used) * cls_weight / n_used
    fpos = ops.cast(pos, "float32")
    localisation = ops.sum(ops.sum(_smooth_l1(outputs["offsets"] - match["offsets"]), -1) * fpos) * loc_weight / n_used
    logits = outputs["class_logits"]
    labels = ops.broadcast_to(ops.cast(video_labels, "int32")[:, None], ops.shape(logits)[:2])
    classification = ops.sum(_softmax_ce(logits, labels)) * cls_weight / ops.cast(batch, "float32")
    has_iou = ops.cast(match["iou_target"] != -1.0, "float32")
    iou_err = ops.square(ops.sigmoid(outputs["iou_logits"]) - match["iou_target"])
    iou = ops.sum(iou_err * has_iou) * iou_weight / ops.maximum(ops.sum(has_iou), 1.0)
    return {"proposal": proposal, "localisation": localisation, "classification": classification, "iou": iou,
            "total": proposal + localisation + classification + iou}


def moment_classification_loss(moment_logits, labels):
    """CE of every layer's pooled logits (B, L, K) against the moment labels (B,), summed over layers, / batch."""
    labels = ops.broadcast_to(ops.cast(labels, "int32")[:, None], ops.shape(moment_logits)[:2])
    return ops.sum(_softmax_ce(moment_logits, labels)) / ops.cast(ops.shape(moment_logits)[0], "float32")


def _bce_logits(logits, target: float):
    return ops.maximum(logits, 0.0) - logits * target + ops.log1p(ops.exp(-ops.abs(logits)))


def adversarial_losses(real_logits, fake_logits, real_iou, fake_iou, dis_weight: float = 0.1,
                       gen_weight: float = 0.1, neg_threshold: float = 0.3) -> dict:
    """d_loss = BCE(real, 1) + BCE(fake, 0), g_loss = BCE(fake, 1) over anchors that are background
    (IoU < 0.3) in both the real and the synthetic sequence, each / their count x weight."""
    mask = ops.cast(ops.logical_and(real_iou < neg_threshold, fake_iou < neg_threshold), "float32")
    n = ops.maximum(ops.sum(mask), 1.0)
    d_real = ops.sum(_bce_logits(real_logits, 1.0) * mask) * dis_weight / n
    d_fake = ops.sum(_bce_logits(fake_logits, 0.0) * mask) * dis_weight / n
    g = ops.sum(_bce_logits(fake_logits, 1.0) * mask) * gen_weight / n
    return {"d_loss": d_real + d_fake, "g_loss": g}
