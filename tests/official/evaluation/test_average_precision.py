"""official/evaluation/average_precision.py against sklearn (non-interpolated AP) and a brute-force
all-point interpolated AP (the UniLoss binary_ap; the official script itself is compared outside the
repo, .peer/uniloss_parity.py, max |difference| 8e-8 on 300 cases: see the UniLoss card)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from official.evaluation.average_precision import (
    average_precision,
    binary_metrics,
    interpolated_average_precision,
)


def _brute_interpolated(scores, labels):
    """mean over positives of max_{rank >= the positive's rank} precision(rank), ranks by descending score."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    y = np.asarray(labels)[order].astype(bool)
    if not y.any():
        return 1.0
    precision = [y[: r + 1].sum() / (r + 1) for r in range(len(y))]
    return float(np.mean([max(precision[r:]) for r in range(len(y)) if y[r]]))


@pytest.mark.parametrize("ties", [False, True])
def test_matches_sklearn_and_the_interpolated_definition(ties):
    rng = np.random.default_rng(0)
    for _ in range(40):
        n = int(rng.integers(1, 40))
        labels = rng.random(n) < rng.uniform(0.05, 0.9)
        scores = rng.integers(0, 4, n).astype(float) if ties else rng.normal(size=n)
        if labels.any():
            assert average_precision(scores, labels) == pytest.approx(average_precision_score(labels, scores), abs=1e-12)
        if not ties:
            assert interpolated_average_precision(scores, labels) == pytest.approx(_brute_interpolated(scores, labels))
            assert interpolated_average_precision(scores, labels) >= average_precision(scores, labels) - 1e-12


def test_edge_cases():
    assert interpolated_average_precision([0.3, 0.1], [0, 0]) == 1.0  # binary_ap: no positive -> 1
    assert average_precision([0.3, 0.1], [0, 0]) == 0.0  # sklearn's value (with its warning)
    assert interpolated_average_precision([0.9, 0.8, 0.1], [1, 1, 0]) == 1.0
    # ranking n, p, p: precisions 1/2, 2/3 -> interpolated (2/3 + 2/3)/2, sklearn (1/2 + 2/3)/2
    assert interpolated_average_precision([3, 2, 1], [0, 1, 1]) == pytest.approx(2 / 3)
    assert average_precision([3, 2, 1], [0, 1, 1]) == pytest.approx(7 / 12)
    m = binary_metrics(np.array([2.0, -1.0, 0.5, -3.0]), np.array([1, 0, 0, 0]))
    assert m == {"ap": 1.0, "ap_sklearn": 1.0, "accuracy": 0.75, "examples": 4.0}
    with pytest.raises(ValueError, match="differ in size"):
        average_precision([1.0, 2.0], [1])
