"""Box overlaps of the KITTI devkit in numpy: image boxes, rotated bird's-eye-view boxes and 3D boxes.

The devkit (evaluate_object_3d_offline.cpp) measures three overlaps, each with a `criterion`:
    "union"     intersection / union (detection <-> ground-truth matching);
    "detection" intersection / area (or volume) of the detection: how a false positive is tested
                against a DontCare region (`boxoverlap(det, dc, 0)`), with the overlap of the metric
                being evaluated (image boxes for 2d/aos; for bev/3d the DontCare's placeholder
                geometry, a 1 m square at x = z = -1000, so nothing is ever inside it).
Image boxes: no +1 pixel, an empty or touching intersection is 0. BEV: the footprint in the camera x-z
plane from `kitti_geometry.bev_corners` (the devkit's toPolygon corners, same rotation). 3D: BEV
intersection times the height overlap; KITTI's y points down and `location` is the bottom-face
centre, so a box spans y in [y - h, y].

Rotated rectangles are intersected exactly as convex polygons: the intersection of two convex
polygons is the convex hull of the vertices of each inside the other plus the edge-edge crossings,
so every pair is handled at once on fixed-size arrays (4 + 4 + 16 candidate points, masked), ordered
by angle about their mean and summed with the shoelace formula.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from official.data.kitti_format import KittiObject
from official.data.kitti_geometry import bev_corners

CRITERIA = ("union", "detection")
# Box array layout of this module: location (bottom centre), dimensions, yaw.
BOX_COLUMNS = ("x", "y", "z", "h", "w", "l", "rotation_y")


def boxes_from_objects(objects: Sequence[KittiObject]) -> np.ndarray:
    """(N, 7) float64 boxes in BOX_COLUMNS order."""
    rows = [(*o.location, *o.dimensions, o.rotation_y) for o in objects]
    return np.asarray(rows, dtype=np.float64).reshape(-1, 7)


def image_boxes_from_objects(objects: Sequence[KittiObject]) -> np.ndarray:
    """(N, 4) float64 left, top, right, bottom."""
    return np.asarray([o.box2d for o in objects], dtype=np.float64).reshape(-1, 4)


def _check_criterion(criterion: str) -> None:
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")


def image_iou(boxes_a, boxes_b, criterion: str = "union") -> np.ndarray:
    """(N, M) overlap of image boxes a (detections) and b (ground truth), as the devkit's imageBoxOverlap."""
    _check_criterion(criterion)
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(1, -1, 4)
    w = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    h = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    inter = w * h
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    denom = area_a + area_b - inter if criterion == "union" else np.broadcast_to(area_a, inter.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = inter / denom
    return np.where((w > 0) & (h > 0), out, 0.0)


def _cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]


def _counter_clockwise(poly: np.ndarray) -> np.ndarray:
    """(..., K, 2) polygons with their vertex order reversed where the signed area is negative."""
    signed = _cross(poly, np.roll(poly, -1, axis=-2)).sum(-1)
    return np.where((signed < 0)[..., None, None], poly[..., ::-1, :], poly)


