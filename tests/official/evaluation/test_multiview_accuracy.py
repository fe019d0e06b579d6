"""Per-view and fused accuracy (official/evaluation/multiview_accuracy.py) against sklearn's accuracy_score
on random scores, streamed in uneven batches, with ties and the empty case."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score

from official.evaluation.multiview_accuracy import MultiViewAccuracy


def test_matches_sklearn_on_random_batches():
    rng = np.random.default_rng(0)
    views, fused, labels = rng.normal(size=(103, 3, 5)), rng.normal(size=(103, 5)), rng.integers(0, 5, 103)
    views[:10] = 0.0  # ties: argmax takes the first index, as torch.max and np.argmax
    metric = MultiViewAccuracy(3)
    for a, b in ((0, 1), (1, 40), (40, 103)):
        metric.update(views[a:b], fused[a:b], labels[a:b])
    got = metric.result()
    assert got["instances"] == 103
    assert got["accuracy"] == pytest.approx(accuracy_score(labels, fused.argmax(-1)), abs=1e-12)
    for m in range(3):
        assert got[f"accuracy_view{m}"] == pytest.approx(accuracy_score(labels, views[:, m].argmax(-1)), abs=1e-12)
    assert 0.05 < got["accuracy"] < 0.5


def test_edge_cases():
    metric = MultiViewAccuracy(2)
    with pytest.raises(ValueError, match="no instances"):
        metric.result()
    one_hot = np.eye(4)[[0, 1, 2, 3]]
    metric.update(np.stack([one_hot, one_hot[::-1]], 1), one_hot, np.arange(4))
    assert metric.result() == {"accuracy": 1.0, "instances": 4, "accuracy_view0": 1.0, "accuracy_view1": 0.0}
    with pytest.raises(ValueError, match="view_scores"):
        metric.update(np.zeros((4, 3, 4)), np.zeros((4, 4)), np.zeros(4))
