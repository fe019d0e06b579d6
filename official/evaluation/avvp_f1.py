"""Segment- and event-level F1 of audio-visual video parsing (LLP; Tian et al., ECCV 2020).

The published AVVP numbers come from the authors' `utils/eval_metrics.py`; this module reproduces its
definitions, quirks included (benchmarks/avvp_eval_parity.py checks equality to 1e-9):
- inputs per video are binary (classes, segments) matrices, (25, 10) on LLP;
- per class c: TP / FP / FN over the segments (segment level) or over events (event level);
  F1_c = 2 TP / (2 TP + FN + FP), averaged over the classes with any prediction or ground truth;
  a video where no class has either scores 1.0 ("all true negatives");
- events are maximal runs of 1s; a predicted event is a TP when its IoU with SOME ground-truth event is
  >= 0.5 (several predictions may match one ground-truth event), else an FP; a ground-truth event that no
  prediction overlaps with IoU >= 0.5 is an FN;
- "Event@AV" pools the audio and visual counts per class before F1; "Type@AV" is the mean of the
  audio, visual and audio-visual F1 (of the video means);
- the dataset figure is the mean over videos of each per-video F1.
"""

from __future__ import annotations

import dataclasses

import numpy as np

KEYS = ("audio", "visual", "av", "type_av", "event_av")  # Table 1's columns, in order


def class_mean_f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> float:
    """Mean F1 over classes with a prediction or a ground truth; 1.0 when there is none."""
    tp, fp, fn = (np.asarray(x, np.float64) for x in (tp, fp, fn))
    active = (tp + fp != 0) | (tp + fn != 0)
    if not np.any(active):
        return 1.0
    return float(np.mean(2 * tp[active] / (2 * tp[active] + fn[active] + fp[active])))


def segment_counts(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class (TP, FP, FN) over segments of binary (classes, segments) matrices."""
    pred, gt = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    return np.sum(pred * gt, 1), np.sum(pred * (1 - gt), 1), np.sum((1 - pred) * gt, 1)


def runs(row: np.ndarray) -> np.ndarray:
    """Maximal runs of 1s of a binary vector as (n, 2) [start, end) pairs."""
    padded = np.concatenate([[0], (np.asarray(row) == 1).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return edges.reshape(-1, 2)


def _matched(events: np.ndarray, others: np.ndarray) -> np.ndarray:
    """For each event, whether some event of `others` overlaps it with IoU >= 0.5."""
    if len(events) == 0 or len(others) == 0:
        return np.zeros(len(events), bool)
    s1, e1 = events[:, None, 0], events[:, None, 1]
    s2, e2 = others[None, :, 0], others[None, :, 1]
    inter = np.clip(np.minimum(e1, e2) - np.maximum(s1, s2), 0, None)
    union = (e1 - s1) + (e2 - s2) - inter
    return np.any(inter >= 0.5 * union, axis=1)


def event_counts(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class (TP, FP, FN) over events of binary (classes, segments) matrices."""
    pred, gt = np.asarray(pred), np.asarray(gt)
    counts = np.zeros((3, pred.shape[0]))
    for c in range(pred.shape[0]):
        p, g = runs(pred[c]), runs(gt[c])
        hit = _matched(p, g)
        counts[:, c] = hit.sum(), (~hit).sum(), (~_matched(g, p)).sum()
    return counts[0], counts[1], counts[2]


def _scores(counts, so_a, so_v, so_av, gt_a, gt_v, gt_av) -> tuple[float, float, float, float]:
    a, v, av = counts(so_a, gt_a), counts(so_v, gt_v), counts(so_av, gt_av)
    pooled = [x + y for x, y in zip(a, v, strict=True)]
    return class_mean_f1(*a), class_mean_f1(*v), class_mean_f1(*pooled), class_mean_f1(*av)


def segment_level(so_a, so_v, so_av, gt_a, gt_v, gt_av) -> tuple[float, float, float, float]:
    """One video's segment-level (audio, visual, audio+visual pooled, audio-visual) F1 (eval_metrics' order)."""
    return _scores(segment_counts, so_a, so_v, so_av, gt_a, gt_v, gt_av)


def event_level(so_a, so_v, so_av, gt_a, gt_v, gt_av) -> tuple[float, float, float, float]:
    """One video's event-level (audio, visual, audio+visual pooled, audio-visual) F1 (eval_metrics' order)."""
    return _scores(event_counts, so_a, so_v, so_av, gt_a, gt_v, gt_av)


def parse_predictions(frame_prob: np.ndarray, global_prob: np.ndarray, threshold: float = 0.5):
    """main_avvp.eval's decisions for one video: frame_prob (T, 2, C), global_prob (C,) -> binary
    (C, T) audio, visual and audio-visual matrices; segment events are kept only for classes whose
    video-level probability passes `threshold` (false positives filtered by the predicted weak labels)."""
    frame_prob, global_prob = np.asarray(frame_prob), np.asarray(global_prob)
    video = (global_prob >= threshold).astype(np.int64)[:, None]
    so_a = (frame_prob[:, 0, :].T >= threshold).astype(np.int64) * video
    so_v = (frame_prob[:, 1, :].T >= threshold).astype(np.int64) * video
    return so_a, so_v, so_a * so_v


@dataclasses.dataclass
class ParsingF1:
    """Accumulates per-video F1 and reports the dataset means in percent (the paper's Table 1)."""

    segment: list = dataclasses.field(default_factory=list)  # per video: (a, v, pooled, av)
    event: list = dataclasses.field(default_factory=list)

    def update(self, so_a, so_v, gt_a, gt_v) -> None:
        """One video: predicted and ground-truth binary (C, T) audio and visual matrices (AV = their product)."""
        so_a, so_v, gt_a, gt_v = (np.asarray(x, np.int64) for x in (so_a, so_v, gt_a, gt_v))
        args = (so_a, so_v, so_a * so_v, gt_a, gt_v, gt_a * gt_v)
        self.segment.append(segment_level(*args))
        self.event.append(event_level(*args))

    def result(self) -> dict[str, float]:
        """{segment_audio, ..., event_event_av}: F1 in percent; `videos`: how many were scored."""
        out: dict[str, float] = {"videos": float(len(self.segment))}
        for level, rows in (("segment", self.segment), ("event", self.event)):
            means = 100 * np.mean(np.asarray(rows, np.float64), 0) if rows else np.full(4, np.nan)
            a, v, pooled, av = (float(x) for x in means)
            values = (a, v, av, (a + v + av) / 3.0, pooled)
            out.update({f"{level}_{key}": value for key, value in zip(KEYS, values, strict=True)})
        return out
