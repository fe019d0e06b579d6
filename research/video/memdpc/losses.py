"""MemDPC's dense contrastive loss (memdpc/model.py get_loss; spec card memdpc.md "Dense contrastive loss").

Every predicted position (batch, step, y, x) scores against every ground-truth position with an unnormalised dot
product, S = Z_hat Z^T over B * pred_step * h * w rows in (batch, step, y, x) order; the loss is the cross-entropy
whose target is the matching row (the diagonal). All other positions of all videos and steps are negatives.
"""

from __future__ import annotations

from keras import ops


def score_matrix(pred, gt):
    """(B, P, h, w, c) predictions and targets -> (M, M) scores, M = B * P * h * w."""
    c = ops.shape(pred)[-1]
    return ops.matmul(ops.reshape(pred, (-1, c)), ops.transpose(ops.reshape(gt, (-1, c))))


def dense_contrastive(pred, gt):
    """Mean CE of the diagonal targets and top-1 / top-5 accuracy (calc_topk_accuracy) of one direction."""
    score = score_matrix(ops.cast(pred, "float32"), ops.cast(gt, "float32"))
    log_p = ops.log_softmax(score, axis=-1)
    loss = -ops.mean(ops.diagonal(log_p))
    diag = ops.expand_dims(ops.diagonal(score), -1)
    rank = ops.sum(ops.cast(score > diag, "float32"), axis=-1)  # how many rows beat the true one
    top1 = ops.mean(ops.cast(rank < 1, "float32"))
    top5 = ops.mean(ops.cast(rank < 5, "float32"))
    return loss, top1, top5


def memdpc_targets(features, pred_step: int):
    """Forward and backward ground truth: the last pred_step blocks of the pre-ReLU features and of their reversal."""
    return features[:, -pred_step:], ops.flip(features, axis=1)[:, -pred_step:]
