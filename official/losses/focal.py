"""CornerNet's penalty-reduced focal loss on Gaussian heatmaps, and the masked smooth-L1 offset loss.

Focal loss (CornerNet eq. 1; CPN uses it for the corner heatmaps and both proposal classifiers):
    L = -1/N_pos * sum( (1-p)^alpha log p               where y == 1
                      + (1-y)^beta p^alpha log(1-p)     where y < 1 )
with p = clamp(sigmoid(logit), 1e-4, 1 - 1e-4) (the official `_sigmoid`); when there is no positive
the sum is divided by 1 (the official code returns the negative term alone). N_pos counts the
positives of the whole tensor (the whole per-replica batch), not per image.
"""

from __future__ import annotations

from keras import ops

PROB_CLAMP = 1e-4  # CornerNet/CPN `_sigmoid`: clamp(sigmoid(x), 1e-4, 1 - 1e-4)


def clamped_sigmoid(logits):
    return ops.clip(ops.sigmoid(logits), PROB_CLAMP, 1.0 - PROB_CLAMP)


def penalty_reduced_focal_loss(
    logits,
    targets,
    weights=None,
    alpha: float = 2.0,
    beta: float = 4.0,
    from_logits: bool = True,
):
    """Scalar focal loss of `logits` (any shape) against Gaussian `targets` in [0, 1] (1 = positive).

    `weights` (broadcastable to logits, 0/1) removes padded entries from both sums and from N_pos.
    With `from_logits=False` the inputs are probabilities (clamped the same way).
    """
    logits = ops.cast(logits, "float32")
    targets = ops.cast(targets, "float32")
    p = clamped_sigmoid(logits) if from_logits else ops.clip(logits, PROB_CLAMP, 1.0 - PROB_CLAMP)
    pos = ops.cast(targets == 1.0, "float32")
    neg = 1.0 - pos
    if weights is not None:
        w = ops.cast(weights, "float32")
        pos, neg = pos * w, neg * w
    pos_term = ops.log(p) * ops.power(1.0 - p, alpha) * pos
    neg_term = ops.log(1.0 - p) * ops.power(p, alpha) * ops.power(1.0 - targets, beta) * neg
    num_pos = ops.sum(pos)
    return -(ops.sum(pos_term) + ops.sum(neg_term)) / ops.maximum(num_pos, 1.0)


def masked_smooth_l1(pred, target, mask, beta: float = 1.0):
    """sum(smooth_l1(pred - target) over masked rows) / (number of masked rows + 1e-4).

    pred, target: (..., D); mask: (...,) 0/1. The official `_regr_loss` divides by the number of
    objects (not objects x D), with the same 1e-4.
    """
    diff = ops.abs(ops.cast(pred, "float32") - ops.cast(target, "float32"))
    per = ops.where(diff < beta, 0.5 * diff * diff / beta, diff - 0.5 * beta)
    mask = ops.cast(mask, "float32")
    return ops.sum(per * mask[..., None]) / (ops.sum(mask) + 1e-4)
