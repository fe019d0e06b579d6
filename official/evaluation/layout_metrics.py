"""Layout metrics used by NDN and its successors (const_layout / LayoutGAN++ definitions).

- alignment (Attribute-conditioned LayoutGAN, sec. 3.6.4): for each element i, d_i = min over the six
  coordinates (left, x-centre, right, top, y-centre, bottom) and over the other valid elements j of
  |c_i - c_j| (same coordinate type); d_i = 0 when no other element exists; score = sum_i -log(1-d_i)/N.
- overlap (sec. 3.6.3): sum over ordered pairs i != j of area(i ∩ j) / area(i), divided by N; only a
  strictly positive intersection counts (touching boxes give 0), zero-area boxes contribute 0.
- max-IoU (LayoutGAN++): two layouts with the same label multiset are matched label by label with the
  Hungarian method on box IoU, score = sum of matched IoU / N; two sets of layouts are matched per label
  multiset with the Hungarian method on that score, and the matched scores are averaged.
- constraint satisfaction: the fraction of user-given (known) relations that hold in a generated layout.
Boxes are (xc, yc, w, h) in canvas units; masks mark valid rows of padded arrays.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from scipy.optimize import linear_sum_assignment

from official.evaluation.layout_relations import relation_matrices, xywh_to_ltrb


def _batch(boxes, mask):
    boxes = np.asarray(boxes, np.float64)
    squeeze = boxes.ndim == 2
    if squeeze:
        boxes = boxes[None]
    mask = np.ones(boxes.shape[:2], bool) if mask is None else np.asarray(mask, bool).reshape(boxes.shape[:2])
    return boxes, mask, squeeze


def alignment(boxes: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Per-layout alignment score; boxes (B, N, 4) or (N, 4), mask (B, N). Lower is better."""
    boxes, mask, squeeze = _batch(boxes, mask)
    left, t, r, b = np.moveaxis(xywh_to_ltrb(boxes), -1, 0)
    coords = np.stack([left, boxes[..., 0], r, t, boxes[..., 1], b], axis=1)  # (B, 6, N)
    diff = np.abs(coords[..., :, None] - coords[..., None, :])  # (B, 6, N, N)
    n = boxes.shape[1]
    others = mask[:, None, :] & ~np.eye(n, dtype=bool)[None]  # (B, N_i, N_j)
    diff = np.where(others[:, None], diff, np.inf)
    d = diff.min(axis=(1, 3))  # (B, N)
    d = np.where(np.isfinite(d) & mask, d, 0.0)
    score = (-np.log(1.0 - np.minimum(d, 1.0 - 1e-12)) * mask).sum(-1) / np.maximum(mask.sum(-1), 1)
    return score[0] if squeeze else score


def overlap(boxes: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Per-layout overlap score; boxes (B, N, 4) or (N, 4), mask (B, N). Lower is better."""
    boxes, mask, squeeze = _batch(boxes, mask)
    left, t, r, b = np.moveaxis(xywh_to_ltrb(boxes), -1, 0)  # (B, N)
    area = (r - left) * (b - t)
    iw = np.minimum(r[:, :, None], r[:, None, :]) - np.maximum(left[:, :, None], left[:, None, :])
    ih = np.minimum(b[:, :, None], b[:, None, :]) - np.maximum(t[:, :, None], t[:, None, :])
    inter = np.where((iw > 0) & (ih > 0), iw * ih, 0.0)
    n = boxes.shape[1]
    pair = mask[:, :, None] & mask[:, None, :] & ~np.eye(n, dtype=bool)[None]
    safe = np.where(area > 0, area, 1.0)[:, :, None]
    ratio = np.where(pair & (area[:, :, None] > 0), inter / safe, 0.0)
    score = ratio.sum(axis=(1, 2)) / np.maximum(mask.sum(-1), 1)
    return score[0] if squeeze else score


def box_iou(b1: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """IoU of xywh boxes, broadcast over leading axes (0 where both boxes have zero area)."""
    l1, t1, r1, bb1 = np.moveaxis(xywh_to_ltrb(b1), -1, 0)
    l2, t2, r2, bb2 = np.moveaxis(xywh_to_ltrb(b2), -1, 0)
    inter = np.clip(np.minimum(r1, r2) - np.maximum(l1, l2), 0, None) * np.clip(
        np.minimum(bb1, bb2) - np.maximum(t1, t2), 0, None)
    union = (r1 - l1) * (bb1 - t1) + (r2 - l2) * (bb2 - t2) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def layout_max_iou(boxes1, labels1, boxes2, labels2) -> float:
    """Max-IoU of two layouts with the same label multiset: per label Hungarian matching on IoU."""
    labels1, labels2 = np.asarray(labels1), np.asarray(labels2)
    if sorted(labels1.tolist()) != sorted(labels2.tolist()):
        raise ValueError(f"layouts have different label multisets: {sorted(labels1.tolist())} vs {sorted(labels2.tolist())}")
    boxes1, boxes2 = np.asarray(boxes1, np.float64), np.asarray(boxes2, np.float64)
    total = 0.0
    for label in np.unique(labels1):
        iou = box_iou(boxes1[labels1 == label][:, None], boxes2[labels2 == label][None, :])
        rows, cols = linear_sum_assignment(iou, maximize=True)
        total += iou[rows, cols].sum()
    return float(total / max(len(labels1), 1))


def max_iou(layouts1, layouts2) -> float:
    """Max-IoU between two sets of layouts [(boxes (n, 4), labels (n,)), ...] (LayoutGAN++).

    Layouts are grouped by their sorted label list; within a group shared by both sets the layouts are
    matched one-to-one with the Hungarian method; the matched scores of all groups are averaged.
    """
    def group(layouts):
        out = defaultdict(list)
        for boxes, labels in layouts:
            out[tuple(sorted(np.asarray(labels).tolist()))].append((boxes, labels))
        return out

    g1, g2 = group(layouts1), group(layouts2)
    scores = []
    for key in sorted(set(g1) & set(g2)):
        s = np.array([[layout_max_iou(b1, l1, b2, l2) for b2, l2 in g2[key]] for b1, l1 in g1[key]])
        rows, cols = linear_sum_assignment(s, maximize=True)
        scores.extend(s[rows, cols].tolist())
    return float(np.mean(scores)) if scores else 0.0


def constraint_satisfaction(boxes, mask, loc_constraints, size_constraints) -> tuple[int, int]:
    """(satisfied, given) relation counts of one generated layout against partial constraints.

    loc/size_constraints are (N+1, N+1) matrices over canvas + elements, 0 = unknown (not given); each
    unordered pair is counted once (upper triangle), location and size relations separately.
    """
    loc, size = relation_matrices(boxes, mask)
    upper = np.triu(np.ones(loc.shape, bool), k=1)
    loc_c, size_c = np.asarray(loc_constraints), np.asarray(size_constraints)
    given_loc, given_size = upper & (loc_c > 0), upper & (size_c > 0)
    satisfied = int((given_loc & (loc == loc_c)).sum() + (given_size & (size == size_c)).sum())
    return satisfied, int(given_loc.sum() + given_size.sum())


def constraint_accuracy(pairs: list[tuple[int, int]]) -> float:
    """Fraction of satisfied relations over many layouts (1.0 when nothing was given)."""
    sat = sum(p[0] for p in pairs)
    given = sum(p[1] for p in pairs)
    return sat / given if given else 1.0
