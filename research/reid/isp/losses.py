"""ISP's training objective (ISP-reID `layers/__init__.py`, make_loss_with_center), keras.ops only:

    CE_ls(part) + CE_ls(global) + CE_ls(fore)                       label smoothing 0.1
  + triplet(y_part) + triplet(y_global) + triplet(y_fore)         batch-hard, margin 0.3, before BNNeck
  + 0.1 * pixel CE(part logits, pseudo-labels)                    label -1 ignored
  + 0.0005 * (center(y_part) + center(y_global) + center(y_fore)) centers stepped by their own SGD
"""

from __future__ import annotations

from keras import ops

from official.losses.classification import SparseLabelSmoothingCrossEntropy
from official.losses.triplet import batch_hard_triplet_loss, center_loss

BRANCHES = ("part", "global", "fore")


def pixel_cross_entropy(logits, labels, ignore_label: int = -1):
    """Mean CE over pixels whose label is not `ignore_label`; logits (B, h, w, K), labels (B, h, w) at the same size."""
    logits = ops.cast(logits, "float32")
    labels = ops.cast(labels, "int32")
    valid = ops.cast(ops.not_equal(labels, ignore_label), "float32")
    safe = ops.where(labels == ignore_label, 0, labels)
    log_probs = ops.log_softmax(logits, axis=-1)
    nll = -ops.squeeze(ops.take_along_axis(log_probs, safe[..., None], axis=-1), -1)
    return ops.sum(nll * valid) / ops.maximum(ops.sum(valid), 1.0)


def isp_loss_terms(outputs: dict, pids, parsing, centers: dict | None, label_smoothing: float = 0.1,
                   margin: float = 0.3) -> dict:
    """Each term of the objective, unweighted: ce_*, triplet_*, center_* (when `centers`), parsing."""
    ce = SparseLabelSmoothingCrossEntropy(label_smoothing, reduction=None)
    terms = {}
    for b in BRANCHES:
        terms[f"ce_{b}"] = ops.mean(ce(pids, outputs[f"logits_{b}"]))
        terms[f"triplet_{b}"] = batch_hard_triplet_loss(outputs[f"y_{b}"], pids, margin)
        if centers is not None:
            terms[f"center_{b}"] = center_loss(outputs[f"y_{b}"], pids, centers[b])
    terms["parsing"] = pixel_cross_entropy(outputs["part_logits"], parsing)
    return terms


def isp_total(terms: dict, parsing_weight: float = 0.1, center_weight: float = 0.0005):
    total = 0.0
    for key, value in terms.items():
        if key == "parsing":
            total = total + parsing_weight * value
        elif key.startswith("center_"):
            total = total + center_weight * value
        else:
            total = total + value
    return total
