"""The devkit's precision / orientation-similarity curves and AP, vectorised over frames and thresholds.

evaluate_object_3d_offline.cpp, eval_class + computeStatistics + getThresholds:
1. Recall pass: each ground truth (in file order) takes, among unassigned detections with overlap
   strictly above the class threshold, the one with the highest score (first on ties). A valid ground
   truth matched to a valid detection is a true positive whose score is kept.
2. `get_thresholds` picks from those scores (sorted, descending) up to 41 scores whose recall
   (i+1)/n_gt best approaches the grid 0, 1/40, ..., 1 (a score is skipped when the next one's
   recall is nearer the current grid point). So a curve has at most one point per true positive:
   with fewer than 41 valid objects even a perfect result stays below AP 100.
3. For each of them, detections scoring below it are dropped and the frame is matched again: each
   ground truth takes the valid detection of largest overlap, else the first too-small ("ignored")
   one. Valid gt + valid det = TP (orientation similarity (1 + cos(alpha_gt - alpha_det)) / 2);
   a pair where either side is ignored is neither TP nor FN; a valid gt left alone is an FN. Unassigned
   valid detections are FPs, except those whose overlap with a DontCare region, over their own area,
   exceeds the threshold.
4. precision[i] = TP / (TP + FP), aos[i] = similarity / (TP + FP), then each replaced by the max over
   i.. (41 entries, zero past the thresholds). AP R40 = mean of entries 1..40 (recall 0 left out),
   R11 = mean of entries 0, 4, .., 40 (the bundled devkit's and kitti-object-eval-python's R11), x 100.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from official.evaluation.kitti.protocol import N_SAMPLE_PTS

NO_DETECTION = -10000000.0  # the devkit's initial "best score"; a detection must score above it
_FRAME_CHUNK = 256  # frames padded and matched together (bounds memory on the full val set)


@dataclasses.dataclass(frozen=True)
class MatchInput:
    """One frame for one class / difficulty / metric; D detections, G ground-truth boxes."""

    ignored_gt: np.ndarray  # (G,) 0 / 1 / -1
    dontcare: np.ndarray  # (G,) bool
    ignored_det: np.ndarray  # (D,) 0 / 1 / -1
    scores: np.ndarray  # (D,)
    overlap: np.ndarray  # (D, G) criterion "union"
    overlap_det_area: np.ndarray  # (D, G) criterion "detection" (used on DontCare columns)
    gt_alpha: np.ndarray  # (G,)
    det_alpha: np.ndarray  # (D,)


def get_thresholds(scores, n_gt: int, n_sample_pts: int = N_SAMPLE_PTS) -> np.ndarray:
    """The devkit's getThresholds: scores of true positives -> at most n_sample_pts score thresholds."""
    v = np.sort(np.asarray(scores, dtype=np.float64))[::-1]
    chosen, current_recall = [], 0.0
    for i in range(len(v)):
        l_recall = (i + 1) / n_gt
        last = i == len(v) - 1
        r_recall = l_recall if last else (i + 2) / n_gt
        if not last and (r_recall - current_recall) < (current_recall - l_recall):
            continue
        chosen.append(v[i])
        current_recall += 1.0 / (n_sample_pts - 1.0)
    return np.asarray(chosen, dtype=np.float64)


def _pad(frames: Sequence[MatchInput]) -> dict[str, np.ndarray]:
    """Stacks frames; padded detections and ground truth get code -1, so they never take part."""
    f = len(frames)
    d = max([len(x.scores) for x in frames] + [1])
    g = max([len(x.ignored_gt) for x in frames] + [1])
    out = {
        "ignored_gt": np.full((f, g), -1, np.int8), "dontcare": np.zeros((f, g), bool),
        "ignored_det": np.full((f, d), -1, np.int8), "scores": np.full((f, d), -np.inf),
        "overlap": np.zeros((f, d, g)), "overlap_det_area": np.zeros((f, d, g)),
        "gt_alpha": np.zeros((f, g)), "det_alpha": np.zeros((f, d)),
    }  # fmt: skip
    for i, x in enumerate(frames):
        nd, ng = len(x.scores), len(x.ignored_gt)
        for key in ("ignored_gt", "dontcare", "gt_alpha"):
            out[key][i, :ng] = getattr(x, key)
        for key in ("ignored_det", "scores", "det_alpha"):
            out[key][i, :nd] = getattr(x, key)
        out["overlap"][i, :nd, :ng] = x.overlap
        out["overlap_det_area"][i, :nd, :ng] = x.overlap_det_area
    return out


