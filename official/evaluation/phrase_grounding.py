"""Phrase grounding metrics of weakly supervised grounding on Flickr30k Entities (info-ground, Align2Ground):
accuracy = R@1, R@5, R@10 (any of the top-k boxes has IoU >= 0.5 with any ground-truth box of the phrase) and
the pointing game (the top box's centre lies strictly inside a ground-truth box), in percent of the phrases
that have ground-truth boxes.

Box arithmetic as BigRedT/info-ground utils/bbox_utils.py: inclusive pixel areas (x2 - x1 + 1) * (y2 - y1 + 1),
an empty intersection (x2 <= x1 or y2 <= y1) has area 0, IoU = inter / (union + 1e-6). Degenerate boxes (zero
width or height) have no area in the reference (it fails on them); here they get area 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

KS = (1, 5, 10)


def _area(box) -> float:
    x1, y1, x2, y2 = box
    return 0.0 if (x2 <= x1 or y2 <= y1) else float((x2 - x1 + 1) * (y2 - y1 + 1))


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    inter = _area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))
    return inter / (_area(a) + _area(b) - inter + 1e-6)


def recall_hits(ranked: np.ndarray, gt: np.ndarray, ks: Sequence[int] = KS) -> list[int]:
    """1 per k when one of the first k ranked boxes (K, 4) overlaps a ground-truth box (G, 4) at IoU >= 0.5."""
    first = next((i for i, box in enumerate(ranked[:max(ks)]) if any(box_iou(box, g) >= 0.5 for g in gt)), None)
    return [int(first is not None and first < k) for k in ks]


def pointing_hit(ranked: np.ndarray, gt: np.ndarray) -> int:
    if len(ranked) == 0:
        return 0
    x1, y1, x2, y2 = ranked[0]
    cx, cy = 0.5 * (x1 + x2), 0.5 * (y1 + y2)
    return int(any(g[0] < cx < g[2] and g[1] < cy < g[3] for g in gt))


def rank_regions(scores: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Region indices by descending score, padded regions left out (ties: lower index first)."""
    order = np.argsort(-np.asarray(scores, np.float64), kind="stable")
    return order[np.asarray(valid, bool)[order]]


class GroundingAccuracy:
    """Accumulates phrases; `result()` -> accuracy, recall@5, recall@10, pointing (percent) and counts."""

    def __init__(self, ks: Sequence[int] = KS):
        self.ks = tuple(ks)
        self.hits = np.zeros(len(self.ks), np.int64)
        self.pointing = 0
        self.phrases = 0

    def update(self, ranked_boxes: np.ndarray, gt_boxes: np.ndarray) -> None:
        ranked_boxes, gt_boxes = np.asarray(ranked_boxes, np.float64), np.asarray(gt_boxes, np.float64)
        self.hits += recall_hits(ranked_boxes, gt_boxes, self.ks)
        self.pointing += pointing_hit(ranked_boxes, gt_boxes)
        self.phrases += 1

    def result(self) -> dict[str, float]:
        n = max(self.phrases, 1)
        out = {("accuracy" if k == 1 else f"recall@{k}"): 100.0 * float(h) / n for k, h in zip(self.ks, self.hits, strict=True)}
        out.update({"pointing": 100.0 * self.pointing / n, "phrases": self.phrases,
                    "hits@1": int(self.hits[0]), "pointing_hits": int(self.pointing)})
        return out
