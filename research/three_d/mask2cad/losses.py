"""Mask2CAD losses on the per-RoI heads (keras.ops only): noise-contrastive shape embedding, rotation bin
cross-entropy, Huber on the quaternion residual and on the normalised centre offset.

Spec card `Losses` (weights from the unofficial re-implementation, "reimpl"):
    total = L_maskrcnn + 0.5 L_embed + 0.25 L_rotcls + 5.0 (L_rotreg + L_centre)
L_embed, per image-object embedding e and rendered-view embeddings v (both L2-normalised), s = <e, v> / tau:
    -log( exp(s_pos) / (exp(s_pos) + C * sum_neg exp(s_neg)) ),  tau = 0.15, C = 1.5
with positives the views of the GT CAD model and negatives the views of the other models of the same
category (optionally only the hardest N by similarity). GUESS: the card writes a sum over positives; we
average over the positives of a row and over rows, so the value does not scale with the number of views
(with all similarities equal it is log(1 + C n_neg), card check 3). Computed with logsumexp for stability.
Huber: 0.5 x^2 for |x| <= delta, delta (|x| - delta / 2) beyond, delta = 0.15, averaged over components
(keras.losses.Huber / torch huber_loss). GUESS: the residual is regressed on the raw head output (the
identity-biased quaternion), not on its normalisation; decoding normalises.
"""

from __future__ import annotations

from keras import ops

TAU = 0.15  # spec card: temperature of the embedding similarities
NOISE_C = 1.5  # spec card: weight C of the negatives
HUBER_DELTA = 0.15  # spec card: Huber delta of rotation residual and centre
WEIGHTS = {"embed": 0.5, "rotation_cls": 0.25, "rotation_reg": 5.0, "centre": 5.0}  # reimpl loss weights

_NEG_INF = -1e9


def _l2_normalize(x, axis=-1):
    return x / ops.sqrt(ops.maximum(ops.sum(x * x, axis=axis, keepdims=True), 1e-24))


def embedding_loss(image_embeddings, view_embeddings, positive_mask, negative_mask, tau: float = TAU,
                   noise_c: float = NOISE_C, num_hard_negatives: int | None = None, valid=None):
    """Noise-contrastive loss: image_embeddings (R, D), view_embeddings (V, D), masks (R, V) of 0/1.

    positive_mask marks the views of each row's GT model; negative_mask the views that may serve as
    negatives (other models of the same category). num_hard_negatives keeps only the N most similar
    negatives per row. valid (R,) drops padded rows. Rows without positives contribute nothing.
    """
    e = _l2_normalize(ops.convert_to_tensor(image_embeddings, "float32"))
    v = _l2_normalize(ops.convert_to_tensor(view_embeddings, "float32"))
    s = ops.matmul(e, ops.transpose(v)) / tau  # (R, V)
    pos = ops.cast(positive_mask, s.dtype)
    neg = ops.cast(negative_mask, s.dtype)
    s_neg = ops.where(neg > 0, s, _NEG_INF)
    if num_hard_negatives is not None:
        s_neg, _ = ops.top_k(s_neg, k=min(int(num_hard_negatives), s_neg.shape[-1]))
    # log(C * sum_neg exp(s_neg)); rows without negatives give ~ -1e9, i.e. no noise term
    log_noise = ops.log(noise_c) + ops.logsumexp(s_neg, axis=-1, keepdims=True)
    per_pair = ops.logaddexp(s, log_noise) - s  # -log(exp(s) / (exp(s) + C sum exp(s_neg)))
    num_pos = ops.sum(pos, axis=-1)
    per_row = ops.sum(per_pair * pos, axis=-1) / ops.maximum(num_pos, 1.0)
    weight = ops.cast(num_pos > 0, s.dtype)
    if valid is not None:
        weight = weight * ops.cast(valid, s.dtype)
    return ops.sum(per_row * weight) / ops.maximum(ops.sum(weight), 1.0)


def huber(x, delta: float = HUBER_DELTA):
    """Elementwise Huber of a residual x."""
    a = ops.abs(x)
    return ops.where(a <= delta, 0.5 * x * x, delta * (a - 0.5 * delta))


def _gather_class(values, classes):
    """values (R, C, K), classes (R,) int -> (R, K): the rows of each RoI's (GT) class."""
    one_hot = ops.one_hot(ops.cast(classes, "int32"), values.shape[1], dtype=values.dtype)
    return ops.sum(values * one_hot[..., None], axis=1)


def _masked_mean(per_row, valid):
    if valid is None:
        return ops.mean(per_row)
    w = ops.cast(valid, per_row.dtype)
    return ops.sum(per_row * w) / ops.maximum(ops.sum(w), 1.0)


def rotation_classification_loss(logits, classes, bin_targets, valid=None):
    """Cross-entropy over the bins of each RoI's GT class: logits (R, C, B), classes (R,), bin_targets (R,)."""
    per_class = _gather_class(ops.convert_to_tensor(logits, "float32"), classes)
    ce = ops.sparse_categorical_crossentropy(ops.cast(bin_targets, "int32"), per_class, from_logits=True)
    return _masked_mean(ce, valid)


def rotation_residual_loss(deltas, classes, delta_targets, valid=None, delta: float = HUBER_DELTA):
    """Huber on the quaternion residual of the GT class: deltas (R, C, 4), delta_targets (R, 4) with w >= 0."""
    pred = _gather_class(ops.convert_to_tensor(deltas, "float32"), classes)
    return _masked_mean(ops.mean(huber(pred - ops.cast(delta_targets, pred.dtype), delta), axis=-1), valid)


def centre_loss(offsets, classes, offset_targets, valid=None, delta: float = HUBER_DELTA):
    """Huber on the box-normalised projected-centre offset of the GT class: offsets (R, C, 2), targets (R, 2)."""
    pred = _gather_class(ops.convert_to_tensor(offsets, "float32"), classes)
    return _masked_mean(ops.mean(huber(pred - ops.cast(offset_targets, pred.dtype), delta), axis=-1), valid)


def mask2cad_head_losses(outputs: dict, targets: dict, view_embeddings, num_hard_negatives: int | None = None,
                         weights: dict | None = None) -> dict:
    """The four head terms and their weighted sum (without the Mask R-CNN terms).

    outputs: heads.Mask2CADHeads output dict. targets: classes (R,), rotation_bin (R,), rotation_delta (R, 4),
    centre_offset (R, 2), positive_mask / negative_mask (R, V), valid (R,).
    """
    w = dict(WEIGHTS, **(weights or {}))
    valid = targets.get("valid")
    terms = {
        "embed": embedding_loss(outputs["embedding"], view_embeddings, targets["positive_mask"],
                                targets["negative_mask"], num_hard_negatives=num_hard_negatives, valid=valid),
        "rotation_cls": rotation_classification_loss(outputs["rotation_logits"], targets["classes"],
                                                     targets["rotation_bin"], valid),
        "rotation_reg": rotation_residual_loss(outputs["rotation_delta"], targets["classes"],
                                               targets["rotation_delta"], valid),
        "centre": centre_loss(outputs["centre_offset"], targets["classes"], targets["centre_offset"], valid),
    }
    terms["total"] = sum(w[k] * terms[k] for k in WEIGHTS)
    return terms
