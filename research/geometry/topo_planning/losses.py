"""TopoPlan's objective (keras.ops only): per-node cross-entropy against the optimal next node, weighted.

train.py with --use_weights: CrossEntropyLoss(reduction='none')(logits (B*N, N), optimal_actions) times
w_i = min(weight_mat[i, target], 1000), then the mean over all B*N nodes. Padded nodes (node_mask 0) get
weight 0 and the mean runs over real nodes only, which is the authors' mean when every node is real.
"""

from __future__ import annotations

from keras import ops

WEIGHT_CLIP = 1000.0  # graph_dataset.py
LOSS_TERMS = ("action_loss", "action_accuracy")  # the second is tracked, not optimised


def node_cross_entropy(logits, actions):
    """(B, N) cross-entropy of (B, N, N) next-node logits against (B, N) integer actions."""
    log_probs = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
    picked = ops.take_along_axis(log_probs, ops.cast(actions, "int32")[..., None], axis=-1)
    return -picked[..., 0]


def weighted_action_loss(logits, actions, weights=None, node_mask=None):
    """mean over real nodes of min(w, 1000) * CE; weights None = ones, node_mask None = all real."""
    ce = node_cross_entropy(logits, actions)
    w = ops.ones_like(ce) if weights is None else ops.minimum(ops.cast(weights, "float32"), WEIGHT_CLIP)
    mask = ops.ones_like(ce) if node_mask is None else ops.cast(node_mask, "float32")
    return ops.sum(ce * w * mask) / ops.maximum(ops.sum(mask), 1.0)


def action_accuracy(logits, actions, node_mask=None):
    """Share of real nodes whose argmax is the optimal action (a tracked training metric)."""
    hit = ops.cast(ops.equal(ops.argmax(logits, axis=-1), ops.cast(actions, "int32")), "float32")
    mask = ops.ones_like(hit) if node_mask is None else ops.cast(node_mask, "float32")
    return ops.sum(hit * mask) / ops.maximum(ops.sum(mask), 1.0)
