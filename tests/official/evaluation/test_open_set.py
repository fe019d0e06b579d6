"""Open-set metrics against sklearn (AUROC, macro-F1) and a brute-force threshold sweep (OSCR)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, roc_auc_score

from official.evaluation import open_set


def _tied(rng, n):  # scores on a coarse grid: many ties between and within the two sets
    return np.round(rng.normal(size=n), 1)


@pytest.mark.parametrize("seed", range(5))
def test_auroc_equals_sklearn_with_ties(seed):
    rng = np.random.default_rng(seed)
    known, unknown = _tied(rng, 40) + 0.5, _tied(rng, 25)
    want = roc_auc_score(np.r_[np.ones(40), np.zeros(25)], np.r_[known, unknown])
    assert open_set.auroc(known, unknown) == pytest.approx(want, abs=1e-12)
    assert open_set.auroc([1.0, 2.0], [0.0]) == 1.0 and open_set.auroc([0.0], [1.0, 2.0]) == 0.0
    assert open_set.auroc([1.0, 1.0], [1.0]) == 0.5


def _oscr_brute(known, unknown, pred, labels):
    """The definition, one threshold at a time: accept score >= t, t over every distinct score."""
    correct = pred == labels
    points = [(0.0, 0.0)]
    for t in sorted(set(np.r_[known, unknown]), reverse=True):
        ccr = sum(1 for s, c in zip(known, correct, strict=True) if c and s >= t) / len(known)
        fpr = sum(1 for s in unknown if s >= t) / len(unknown)
        points.append((fpr, ccr))
    area = 0.0
    for (f0, c0), (f1, c1) in zip(points, points[1:], strict=False):
        area += (f1 - f0) * (c0 + c1) / 2
    return area


@pytest.mark.parametrize("seed", range(5))
def test_oscr_equals_the_threshold_sweep(seed):
    rng = np.random.default_rng(10 + seed)
    known, unknown = _tied(rng, 30) + 0.7, _tied(rng, 20)
    labels = rng.integers(0, 6, 30)
    pred = np.where(rng.uniform(size=30) < 0.7, labels, (labels + 1) % 6)
    assert open_set.oscr(known, unknown, pred, labels) == pytest.approx(_oscr_brute(known, unknown, pred, labels), abs=1e-12)
    fpr, ccr = open_set.oscr_curve(known, unknown, pred, labels)
    assert fpr[-1] == 1.0 and ccr[-1] == pytest.approx(np.mean(pred == labels))
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(ccr) >= 0)


def test_oscr_limits():
    labels = np.arange(4)
    # every known image right and above every unknown: the whole unit square
    assert open_set.oscr([5, 6, 7, 8], [0, 1], labels, labels) == 1.0
    # right but below every unknown: CCR stays 0 until FPR = 1
    assert open_set.oscr([0, 0.1, 0.2, 0.3], [1, 2], labels, labels) == 0.0
    # half of them wrong, perfectly separated: the area is the accuracy
    assert open_set.oscr([5, 6, 7, 8], [0, 1], labels, [0, 1, 9, 9]) == 0.5
    # AUROC ignores the classification, OSCR does not: OSCR <= AUROC
    rng = np.random.default_rng(3)
    known, unknown, pred = rng.normal(size=50) + 1, rng.normal(size=50), rng.integers(0, 3, 50)
    assert open_set.oscr(known, unknown, pred, np.zeros(50, int)) <= open_set.auroc(known, unknown)


@pytest.mark.parametrize("seed", range(3))
def test_macro_f1_with_the_unknown_class_equals_sklearn(seed):
    rng = np.random.default_rng(seed)
    k = 6
    labels, pred = rng.integers(0, k + 1, 80), rng.integers(0, k + 1, 80)
    pred[:40] = labels[:40]
    want = f1_score(labels, pred, average="macro", labels=list(range(k + 1)), zero_division=0)
    assert open_set.open_set_macro_f1(pred, labels, k) == pytest.approx(want, abs=1e-12)
    # a class that never occurs (neither true nor predicted) counts 0, as sklearn's zero_division=0
    labels2, pred2 = np.array([0, 0, 6]), np.array([0, 6, 6])
    want2 = f1_score(labels2, pred2, average="macro", labels=list(range(k + 1)), zero_division=0)
    assert open_set.open_set_macro_f1(pred2, labels2, k) == pytest.approx(want2, abs=1e-12)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="known_scores: scores must be finite"):
        open_set.auroc([np.nan], [0.0])
    with pytest.raises(ValueError, match="auroc: needs at least one known and one unknown"):
        open_set.auroc([1.0], [])
    with pytest.raises(ValueError, match="oscr: 2 known scores but 1 predictions"):
        open_set.oscr([1.0, 2.0], [0.0], [1], [1])
    with pytest.raises(ValueError, match=r"predictions: classes must lie in 0..6"):
        open_set.open_set_macro_f1([7], [0], 6)
    assert open_set.closed_set_accuracy([1, 2, 3], [1, 2, 0]) == pytest.approx(2 / 3)
