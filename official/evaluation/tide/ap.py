"""COCO-style 101-point average precision, per class and averaged over the classes that have data.

Per class (paper Sec. 2; tidecv `APDataObject.get_ap`): data points sorted by score, descending and
stable (equal scores keep the order in which they were added, which callers control); precision is
made non-increasing by a running maximum from the right; it is read at recall 0, 0.01, ..., 1 at the
first point whose recall reaches each value (searchsorted "left"), 0 beyond the last point; the mean
of the 101 values, x100. A class with no ground truth scores 0. The mean covers every class with at
least one data point or one ground truth.
"""

from __future__ import annotations

import numpy as np

# Identical doubles to [x / 100 for x in range(101)].
RECALL_POINTS = np.arange(101) / 100


def class_ap(tp_sorted: np.ndarray, num_gt: int) -> float:
    """AP (0-100) of one class from its true/false flags already in descending-score order."""
    if num_gt <= 0 or len(tp_sorted) == 0:
        return 0.0
    num_true = np.cumsum(tp_sorted, dtype=np.int64)
    precision = num_true / np.arange(1, len(tp_sorted) + 1, dtype=np.int64)
    recall = num_true / np.int64(num_gt)
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    idx = np.searchsorted(recall, RECALL_POINTS, side="left")
    y = np.where(idx < len(precision), precision[np.minimum(idx, len(precision) - 1)], 0.0)
    return sum(y.tolist()) / len(RECALL_POINTS) * 100  # sequential sum, as in the reference


def per_class_ap(cls: np.ndarray, score: np.ndarray, tp: np.ndarray, gt_count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AP per class code and the mask of classes that count in the mean (any data point or GT)."""
    n_cls = len(gt_count)
    cls = np.asarray(cls, dtype=np.int64)
    n_points = np.bincount(cls, minlength=n_cls)
    counted = (n_points > 0) | (gt_count > 0)
    order = np.lexsort((-np.asarray(score, dtype=np.float64), cls))  # lexsort is stable
    tp_sorted = np.asarray(tp, dtype=bool)[order]
    ends = np.cumsum(n_points)
    aps = np.zeros(n_cls)
    for c in np.flatnonzero((n_points > 0) & (gt_count > 0)).tolist():
        aps[c] = class_ap(tp_sorted[ends[c] - n_points[c]:ends[c]], int(gt_count[c]))
    return aps, counted


def mean_ap(cls: np.ndarray, score: np.ndarray, tp: np.ndarray, gt_count: np.ndarray) -> float:
    """mAP (0-100) over the classes with data; 0 when there is no class at all."""
    aps, counted = per_class_ap(cls, score, tp, gt_count)
    if not counted.any():
        return 0.0
    return sum(aps[counted].tolist()) / int(counted.sum())
