"""Accuracy of each view's classifier and of their fusion (multi-view / multi-modal classification).

As TCGM's main.py test(): prediction = argmax of the scores (first index on ties, as torch.max and
np.argmax), accuracy = correct / instances, per view and for the fused scores; fractions in [0, 1].
tests/official/evaluation/test_multiview_accuracy.py checks it against sklearn.metrics.accuracy_score.
"""

from __future__ import annotations

import numpy as np


class MultiViewAccuracy:
    """Streams (view scores (B, M, C), fused scores (B, C), labels (B,)) batches -> accuracies."""

    def __init__(self, num_views: int):
        self.num_views = num_views
        self.correct = np.zeros(num_views + 1, np.int64)
        self.count = 0

    def update(self, view_scores: np.ndarray, fused_scores: np.ndarray, labels: np.ndarray) -> None:
        view_scores, labels = np.asarray(view_scores), np.asarray(labels).reshape(-1)
        if view_scores.ndim != 3 or view_scores.shape[1] != self.num_views or len(view_scores) != len(labels):
            raise ValueError(f"view_scores: expected ({len(labels)}, {self.num_views}, C), got {view_scores.shape}")
        self.correct[:-1] += (np.argmax(view_scores, -1) == labels[:, None]).sum(0)
        self.correct[-1] += int((np.argmax(np.asarray(fused_scores), -1) == labels).sum())
        self.count += len(labels)

    def result(self) -> dict[str, float]:
        if self.count == 0:
            raise ValueError("MultiViewAccuracy: no instances were scored")
        acc = self.correct / self.count
        out = {"accuracy": float(acc[-1]), "instances": self.count}
        out.update({f"accuracy_view{m}": float(acc[m]) for m in range(self.num_views)})
        return out
