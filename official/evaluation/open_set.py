"""Open-set recognition metrics: closed-set accuracy, AUROC, OSCR and macro-F1 with an unknown class.

The protocol of the open-set papers (RPL, OpenHybrid; Neal et al. 2018 splits): a classifier trained on K
known classes scores every test image with an open-set score s(x), higher meaning "more likely known"
(e.g. the maximum logit or probability; a distance-based score is negated first).
- AUROC: known test images are the positives, unknown ones the negatives, ranked by s(x). Ties count one
  half, so it equals `sklearn.metrics.roc_auc_score` exactly (Mann-Whitney U).
- OSCR (Dhamija et al., NeurIPS 2018): accept an image when s(x) >= t; over every threshold t, the
  correct classification rate CCR(t) = #(known, accepted, correctly classified) / #known against the
  false positive rate FPR(t) = #(unknown, accepted) / #unknown; OSCR is the area under that curve
  (trapezoids, from (0, 0) to (1, CCR at the lowest threshold)). Images with equal scores are accepted
  together, so a tie is one diagonal step. (ARPL's `compute_oscr` instead cuts between sorted images,
  counting known images strictly above a cut and unknown ones at or above it; a comparison with it
  belongs to the RPL card.)
- Macro-F1 over K + 1 classes, the unknown being class K: `sklearn.metrics.f1_score(average="macro",
  labels=range(K + 1))`.
"""

from __future__ import annotations

import numpy as np


def _scores(values, name: str) -> np.ndarray:
    array = np.asarray(values, np.float64).reshape(-1)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: scores must be finite")
    return array


def closed_set_accuracy(predictions, labels) -> float:
    """Fraction of known test images whose predicted known class is right."""
    predictions, labels = np.asarray(predictions).reshape(-1), np.asarray(labels).reshape(-1)
    if predictions.shape != labels.shape or not len(labels):
        raise ValueError(f"predictions and labels: need equal, non-zero lengths, got {len(predictions)} and {len(labels)}")
    return float(np.mean(predictions == labels))


def auroc(known_scores, unknown_scores) -> float:
    """Area under the ROC of known (positive) vs unknown (negative) by score; ties count 1/2."""
    known, unknown = _scores(known_scores, "known_scores"), _scores(unknown_scores, "unknown_scores")
    if not len(known) or not len(unknown):
        raise ValueError("auroc: needs at least one known and one unknown score")
    both = np.concatenate([known, unknown])
    order = np.argsort(both, kind="stable")
    ranks = np.empty(len(both), np.float64)
    sorted_scores = both[order]
    # average rank (1-based) of each run of equal scores
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], len(both)]
    for start, end in zip(starts, ends, strict=True):
        ranks[order[start:end]] = (start + 1 + end) / 2.0
    rank_sum = ranks[: len(known)].sum()
    return float((rank_sum - len(known) * (len(known) + 1) / 2.0) / (len(known) * len(unknown)))


def oscr_curve(known_scores, unknown_scores, predictions, labels) -> tuple[np.ndarray, np.ndarray]:
    """(FPR, CCR) at every distinct threshold, from the highest (0, 0) down to the lowest (1, CCR_min)."""
    known, unknown = _scores(known_scores, "known_scores"), _scores(unknown_scores, "unknown_scores")
    correct = np.asarray(predictions).reshape(-1) == np.asarray(labels).reshape(-1)
    if len(correct) != len(known):
        raise ValueError(f"oscr: {len(known)} known scores but {len(correct)} predictions")
    if not len(known) or not len(unknown):
        raise ValueError("oscr: needs at least one known and one unknown score")
    thresholds = np.unique(np.concatenate([known, unknown]))[::-1]  # descending
    # images accepted at threshold t: score >= t; counts via sorted cumulative sums
    correct_sorted = np.sort(known[correct])
    unknown_sorted = np.sort(unknown)
    ccr = (len(correct_sorted) - np.searchsorted(correct_sorted, thresholds, side="left")) / len(known)
    fpr = (len(unknown_sorted) - np.searchsorted(unknown_sorted, thresholds, side="left")) / len(unknown)
    return np.r_[0.0, fpr], np.r_[0.0, ccr]


def oscr(known_scores, unknown_scores, predictions, labels) -> float:
    """Area under the CCR-vs-FPR curve (trapezoids); 1.0 = every known image right and above every unknown."""
    fpr, ccr = oscr_curve(known_scores, unknown_scores, predictions, labels)
    return float(np.sum(np.diff(fpr) * (ccr[1:] + ccr[:-1]) / 2.0))


def open_set_macro_f1(predictions, labels, num_known: int) -> float:
    """Macro-F1 over the K known classes and the unknown class K (predictions and labels in 0..K)."""
    predictions, labels = np.asarray(predictions).reshape(-1), np.asarray(labels).reshape(-1)
    if predictions.shape != labels.shape:
        raise ValueError(f"predictions and labels: lengths {len(predictions)} and {len(labels)} differ")
    for name, values in (("predictions", predictions), ("labels", labels)):
        if len(values) and (values.min() < 0 or values.max() > num_known):
            raise ValueError(f"{name}: classes must lie in 0..{num_known} (the unknown class is {num_known})")
    scores = []
    for cls in range(num_known + 1):
        tp = np.sum((predictions == cls) & (labels == cls))
        fp = np.sum((predictions == cls) & (labels != cls))
        fn = np.sum((predictions != cls) & (labels == cls))
        denominator = 2 * tp + fp + fn
        scores.append(2 * tp / denominator if denominator else 0.0)
    return float(np.mean(scores))
