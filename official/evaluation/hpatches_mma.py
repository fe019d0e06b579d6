"""HPatches mean matching accuracy (MMA), as D2-Net / S2DNet report it.

For a pair (1, k) with homography H, a predicted match (p, q) of a source keypoint p is correct at threshold t
when ||q - H(p)|| <= t pixels; the pair's accuracy at t is the fraction of its predicted matches that are
correct, and MMA(t) is its mean over pairs (t = 1..10 px), also per kind (illumination `i_*`, viewpoint `v_*`).
A pair without any predicted match counts as accuracy 0 (D2-Net's script divides by zero there: our choice).
"""

from __future__ import annotations

import numpy as np

from official.data.hpatches import apply_homography

THRESHOLDS = tuple(range(1, 11))


def pair_accuracy(source_points: np.ndarray, predicted: np.ndarray, homography: np.ndarray,
                  thresholds: tuple[float, ...] = THRESHOLDS) -> np.ndarray:
    """(len(thresholds),) fractions of matches source_points[i] -> predicted[i] within t px of H(source)."""
    source_points = np.asarray(source_points, np.float64).reshape(-1, 2)
    predicted = np.asarray(predicted, np.float64).reshape(-1, 2)
    if len(source_points) == 0:
        return np.zeros(len(thresholds))
    error = np.linalg.norm(apply_homography(homography, source_points) - predicted, axis=1)
    return np.array([np.mean(error <= t) for t in thresholds])


class MeanMatchingAccuracy:
    """Accumulates pairs; `result()` -> {mma@t, mma_i@t, mma_v@t, matches (mean per pair), pairs}."""

    def __init__(self, thresholds: tuple[float, ...] = THRESHOLDS):
        self.thresholds = tuple(thresholds)
        self.rows: list[tuple[str, np.ndarray, int]] = []

    def update(self, source_points, predicted, homography, kind: str = "v") -> np.ndarray:
        acc = pair_accuracy(source_points, predicted, homography, self.thresholds)
        self.rows.append((kind, acc, len(np.asarray(source_points).reshape(-1, 2))))
        return acc

    def result(self) -> dict[str, float]:
        out: dict[str, float] = {"pairs": float(len(self.rows))}
        if not self.rows:
            return out
        for prefix, kinds in (("mma", "iv"), ("mma_i", "i"), ("mma_v", "v")):
            rows = [acc for kind, acc, _ in self.rows if kind in kinds]
            if not rows:
                continue
            mean = np.mean(rows, axis=0)
            for t, value in zip(self.thresholds, mean, strict=True):
                out[f"{prefix}@{t:g}"] = float(value)
        out["matches"] = float(np.mean([n for _, _, n in self.rows]))
        return out
