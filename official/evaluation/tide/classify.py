"""Error type of every unmatched prediction, the oracle fix of each error, and missed ground truth.

Precedence (paper Sec. 2.2; tidecv `TIDERun._eval_image`), for a prediction that is not a true
positive (ignored predictions included), with foreground threshold t_f and background threshold t_b:
  image without ground truth -> Bkg;  t_b <= max same-class IoU <= t_f -> Loc;
  max other-class IoU >= t_f -> Cls;  max IoU with a matched same-class GT >= t_f -> Dupe;
  max IoU <= t_b -> Bkg;  otherwise Both.
Cls and Loc name a ground truth (the first one with the maximum IoU). If it is unmatched, the error
could recover it ("usable"); among all errors naming the same ground truth only the highest-scoring
one (the earliest on equal scores) becomes a true positive when fixed, the rest disappear.
A ground truth that is unmatched and not usable is a Miss.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from official.evaluation.tide.errors import BKG, BOTH, CLS, DUPE, LOC, NO_ERROR
from official.evaluation.tide.iou import segment_ranges
from official.evaluation.tide.matching import MatchResult
from official.evaluation.tide.pairs import Prepared


@dataclasses.dataclass
class ErrorResult:
    """Per-prediction error codes and fixes, per-ground-truth misses."""

    code: np.ndarray  # (P,) error code (errors.py), NO_ERROR for true positives
    target_gt: np.ndarray  # (P,) ground truth named by a Cls/Loc error, else -1
    fix_tp: np.ndarray  # (P,) the fixed error becomes a true positive (best Cls/Loc of an unmatched GT)
    fix_cls: np.ndarray  # (P,) class code of that true positive (the GT's class for Cls)
    miss: np.ndarray  # (G,) bool, missed ground truth
    usable: np.ndarray  # (G,) bool, unmatched GT that some Cls/Loc error could recover


def _segment_max_first(values: np.ndarray, starts: np.ndarray, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per segment: the maximum and the position of its first occurrence (segments are non-empty)."""
    seg_max = np.maximum.reduceat(values, starts)
    hits = np.flatnonzero(values == seg_max[seg])
    hit_seg = seg[hits]
    first = np.ones(len(hits), dtype=bool)
    first[1:] = hit_seg[1:] != hit_seg[:-1]
    arg = np.empty(len(starts), dtype=np.int64)
    arg[hit_seg[first]] = hits[first]
    return seg_max, arg


def classify_errors(prep: Prepared, match: MatchResult, pos_thresh: float, bg_thresh: float) -> ErrorResult:
    n_pred, n_gt = len(prep.p_src), len(prep.g_src)
    code = np.full(n_pred, NO_ERROR, dtype=np.int64)
    target = np.full(n_pred, -1, dtype=np.int64)
    negative = np.flatnonzero(~match.tp)
    lonely = negative[prep.pair_count[negative] == 0]
    code[lonely] = BKG
    err = negative[prep.pair_count[negative] > 0]

    if len(err):
        counts = prep.pair_count[err]
        starts, within = segment_ranges(counts)
        seg = np.repeat(np.arange(len(err)), counts)
        idx = np.repeat(prep.pair_start[err], counts) + within
        iou, same, gt = prep.pair_iou[idx], prep.pair_same[idx], prep.pair_gt[idx]
        # Same products as tidecv's masked IoU matrices (IoU * class match, IoU * used GT).
        loc_max, loc_arg = _segment_max_first(iou * same, starts, seg)
        cls_max, cls_arg = _segment_max_first(iou * ~same, starts, seg)
        dupe_max = np.maximum.reduceat((match.gt_used[gt] * iou) * same, starts)
        any_max = np.maximum.reduceat(iou, starts)
        is_loc = (bg_thresh <= loc_max) & (loc_max <= pos_thresh)
        is_cls = ~is_loc & (cls_max >= pos_thresh)
        is_dupe = ~is_loc & ~is_cls & (dupe_max >= pos_thresh)
        is_bkg = ~is_loc & ~is_cls & ~is_dupe & (any_max <= bg_thresh)
        code[err] = np.select([is_loc, is_cls, is_dupe, is_bkg], [LOC, CLS, DUPE, BKG], BOTH)
        target[err[is_loc]] = gt[loc_arg[is_loc]]
        target[err[is_cls]] = gt[cls_arg[is_cls]]

    # Best-GT match: Cls/Loc errors naming an unmatched GT compete for it by score, then by order.
    fix_tp = np.zeros(n_pred, dtype=bool)
    usable = np.zeros(n_gt, dtype=bool)
    rivals = np.flatnonzero(target >= 0)
    rivals = rivals[~match.gt_used[target[rivals]]]
    if len(rivals):
        usable[target[rivals]] = True
        order = rivals[np.lexsort((rivals, -prep.p_score[rivals], target[rivals]))]
        first = np.ones(len(order), dtype=bool)
        first[1:] = target[order][1:] != target[order][:-1]
        fix_tp[order[first]] = True
    fix_cls = np.where(code == CLS, prep.g_cls[np.maximum(target, 0)] if n_gt else prep.p_cls, prep.p_cls)
    miss = ~match.gt_used & ~usable
    return ErrorResult(code=code, target_gt=target, fix_tp=fix_tp, fix_cls=fix_cls, miss=miss, usable=usable)
