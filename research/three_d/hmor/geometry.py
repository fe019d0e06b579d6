"""HMOR's per-person crop geometry: crop boxes, heatmap <-> image coordinates, root depth and lifting.

Conventions (3DMPPE's, which the spec card's data format comes from; the crop rule is RECONSTRUCTED for
HMOR): a person box (x1, y1, x2, y2) becomes a square crop of side max(w, h) * `scale` (3DMPPE
`process_bbox`: aspect fixed to the 1:1 crop, then x 1.25) about the box centre. A heatmap of S x S cells
covers the crop with cell centres at integer coordinates, so u = x1 + (x + 0.5) * side / S. Depth bins
hold the root-relative depth (official/ops/integral_decode.depth_bins_to_mm, 3DMPPE's 2000 mm range).
Root depth: Z = gamma * k with RootNet's k = sqrt(fx fy A_real / (w h)) of the crop (official/ops/camera).
Lifting: Z_j = Z_root + z_rel_j, then (u, v, Z) -> camera X, Y, Z with camera.back_project.
"""

from __future__ import annotations

from keras import ops

from official.ops import camera, integral_decode

MIN_CROP_SIDE = 1.0  # pixels: padded people (zero boxes) keep a finite k


def crop_boxes(boxes, scale: float = 1.25):
    """(..., 4) person boxes -> (..., 4) square crops of side max(w, h) * scale about the box centre."""
    boxes = ops.cast(boxes, "float32")
    cx, cy = 0.5 * (boxes[..., 0] + boxes[..., 2]), 0.5 * (boxes[..., 1] + boxes[..., 3])
    side = ops.maximum(ops.maximum(boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1]) * scale, MIN_CROP_SIDE)
    half = 0.5 * side
    return ops.stack([cx - half, cy - half, cx + half, cy + half], axis=-1)


def crop_k(focal, crops, real_area_mm2: float = 2000.0 * 2000.0):
    """(B, 2) focal, (B, P, 4) crops -> (B, P) RootNet k of each crop (its own w x h)."""
    wh = ops.maximum(crops[..., 2:] - crops[..., :2], MIN_CROP_SIDE)
    focal = ops.cast(focal, "float32")[:, None, :]
    return camera.rootnet_k(ops.broadcast_to(focal, ops.shape(wh)), wh, real_area_mm2)


def heatmap_to_image(xy, crops, heatmap_size: int):
    """(B, P, J, 2) heatmap cells -> (B, P, J, 2) image pixels through each crop."""
    side = (crops[..., 2] - crops[..., 0])[..., None, None]
    origin = crops[..., None, :2]
    return origin + (ops.cast(xy, "float32") + 0.5) * side / heatmap_size


def image_to_heatmap(uv, crops, heatmap_size: int):
    """Inverse of `heatmap_to_image`: image pixels -> heatmap cells of each crop."""
    side = (crops[..., 2] - crops[..., 0])[..., None, None]
    return (ops.cast(uv, "float32") - crops[..., None, :2]) * heatmap_size / side - 0.5


def lift(joints_hm, root_depth, crops, focal, center, heatmap_size: int, depth_bins: int, depth_range_mm: float):
    """Decoded (B, P, J, 3) (x, y, z) voxels + (B, P) root depth (mm) -> dict of image uv (B, P, J, 2),
    root-relative z (mm) and camera-frame joints (B, P, J, 3) mm."""
    uv = heatmap_to_image(joints_hm[..., :2], crops, heatmap_size)
    z_rel = integral_decode.depth_bins_to_mm(joints_hm[..., 2], depth_bins, depth_range_mm)
    depth = root_depth[..., None] + z_rel
    f = ops.cast(focal, "float32")[:, None, None, :]
    c = ops.cast(center, "float32")[:, None, None, :]
    cam = camera.back_project(uv, depth, f, c)
    return {"joints_img": uv, "z_rel": z_rel, "joints_cam": cam}
