"""info-ground's objectives (keras.ops only), as exp/ground/models/factored_cap_info_nce_loss.py and
neg_noun_loss.py compute them (spec card info_ground.md "Loss 1" / "Loss 2")."""

from __future__ import annotations

from keras import ops

LOSS_TERMS = ("lang_sup_loss", "neg_noun_loss")


def image_word_nce(logits, word_mask):
    """Loss 1: for caption i and each valid word, cross-entropy over the Bo images (paired image positive).

    logits (Bw, Bo, Tw) with Bw = Bo; word_mask (Bw, Tw), 1 = a valid word. Averaged over each caption's valid
    words (a caption with none contributes 0), then over the batch; >= 0, and exactly 0 for a batch of one.
    """
    log_p = ops.log_softmax(logits, axis=1)
    batch = ops.shape(logits)[0]
    eye = ops.eye(batch, dtype=log_p.dtype)
    positive = ops.sum(log_p * eye[:, :, None], axis=1)  # (Bw, Tw): the diagonal
    mask = ops.cast(word_mask, log_p.dtype)
    per_caption = ops.sum(positive * mask, axis=1) / (ops.sum(mask, axis=1) + 1e-6)
    return -ops.mean(per_caption)


def neg_noun_nce(neg_logits, neg_valid):
    """Loss 2: cross-entropy over {true noun (index 0), its N substitutes}, mean over captions with a noun."""
    log_p = ops.log_softmax(neg_logits, axis=-1)[:, 0]
    valid = ops.cast(neg_valid, log_p.dtype)
    return -ops.sum(log_p * valid) / (ops.sum(valid) + 1e-6)


def info_ground_loss(outputs, lang_weight: float = 1.0, neg_weight: float = 1.0):
    """(total, {term: value}) from the model's output dict (exp/ground/train.py: weights 1 and 1)."""
    terms = {"lang_sup_loss": image_word_nce(outputs["logits"], outputs["word_mask"]),
             "neg_noun_loss": neg_noun_nce(outputs["neg_logits"], outputs["neg_valid"])}
    return lang_weight * terms["lang_sup_loss"] + neg_weight * terms["neg_noun_loss"], terms
