"""IoU between predictions and ground truth, bit-identical to pycocotools `mask.iou`.

Boxes are computed for many (prediction, ground truth) pairs in one numpy pass with the same
double-precision operations, in the same order, as pycocotools' C `bbIou`, so IoU values that sit
exactly on a threshold (0.5, 0.1) compare the same way as in tidecv. Masks go through pycocotools
RLE (`mask.iou`) one image at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pycocotools import mask as mask_utils


def box_iou_pairs(det: np.ndarray, gt: np.ndarray, crowd: bool = False) -> np.ndarray:
    """IoU of det[k] with gt[k] for every k; boxes (k, 4) as [x, y, w, h].

    With crowd=True the union is the prediction's area (COCO crowd / ignore-region overlap).
    """
    dx, dy, dw, dh = det[:, 0], det[:, 1], det[:, 2], det[:, 3]
    gx, gy, gw, gh = gt[:, 0], gt[:, 1], gt[:, 2], gt[:, 3]
    det_area = dw * dh
    w = np.minimum(dw + dx, gw + gx) - np.maximum(dx, gx)
    h = np.minimum(dh + dy, gh + gy) - np.maximum(dy, gy)
    overlap = (w > 0) & (h > 0)
    inter = w * h
    union = det_area if crowd else (det_area + gw * gh) - inter
    out = np.zeros(len(det))
    np.divide(inter, union, out=out, where=overlap)
    return out


def mask_iou_block(dets: list[Any], gts: list[Any], crowd: bool = False) -> np.ndarray:
    """(len(dets), len(gts)) IoU of RLE masks via pycocotools (crowd: over the prediction's area)."""
    if not dets or not gts:
        return np.zeros((len(dets), len(gts)))
    out = mask_utils.iou(dets, gts, [int(crowd)] * len(gts))
    return np.asarray(out, dtype=np.float64).reshape(len(dets), len(gts))


def segment_ranges(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start offsets of consecutive segments of the given sizes, and each element's position inside its segment."""
    counts = np.asarray(counts, dtype=np.int64)
    starts = np.zeros(len(counts), dtype=np.int64)
    if len(counts) > 1:
        np.cumsum(counts[:-1], out=starts[1:])
    total = int(counts.sum())
    within = np.arange(total, dtype=np.int64) - np.repeat(starts, counts)
    return starts, within
