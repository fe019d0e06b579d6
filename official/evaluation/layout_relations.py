"""Pairwise layout relations of NDN (ECCV 2020) as operationalised by const_layout (LayoutGAN++).

Boxes are (xc, yc, w, h) relative to the canvas. For an ordered pair (i, j) the relation says where
box j lies / how large it is *relative to box i* (const_layout's detect_*_relation(b1=i, b2=j)):
- size (area a = w*h, alpha = 0.1): a_j <= 0.9 a_i smaller, 0.9 a_i < a_j < 1.1 a_i equal, else larger;
- location between elements, checked in this order: top (bottom_j <= top_i), bottom (bottom_i <= top_j),
  left (right_j <= left_i), right (right_i <= left_j), else center (the boxes overlap on both axes);
- canvas -> element location by the element's yc (canvas-thirds rule): yc < 1/3 top, yc < 2/3 center,
  else bottom (strict '<' as in const_layout; the spec's '<= 1/3' differs only on the boundary).
The canvas is node 0 of a relation graph; elements are nodes 1..N. Ids 0 mean "unknown" in both
vocabularies so that a partial graph is the complete one with some entries zeroed.
"""

from __future__ import annotations

import numpy as np

# Location vocabulary (5 relations + unknown).
LOC_UNKNOWN, LOC_LEFT, LOC_TOP, LOC_RIGHT, LOC_BOTTOM, LOC_CENTER = range(6)
LOC_NAMES = ("unknown", "left", "top", "right", "bottom", "center")
# Size vocabulary (3 relations + unknown).
SIZE_UNKNOWN, SIZE_SMALLER, SIZE_EQUAL, SIZE_LARGER = range(4)
SIZE_NAMES = ("unknown", "smaller", "equal", "larger")
NUM_LOC = 6
NUM_SIZE = 4
REL_SIZE_ALPHA = 0.1  # const_layout data/util.py
CANVAS_BOX = np.array([0.5, 0.5, 1.0, 1.0], np.float32)

# Relation of (j, i) given the relation of (i, j).
LOC_INVERSE = np.array([LOC_UNKNOWN, LOC_RIGHT, LOC_BOTTOM, LOC_LEFT, LOC_TOP, LOC_CENTER], np.int32)
SIZE_INVERSE = np.array([SIZE_UNKNOWN, SIZE_LARGER, SIZE_EQUAL, SIZE_SMALLER], np.int32)


def xywh_to_ltrb(boxes: np.ndarray) -> np.ndarray:
    """(..., 4) centre/size boxes -> (..., 4) left, top, right, bottom."""
    xc, yc, w, h = np.moveaxis(np.asarray(boxes, np.float64), -1, 0)
    return np.stack([xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2], axis=-1)


def size_relation(b1: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """Size of b2 relative to b1, broadcast over leading axes; ids from the size vocabulary."""
    b1, b2 = np.asarray(b1, np.float64), np.asarray(b2, np.float64)
    a1, a2 = b1[..., 2] * b1[..., 3], b2[..., 2] * b2[..., 3]
    equal = ((1 - REL_SIZE_ALPHA) * a1 < a2) & (a2 < (1 + REL_SIZE_ALPHA) * a1)
    return np.where(equal, SIZE_EQUAL, np.where(a1 < a2, SIZE_LARGER, SIZE_SMALLER)).astype(np.int32)


def location_relation(b1: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """Location of element b2 relative to element b1 (top/bottom checked before left/right)."""
    l1, t1, r1, bt1 = np.moveaxis(xywh_to_ltrb(b1), -1, 0)
    l2, t2, r2, bt2 = np.moveaxis(xywh_to_ltrb(b2), -1, 0)
    out = np.full(np.broadcast(l1, l2).shape, LOC_CENTER, np.int32)
    # Reverse priority order so that the earlier rules overwrite the later ones.
    out = np.where(r1 <= l2, LOC_RIGHT, out)
    out = np.where(r2 <= l1, LOC_LEFT, out)
    out = np.where(bt1 <= t2, LOC_BOTTOM, out)
    out = np.where(bt2 <= t1, LOC_TOP, out)
    return out.astype(np.int32)


def canvas_location_relation(boxes: np.ndarray) -> np.ndarray:
    """Location of each element relative to the canvas by its yc: the canvas-thirds rule."""
    yc = np.asarray(boxes, np.float64)[..., 1]
    return np.where(yc < 1.0 / 3, LOC_TOP, np.where(yc < 2.0 / 3, LOC_CENTER, LOC_BOTTOM)).astype(np.int32)


def relation_matrices(boxes: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Complete relation graph of one layout with the canvas as node 0.

    Args: boxes (N, 4) xywh, mask (N,) bool (padding rows are False).
    Returns: loc, size (N+1, N+1) int32; entry [i, j] is the relation of node j relative to node i;
    the diagonal and every pair touching a padded element are 0 (unknown).
    """
    boxes = np.asarray(boxes, np.float64)
    n = boxes.shape[0]
    mask = np.ones(n, bool) if mask is None else np.asarray(mask, bool)
    nodes = np.concatenate([CANVAS_BOX[None].astype(np.float64), boxes], axis=0)
    loc = location_relation(nodes[:, None], nodes[None, :])
    size = size_relation(nodes[:, None], nodes[None, :])
    loc[0, 1:] = canvas_location_relation(boxes)
    loc[1:, 0] = LOC_INVERSE[loc[0, 1:]]
    valid = np.concatenate([[True], mask])
    pair = valid[:, None] & valid[None, :] & ~np.eye(n + 1, dtype=bool)
    return np.where(pair, loc, 0).astype(np.int32), np.where(pair, size, 0).astype(np.int32)