def _true_positive_scores(p: dict[str, np.ndarray], min_overlap: float) -> np.ndarray:
    """Step 1: scores of the detections that are true positives when no score threshold applies."""
    f_idx = np.arange(p["scores"].shape[0])
    assigned = np.zeros(p["scores"].shape, bool)
    usable = (p["ignored_det"] != -1) & (p["scores"] > NO_DETECTION)
    found = []
    for g in range(p["ignored_gt"].shape[1]):
        code = p["ignored_gt"][:, g]
        cand = usable & ~assigned & (p["overlap"][:, :, g] > min_overlap)
        j = np.argmax(np.where(cand, p["scores"], -np.inf), axis=1)
        has = cand.any(1) & (code != -1)
        tp = has & (code == 0) & (p["ignored_det"][f_idx, j] == 0)
        found.append(p["scores"][f_idx[tp], j[tp]])
        assigned[f_idx[has], j[has]] = True
    return np.concatenate(found) if found else np.zeros(0)


def _counts_at(p: dict[str, np.ndarray], thresholds: np.ndarray, min_overlap: float) -> np.ndarray:
    """Step 3: (4, T) summed TP, FP, FN and orientation similarity for each score threshold."""
    n_f, n_d = p["scores"].shape
    n_t = len(thresholds)
    ig_det = p["ignored_det"][:, None, :]
    active = p["scores"][:, None, :] >= thresholds[None, :, None]  # (F, T, D)
    assigned = np.zeros((n_f, n_t, n_d), bool)
    tp = np.zeros((n_f, n_t), np.int64)
    fn = np.zeros((n_f, n_t), np.int64)
    similarity = np.zeros((n_f, n_t))
    f_grid, t_grid = np.meshgrid(np.arange(n_f), np.arange(n_t), indexing="ij")
    for g in range(p["ignored_gt"].shape[1]):
        code = p["ignored_gt"][:, g][:, None]
        ov = np.broadcast_to(p["overlap"][:, None, :, g], active.shape)
        base = active & ~assigned & (ov > min_overlap)
        valid = base & (ig_det == 0)
        small = base & (ig_det == 1)
        has_valid, has_small = valid.any(-1), small.any(-1)
        j = np.where(has_valid, np.argmax(np.where(valid, ov, -np.inf), -1), np.argmax(small, -1))
        found = has_valid | has_small
        fn += ~found & (code == 0)
        has = found & (code != -1)
        hit = has & (code == 0) & has_valid  # a valid detection on a valid ground truth
        tp += hit
        delta = p["gt_alpha"][:, g][:, None] - p["det_alpha"][f_grid, j]
        similarity += np.where(hit, (1.0 + np.cos(delta)) / 2.0, 0.0)
        assigned[f_grid[has], t_grid[has], j[has]] = True
    unmatched = active & ~assigned & (ig_det == 0)
    in_dontcare = ((p["overlap_det_area"] > min_overlap) & p["dontcare"][:, None, :]).any(-1)
    fp = unmatched.sum(-1) - (unmatched & in_dontcare[:, None, :]).sum(-1)
    return np.stack([tp.sum(0), fp.sum(0), fn.sum(0), similarity.sum(0)])


def curves(frames: Sequence[MatchInput], min_overlap: float) -> tuple[np.ndarray, np.ndarray]:
    """(precision, orientation similarity), each (41,) after the devkit's running max."""
    n_gt = int(sum(int((x.ignored_gt == 0).sum()) for x in frames))
    chunks = [_pad(frames[i : i + _FRAME_CHUNK]) for i in range(0, len(frames), _FRAME_CHUNK)]
    scores = np.concatenate([_true_positive_scores(p, min_overlap) for p in chunks] + [np.zeros(0)])
    thresholds = get_thresholds(scores, n_gt)[:N_SAMPLE_PTS]
    precision, aos = np.zeros(N_SAMPLE_PTS), np.zeros(N_SAMPLE_PTS)
    if len(thresholds):
        tp, fp, _, sim = sum(_counts_at(p, thresholds, min_overlap) for p in chunks)
        denom = tp + fp
        with np.errstate(divide="ignore", invalid="ignore"):
            precision[: len(thresholds)] = np.where(denom > 0, tp / denom, 0.0)
            aos[: len(thresholds)] = np.where(denom > 0, sim / denom, 0.0)
    return np.maximum.accumulate(precision[::-1])[::-1], np.maximum.accumulate(aos[::-1])[::-1]


def average_precision(curve, recall_points: int) -> float:
    """AP in points (0-100) of a 41-entry curve: R40 = entries 1..40, R11 = entries 0, 4, .., 40."""
    curve = np.asarray(curve, dtype=np.float64)
    if curve.shape != (N_SAMPLE_PTS,):
        raise ValueError(f"curve must have {N_SAMPLE_PTS} entries, got shape {curve.shape}")
    if recall_points == 40:
        return float(curve[1:].sum() / 40.0 * 100.0)
    if recall_points == 11:
        return float(curve[::4].sum() / 11.0 * 100.0)
    raise ValueError(f"recall_points must be 40 or 11, got {recall_points!r}")
