"""One TIDE evaluation at one IoU threshold: AP, error types, oracle fixes and their dAP.

An oracle fix rebuilds the AP data as tidecv's `fix_errors` does, so equal scores are ordered the
same way: first every error's data point in processing order (image order, then rank) - the fixed
version for errors being fixed, the original false positive otherwise, nothing for a removed or
ignored one - then every original true positive. A fixed Miss removes its GT from the positives.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from pycocotools import mask as mask_utils

from official.evaluation.tide.ap import mean_ap
from official.evaluation.tide.classify import ErrorResult, classify_errors
from official.evaluation.tide.errors import MAIN_ERRORS, NO_ERROR, PRED_ERROR_CODES
from official.evaluation.tide.matching import greedy_match
from official.evaluation.tide.pairs import Prepared
from official.evaluation.tide.qualifiers import Qualifier


def _boxes_of(arrays, rows: np.ndarray) -> np.ndarray:
    """Boxes of the given annotations; a mask-only one gets the box around its mask."""
    boxes = arrays.box[rows].copy()
    for k in np.flatnonzero(~arrays.has_box[rows]).tolist():
        m = arrays.mask[int(rows[k])]
        boxes[k] = mask_utils.toBbox(m) if m is not None else np.nan
    return boxes


class TideRun:
    """Results of one threshold; built by `TIDE.evaluate` (or `evaluate_range`)."""

    def __init__(self, prep: Prepared, pos_thresh: float, bg_thresh: float, name: str = "", run_errors: bool = True):
        self.prep = prep
        self.name = name
        self.mode = prep.mode
        self.pos_thresh = float(pos_thresh)
        self.bg_thresh = float(bg_thresh)
        self.run_errors = run_errors
        self.match = greedy_match(prep, self.pos_thresh)
        self.gt_count = np.bincount(prep.g_cls, minlength=prep.num_classes)
        self.qualifiers: dict[str, float] = {}
        counted = ~self.match.ignored
        self.ap = mean_ap(prep.p_cls[counted], prep.p_score[counted], self.match.tp[counted], self.gt_count)
        self.errors: ErrorResult | None = None
        if run_errors:
            self.errors = classify_errors(prep, self.match, self.pos_thresh, self.bg_thresh)
        self._main: dict[str, float] | None = None
        self._special: dict[str, float] | None = None

    # --- error bookkeeping ----------------------------------------------------------------------
    def _need_errors(self) -> ErrorResult:
        if self.errors is None:
            raise RuntimeError("this run was made for AP only (evaluate_range at a threshold other than pos_threshold)")
        return self.errors

    @property
    def error_dict(self) -> dict[str, np.ndarray]:
        """Per error type, the indices (into the predictions Data, or the GT Data for Miss) of its errors."""
        err = self._need_errors()
        out = {name: self.prep.p_src[err.code == code] for name, code in PRED_ERROR_CODES.items()}
        out["Miss"] = self.prep.g_src[err.miss]
        return {name: out[name] for name in MAIN_ERRORS}

    def count_errors(self, error_types: Iterable[str] | None = None, qual: Qualifier | None = None) -> dict[str, int]:
        """Number of errors per type (restricted to the qualifying ones when `qual` is given)."""
        masks = self._error_masks(qual)
        return {name: int(masks[name].sum()) for name in (error_types or MAIN_ERRORS)}

    def counts(self) -> dict[str, int]:
        """Main error counts plus the true/false positive and false negative totals."""
        counts = self.count_errors()
        counted = ~self.match.ignored
        counts["FalsePos"] = int((~self.match.tp & counted).sum())
        counts["FalseNeg"] = int((~self.match.gt_used).sum())
        counts["TruePos"] = int(self.match.tp.sum())
        counts["GroundTruth"] = len(self.prep.g_src)
        counts["Predictions"] = len(self.prep.p_src)
        counts["Ignored"] = int(self.match.ignored.sum())
        return counts

    def _error_masks(self, qual: Qualifier | None) -> dict[str, np.ndarray]:
        """Per main error type: (P,) mask of predictions for pred errors, (G,) mask of GT for Miss."""
        err, prep = self._need_errors(), self.prep
        masks = {name: err.code == code for name, code in PRED_ERROR_CODES.items()}
        masks["Miss"] = err.miss.copy()
        if qual is not None:
            gt_ok = qual(_boxes_of(prep.gt_arrays, prep.g_src))
            pred_ok = qual(_boxes_of(prep.pred_arrays, prep.p_src))
            by_gt = gt_ok[np.maximum(err.target_gt, 0)] if len(gt_ok) else np.zeros(len(pred_ok), dtype=bool)
            for name in ("Cls", "Loc"):
                masks[name] &= by_gt
            for name in ("Dupe", "Bkg", "Both"):
                masks[name] &= pred_ok
            masks["Miss"] &= gt_ok
        return masks

    # --- oracle fixes --------------------------------------------------------------------------
    def _base_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(class, score, is_tp, pred index) of the true positives in processing order, and GT counts."""
        tp = np.flatnonzero(self.match.tp)
        return self.prep.p_cls[tp], self.prep.p_score[tp], tp, self.gt_count.copy()

    def _fix(self, fix_pred: np.ndarray, fix_miss: np.ndarray, skip_pred: np.ndarray, state=None,
             perfect_precision: bool = False, drop_false_negatives: bool = False):
        """AP data after fixing the flagged errors; returns (mAP, new state of TPs and GT counts)."""
        err, prep = self._need_errors(), self.prep
        tp_cls, tp_score, tp_pred, gt_count = self._base_state() if state is None else state
        rows = np.flatnonzero((err.code != NO_ERROR) & ~skip_pred)
        fixed = fix_pred[rows]
        keep = np.where(fixed, err.fix_tp[rows], ~self.match.ignored[rows])
        e_rows = rows[keep]
        e_cls = np.where(fixed, err.fix_cls[rows], prep.p_cls[rows])[keep]
        e_tp = fixed[keep]
        gt_count = gt_count - np.bincount(prep.g_cls[fix_miss], minlength=len(gt_count))
        cls = np.concatenate([e_cls, tp_cls])
        score = np.concatenate([prep.p_score[e_rows], tp_score])
        is_tp = np.concatenate([e_tp, np.ones(len(tp_cls), dtype=bool)])
        counts = gt_count
        if drop_false_negatives:
            counts = gt_count - np.bincount(prep.g_cls[~self.match.gt_used], minlength=len(gt_count))
        if perfect_precision:
            score = is_tp.astype(np.float64)
        new_state = (cls[is_tp], score[is_tp], np.concatenate([e_rows[e_tp], tp_pred]), gt_count)
        return mean_ap(cls, score, is_tp, counts), new_state

    def fix_main_errors(self, progressive: bool = False, error_types: Iterable[str] | None = None,
                        qual: Qualifier | None = None) -> dict[str, float]:
        """dAP per main error type (AP after fixing only that type minus AP, clipped at 0).

        progressive=True fixes the types cumulatively in the given order and reports each step's gain.
        """
        masks = self._error_masks(qual)
        n_pred = len(self.prep.p_src)
        skip = np.zeros(n_pred, dtype=bool)
        skip_miss = np.zeros(len(self.prep.g_src), dtype=bool)
        state, last_ap, out = None, self.ap, {}
        for name in error_types or MAIN_ERRORS:
            if name == "Miss":
                fix_pred, fix_miss = np.zeros(n_pred, dtype=bool), masks["Miss"] & ~skip_miss
            else:
                fix_pred, fix_miss = masks[name] & ~skip, np.zeros_like(skip_miss)
            new_ap, new_state = self._fix(fix_pred, fix_miss, skip, state)
            out[name] = max(new_ap - last_ap, 0.0)
            if progressive:
                skip |= fix_pred
                skip_miss |= fix_miss
                state, last_ap = new_state, new_ap
        return out

    def fix_special_errors(self) -> dict[str, float]:
        """FalsePos: AP with perfect precision minus AP; FalseNeg: with perfect recall (not clipped)."""
        n_pred, n_gt = len(self.prep.p_src), len(self.prep.g_src)
        none_p, none_g = np.zeros(n_pred, dtype=bool), np.zeros(n_gt, dtype=bool)
        fp_ap, _ = self._fix(none_p, none_g, none_p, perfect_precision=True)
        fn_ap, _ = self._fix(none_p, none_g, none_p, drop_false_negatives=True)
        return {"FalsePos": fp_ap - self.ap, "FalseNeg": fn_ap - self.ap}

    def main_errors(self) -> dict[str, float]:
        if self._main is None:
            self._main = self.fix_main_errors()
        return dict(self._main)

    def special_errors(self) -> dict[str, float]:
        if self._special is None:
            self._special = self.fix_special_errors()
        return dict(self._special)

    # --- qualifiers ------------------------------------------------------------------------------
    def apply_qualifier(self, qual: Qualifier) -> float:
        """mAP on the objects that pass `qual`; stored in `self.qualifiers[qual.name]`."""
        prep, m = self.prep, self.match
        gt_ok = qual(_boxes_of(prep.gt_arrays, prep.g_src))
        pred_ok = qual(_boxes_of(prep.pred_arrays, prep.p_src))
        counted = ~m.ignored
        tp_gt_ok = np.zeros(len(prep.p_src), dtype=bool)
        tp_gt_ok[m.tp] = gt_ok[m.matched_gt[m.tp]]
        keep = counted & pred_ok & (~m.tp | tp_gt_ok)
        gt_count = np.bincount(prep.g_cls[gt_ok], minlength=prep.num_classes)
        ap = mean_ap(prep.p_cls[keep], prep.p_score[keep], m.tp[keep], gt_count)
        self.qualifiers[qual.name] = ap
        return ap