def _inside(points: np.ndarray, poly: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """(..., P) whether points (..., P, 2) lie in the counter-clockwise convex poly (..., K, 2), edges included."""
    start = poly[..., None, :, :]  # (..., 1, K, 2)
    edge = np.roll(poly, -1, axis=-2)[..., None, :, :] - start
    side = _cross(edge, points[..., :, None, :] - start)  # (..., P, K)
    return (side >= -tol[..., None, None]).all(-1)


def polygon_intersection_area(poly_a, poly_b) -> np.ndarray:
    """Area of the intersection of convex polygons (..., Ka, 2) and (..., Kb, 2) (either orientation)."""
    a = _counter_clockwise(np.asarray(poly_a, dtype=np.float64))
    b = _counter_clockwise(np.asarray(poly_b, dtype=np.float64))
    lead = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a, b = np.broadcast_to(a, lead + a.shape[-2:]), np.broadcast_to(b, lead + b.shape[-2:])
    scale = np.maximum(np.abs(a).max((-1, -2)), np.abs(b).max((-1, -2)))
    tol = 1e-9 * np.maximum(scale, 1.0) ** 2  # (...): cross products scale with the squared extent
    # Edge-edge crossings: a0 + t (a1 - a0) = b0 + u (b1 - b0), 0 <= t, u <= 1.
    a0 = a[..., :, None, :]
    da = np.roll(a, -1, axis=-2)[..., :, None, :] - a0
    b0 = b[..., None, :, :]
    db = np.roll(b, -1, axis=-2)[..., None, :, :] - b0
    denom = _cross(da, db)
    parallel = np.abs(denom) <= 1e-3 * tol[..., None, None]
    safe = np.where(parallel, 1.0, denom)
    t = _cross(b0 - a0, db) / safe
    u = _cross(b0 - a0, da) / safe
    eps = 1e-12
    crossing_ok = ~parallel & (t >= -eps) & (t <= 1 + eps) & (u >= -eps) & (u <= 1 + eps)
    crossings = a0 + t[..., None] * da
    points = np.concatenate([a, b, crossings.reshape(*lead, a.shape[-2] * b.shape[-2], 2)], axis=-2)
    valid = np.concatenate(
        [_inside(a, b, tol), _inside(b, a, tol), crossing_ok.reshape(*lead, a.shape[-2] * b.shape[-2])],
        axis=-1,
    )
    count = valid.sum(-1)
    centre = (points * valid[..., None]).sum(-2) / np.maximum(count, 1)[..., None]
    rel = points - centre[..., None, :]
    angle = np.where(valid, np.arctan2(rel[..., 1], rel[..., 0]), np.inf)
    order = np.argsort(angle, axis=-1, kind="stable")
    rel = np.take_along_axis(rel, order[..., None], axis=-2)
    valid = np.take_along_axis(valid, order, axis=-1)
    # Masked points repeat the first valid one: zero-length edges add nothing to the shoelace sum.
    rel = np.where(valid[..., None], rel, rel[..., :1, :])
    area = 0.5 * _cross(rel, np.roll(rel, -1, axis=-2)).sum(-1)
    return np.where(count >= 3, np.maximum(area, 0.0), 0.0)


def _polygon_area(poly: np.ndarray) -> np.ndarray:
    return 0.5 * np.abs(_cross(poly, np.roll(poly, -1, axis=-2)).sum(-1))


def _bev_polygons(boxes: np.ndarray) -> np.ndarray:
    return bev_corners(boxes[:, 0:3], boxes[:, 3:6], boxes[:, 6])


def bev_intersection(boxes_a, boxes_b) -> np.ndarray:
    """(N, M) area of the BEV footprints' intersection; boxes (N, 7) / (M, 7) in BOX_COLUMNS order."""
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 7)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 7)
    pa, pb = _bev_polygons(a), _bev_polygons(b)
    pa, pb = np.broadcast_arrays(pa[:, None], pb[None, :])
    return polygon_intersection_area(pa, pb)


def bev_iou(boxes_a, boxes_b, criterion: str = "union") -> np.ndarray:
    """(N, M) bird's-eye-view overlap (the devkit's groundBoxOverlap), a = detections, b = ground truth."""
    _check_criterion(criterion)
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 7)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 7)
    inter = bev_intersection(a, b)
    area_a = _polygon_area(_bev_polygons(a))[:, None]
    area_b = _polygon_area(_bev_polygons(b))[None, :]
    denom = area_a + area_b - inter if criterion == "union" else np.broadcast_to(area_a, inter.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(inter > 0, inter / denom, 0.0)


def iou_3d(boxes_a, boxes_b, criterion: str = "union") -> np.ndarray:
    """(N, M) 3D overlap (the devkit's box3DOverlap): BEV intersection x height overlap over union volume."""
    _check_criterion(criterion)
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 7)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 7)
    y_bottom = np.minimum(a[:, None, 1], b[None, :, 1])
    y_top = np.maximum(a[:, None, 1] - a[:, None, 3], b[None, :, 1] - b[None, :, 3])
    inter = bev_intersection(a, b) * np.maximum(0.0, y_bottom - y_top)
    vol_a = (a[:, 3] * a[:, 4] * a[:, 5])[:, None]
    vol_b = (b[:, 3] * b[:, 4] * b[:, 5])[None, :]
    denom = vol_a + vol_b - inter if criterion == "union" else np.broadcast_to(vol_a, inter.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(inter > 0, inter / denom, 0.0)
