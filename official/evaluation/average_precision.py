"""Average precision of a binary ranking: the non-interpolated AP (sklearn's) and the interpolated one.

- `average_precision(scores, labels)`: sum_n (R_n - R_{n-1}) P_n over the distinct score thresholds,
  tied scores forming one threshold: `sklearn.metrics.average_precision_score`'s definition.
- `interpolated_average_precision(scores, labels)`: the area under the all-point interpolated
  precision-recall curve, precision at recall r = max precision at recall >= r (VOC 2010+). This is the
  UniLoss paper's metric (binary_ap.py in princeton-vl/uniloss: a descending sort, one rank per example;
  ties here keep their input order). A set without positives scores 1, as there.
"""

from __future__ import annotations

import numpy as np


def _sorted(scores, labels) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, np.float64).reshape(-1)
    labels = np.asarray(labels).reshape(-1).astype(bool)
    if scores.shape != labels.shape:
        raise ValueError(f"scores {scores.shape} and labels {labels.shape} differ in size")
    order = np.argsort(-scores, kind="stable")
    return scores[order], labels[order]


def average_precision(scores, labels) -> float:
    """Non-interpolated AP (sklearn.metrics.average_precision_score); 0 without positives, like sklearn."""
    s, y = _sorted(scores, labels)
    npos = int(y.sum())
    if npos == 0 or y.size == 0:
        return 0.0
    last = np.r_[np.nonzero(np.diff(s))[0], y.size - 1]  # the last rank of every distinct score
    tp = np.cumsum(y)[last]
    precision = tp / (last + 1)
    recall = tp / npos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def interpolated_average_precision(scores, labels) -> float:
    """All-point interpolated AP (the official UniLoss binary_ap); 1 without positives."""
    _, y = _sorted(scores, labels)
    npos = int(y.sum())
    if npos == 0:
        return 1.0
    tp = np.cumsum(y)
    precision = tp / np.arange(1, y.size + 1)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]  # max precision at this rank or later
    return float(np.sum(envelope[y]) / npos)


def binary_metrics(scores, labels) -> dict[str, float]:
    """{"ap": interpolated AP (the paper's), "ap_sklearn": non-interpolated AP, "accuracy": at score 0}."""
    scores = np.asarray(scores, np.float64).reshape(-1)
    labels = np.asarray(labels).reshape(-1).astype(bool)
    return {
        "ap": interpolated_average_precision(scores, labels),
        "ap_sklearn": average_precision(scores, labels),
        "accuracy": float(np.mean((scores > 0) == labels)) if labels.size else 0.0,
        "examples": float(labels.size),
    }
