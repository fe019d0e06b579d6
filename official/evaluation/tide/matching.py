"""Greedy matching of predictions to ground truth at one IoU threshold, and crowd/ignore handling.

Rule (paper Sec. 2, tidecv `TIDEExample`): inside an image, predictions in descending score order each
take the still-unmatched ground truth of their class with the highest IoU (the first one on equal
IoU), provided that IoU >= threshold. The greedy order only matters inside an image, so the k-th
ranked predictions of all images are matched together in one vectorised step: k = 0, 1, ..., max_dets-1.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from official.evaluation.tide.pairs import Prepared


@dataclasses.dataclass
class MatchResult:
    """Outcome of matching at one threshold (arrays follow `Prepared` order)."""

    tp: np.ndarray  # (P,) bool, prediction matched a ground truth
    matched_gt: np.ndarray  # (P,) int, index of the matched ground truth or -1
    gt_used: np.ndarray  # (G,) bool, ground truth matched by some prediction
    ignored: np.ndarray  # (P,) bool, unmatched prediction inside an applicable ignore region


def greedy_match(prep: Prepared, threshold: float) -> MatchResult:
    """Matches at `threshold` and flags ignored predictions (crowd IoU > threshold)."""
    n_pred, n_gt = len(prep.p_src), len(prep.g_src)
    gt_used = np.zeros(n_gt, dtype=bool)
    matched_gt = np.full(n_pred, -1, dtype=np.int64)

    cand = np.flatnonzero(prep.pair_same & (prep.pair_iou >= threshold))
    if len(cand):
        pair_pred = np.repeat(np.arange(n_pred), prep.pair_count)[cand]
        cand_gt = prep.pair_gt[cand]
        cand_rank = prep.p_rank[pair_pred]
        # Within a rank: by prediction, then IoU descending, then ground-truth order (first max wins).
        order = np.lexsort((cand_gt, -prep.pair_iou[cand], pair_pred, cand_rank))
        pair_pred, cand_gt, cand_rank = pair_pred[order], cand_gt[order], cand_rank[order]
        ranks, bounds = np.unique(cand_rank, return_index=True)
        bounds = np.append(bounds, len(order))
        for k in range(len(ranks)):
            lo, hi = bounds[k], bounds[k + 1]
            free = ~gt_used[cand_gt[lo:hi]]
            step_pred = pair_pred[lo:hi][free]
            step_gt = cand_gt[lo:hi][free]
            if not len(step_pred):
                continue
            first = np.ones(len(step_pred), dtype=bool)
            first[1:] = step_pred[1:] != step_pred[:-1]
            gt_used[step_gt[first]] = True
            matched_gt[step_pred[first]] = step_gt[first]
    tp = matched_gt >= 0

    ignored = np.zeros(n_pred, dtype=bool)
    hit = prep.crowd_applies & (prep.crowd_iou > threshold)
    ignored[prep.crowd_pred[hit]] = True
    ignored &= ~tp
    return MatchResult(tp=tp, matched_gt=matched_gt, gt_used=gt_used, ignored=ignored)
