"""ActivityNet temporal action detection mAP at tIoU 0.50:0.05:0.95 (the challenge's "average mAP").

Same definitions as the official `Evaluation/eval_detection.py` (activitynet/ActivityNet), which
`benchmarks/activitynet_eval_parity.py` runs against this code:
- classes are the labels of the ground-truth subset's annotations; mAP averages their APs (a class
  without predictions scores 0); average mAP is the mean over the thresholds;
- per class, predictions are ranked by `numpy.argsort(score)[::-1]` over the predictions in file order
  (so tied scores come out in that reversed-argsort order, as in the official code);
- a prediction is a true positive at threshold t when, walking the class's ground truths of its video in
  decreasing tIoU (same reversed-argsort order on ties), the first one not yet matched at t has
  tIoU >= t; otherwise (no ground truth in that video, all reached ones taken, or tIoU < t) it is false;
- AP is the VOC 2011 all-points interpolated area: precision made monotone from the right, summed over
  the recall steps, with recall ending at 1.
Blocked videos (a server list in the official code) are an optional explicit list here. Predictions
whose label is not a ground-truth class are an error in the official code; here they are ignored and
counted (`unknown_labels`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

TIOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)  # the official array (0.7 is 0.7000000000000001 there too)


@dataclass
class Instance:
    """Segments of one class: video ids, (N, 2) segments and, for predictions, (N,) scores."""

    videos: list[str] = field(default_factory=list)
    segments: list[tuple[float, float]] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)


def tiou(segment: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """tIoU of one (2,) segment with (M, 2) candidates (numpy, float64)."""
    inter = np.clip(np.minimum(segment[1], candidates[:, 1]) - np.maximum(segment[0], candidates[:, 0]), 0, None)
    union = (candidates[:, 1] - candidates[:, 0]) + (segment[1] - segment[0]) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return inter / union


def interpolated_ap(precision: np.ndarray, recall: np.ndarray) -> float:
    """Area under the monotone (from the right) precision envelope, recall padded with 0 and 1."""
    p = np.concatenate([[0.0], precision, [0.0]])
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    steps = np.nonzero(r[1:] != r[:-1])[0] + 1
    return float(np.sum((r[steps] - r[steps - 1]) * p[steps]))


def class_average_precision(
    gt: Instance, pred: Instance, thresholds: np.ndarray = TIOU_THRESHOLDS
) -> np.ndarray:
    """AP of one class at every threshold, (len(thresholds),)."""
    thresholds = np.asarray(thresholds, np.float64)
    ap = np.zeros(len(thresholds))
    if not pred.scores:
        return ap
    gt_by_video: dict[str, list[int]] = defaultdict(list)
    for i, video in enumerate(gt.videos):
        gt_by_video[video].append(i)
    gt_segments = np.asarray(gt.segments, np.float64).reshape(-1, 2)
    pred_segments = np.asarray(pred.segments, np.float64).reshape(-1, 2)
    order = np.asarray(pred.scores).argsort()[::-1]
    taken = np.zeros((len(thresholds), len(gt.videos)), bool)
    tp = np.zeros((len(thresholds), len(order)))
    for rank, p in enumerate(order):
        members = gt_by_video.get(pred.videos[p])
        if not members:
            continue
        overlaps = tiou(pred_segments[p], gt_segments[members])
        walk = overlaps.argsort()[::-1]
        # every ground truth reached before the first tIoU < t (NaN never counts as below)
        reachable = ~(overlaps[walk][None, :] < thresholds[:, None])
        candidates = reachable & ~taken[:, np.asarray(members)[walk]]
        hit = candidates.any(axis=1)
        first = candidates.argmax(axis=1)
        for k in np.nonzero(hit)[0]:
            taken[k, members[walk[first[k]]]] = True
        tp[:, rank] = hit
    tp_cum = np.cumsum(tp, axis=1)
    fp_cum = np.cumsum(1.0 - tp, axis=1)
    recall = tp_cum / float(len(gt.videos))
    precision = tp_cum / (tp_cum + fp_cum)
    for k in range(len(thresholds)):
        ap[k] = interpolated_ap(precision[k], recall[k])
    return ap


@dataclass
class DetectionResult:
    """Per-class AP (thresholds x classes), mAP per threshold and their mean."""

    classes: list[str]
    thresholds: np.ndarray
    ap: np.ndarray
    unknown_labels: int = 0

    @property
    def mAP(self) -> np.ndarray:  # noqa: N802 - the field's name in the challenge
        return self.ap.mean(axis=1) if self.ap.size else np.zeros(len(self.thresholds))

    @property
    def average_mAP(self) -> float:  # noqa: N802
        return float(self.mAP.mean())

    def as_dict(self) -> dict:
        """{"mAP": {"0.5": .., .., "0.95": ..}, "average_mAP": ..} as fractions (0-1)."""
        keys = [f"{t:.2f}".rstrip("0") for t in self.thresholds]  # "0.5", "0.55", ..., "0.95"
        return {"mAP": {k: float(v) for k, v in zip(keys, self.mAP, strict=True)}, "average_mAP": self.average_mAP}


def evaluate_detection(
    ground_truth: dict,
    predictions: dict,
    subset: str = "validation",
    thresholds: np.ndarray = TIOU_THRESHOLDS,
    blocked_videos: set[str] | frozenset[str] = frozenset(),
) -> DetectionResult:
    """mAP of ActivityNet-format dicts: ground_truth["database"], predictions["results"].

    Both are assumed well-formed (official.data.activitynet.read_ground_truth / read_predictions
    check them and name the file and field otherwise).
    """
    gt_by_class: dict[str, Instance] = {}
    for video, entry in ground_truth["database"].items():
        if entry["subset"] != subset or video in blocked_videos:
            continue
        for ann in entry["annotations"]:
            inst = gt_by_class.setdefault(ann["label"], Instance())
            inst.videos.append(video)
            inst.segments.append((float(ann["segment"][0]), float(ann["segment"][1])))
    pred_by_class: dict[str, Instance] = {label: Instance() for label in gt_by_class}
    unknown = 0
    for video, results in predictions["results"].items():
        if video in blocked_videos:
            continue
        for r in results:
            inst = pred_by_class.get(r["label"])
            if inst is None:
                unknown += 1
                continue
            inst.videos.append(video)
            inst.segments.append((float(r["segment"][0]), float(r["segment"][1])))
            inst.scores.append(r["score"])
    classes = list(gt_by_class)
    ap = np.zeros((len(thresholds), len(classes)))
    for c, label in enumerate(classes):
        ap[:, c] = class_average_precision(gt_by_class[label], pred_by_class[label], thresholds)
    return DetectionResult(classes, np.asarray(thresholds), ap, unknown)
