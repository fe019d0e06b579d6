"""Soft aggregation of per-object probabilities into one label distribution (models/graph_memory.py
`Soft_aggregation`, from STM): each object runs separately, then background = prod(1 - p_o), every entry is
clamped to [1e-7, 1 - 1e-7] and turned into the logit log(p / (1 - p)); a softmax over {background,
objects} then gives the normalised odds. Object slots are a fixed maximum with a validity mask (static
shapes); a padded slot has probability 0, so its logit is log(1e-7 / (1 - 1e-7)) as in the release."""

from __future__ import annotations

from keras import ops

EPS = 1e-7  # the release's clamp


def soft_aggregate(probs, object_mask=None):
    """probs (B, H, W, O) foreground probabilities per object slot, object_mask (B, O) valid slots ->
    logits (B, H, W, O + 1), channel 0 the background."""
    if object_mask is not None:
        probs = probs * ops.cast(object_mask, probs.dtype)[:, None, None, :]
    background = ops.prod(1 - probs, axis=-1, keepdims=True)
    em = ops.clip(ops.concatenate([background, probs], axis=-1), EPS, 1 - EPS)
    return ops.log(em / (1 - em))
