"""RTM3D / KM3D decoding in keras.ops with fixed shapes: centres, keypoints, snapping, geometry, scores.

KM3D `car_pose_decode` (models/decode.py), the default (not `--faster`) path:
1. sigmoid centre heatmap, 3x3 peak NMS, top K over classes and cells -> score, class, cell (x, y);
2. the 9 keypoints = cell + hps offsets; the 2D box = cell + reg offset -/+ wh / 2;
3. snapping: per keypoint type, the top K peaks of the (NMS'd) keypoint heatmap refined by hp_offset;
   a predicted keypoint moves to its nearest peak unless that peak scores below 0.1, lies outside the
   2D box, or is farther than 0.3 x the box's longer side; its keypoint score is that peak's score
   (-1 where the peak is below the threshold);
4. alpha from the 2-bin orientation (atan2 of each bin's sin/cos; KM3D's atan(sin/cos) on request), rotation_y = alpha + atan2(u_centre - cx, fx), and the location from
   the 8 corners (gen_position) by the chosen geometry; the location is moved to the bottom face;
5. score = (centre score + sigmoid(prob) + mean keypoint score) / 3 (debugger.save_kitti_format);
   detections whose centre score is <= center_threshold are invalid (KM3D writes those above vis_thresh).
Coordinates are output cells until the end, then input pixels (x stride); P2 is in input pixels.
"""

from __future__ import annotations

from keras import ops

from official.ops import box3d
from official.ops.heatmap_peaks import gather_cells, peak_nms, top_corners
from official.vision.rtm3d import geometry as rtm3d_geometry

NUM_KEYPOINTS = 9
SNAP_DISTANCE = 0.3  # x the longer box side (car_pose_decode)


def snap_keypoints(keypoints, boxes, hm_hp, hp_offset, k: int, threshold: float):
    """Moves (B, K, 9, 2) regressed keypoints onto keypoint-heatmap peaks (step 3 above).

    boxes (B, K, 4) and everything in output cells; hm_hp (B, H, W, 9) probabilities.
    Returns keypoints (B, K, 9, 2) and their scores (B, K, 9).
    """
    _, height, width, joints = hm_hp.shape
    heat = peak_nms(hm_hp)
    per_joint = ops.reshape(ops.transpose(heat, (0, 3, 1, 2)), (-1, joints, height * width))
    peak_scores, cells = ops.top_k(per_joint, k)  # (B, J, K)
    cells = ops.cast(cells, "int32")
    offsets = gather_cells(hp_offset, ops.reshape(cells, (-1, joints * k)))  # (B, J*K, 2)
    offsets = ops.reshape(offsets, (-1, joints, k, 2))
    px = ops.cast(cells % width, "float32") + offsets[..., 0]
    py = ops.cast(cells // width, "float32") + offsets[..., 1]
    keep = peak_scores > threshold
    peak_scores = ops.where(keep, peak_scores, -1.0)
    px = ops.where(keep, px, -10000.0)
    py = ops.where(keep, py, -10000.0)
    peaks = ops.stack([px, py], axis=-1)  # (B, J, Kp, 2)
    reg = ops.transpose(keypoints, (0, 2, 1, 3))  # (B, J, K, 2)
    dist = ops.sqrt(ops.sum(ops.square(reg[:, :, :, None, :] - peaks[:, :, None, :, :]), axis=-1))  # (B, J, K, Kp)
    nearest = ops.argmin(dist, axis=-1)
    min_dist = ops.min(dist, axis=-1)
    snapped = ops.take_along_axis(peaks, ops.broadcast_to(nearest[..., None], ops.shape(nearest) + (2,)), axis=2)
    score = ops.take_along_axis(peak_scores, nearest, axis=2)  # (B, J, K)
    x1, y1, x2, y2 = (boxes[..., i][:, None, :] for i in range(4))  # (B, 1, K) against (B, J, K)
    reject = (
        (snapped[..., 0] < x1) | (snapped[..., 0] > x2) | (snapped[..., 1] < y1) | (snapped[..., 1] > y2)
        | (score < threshold) | (min_dist > ops.maximum(y2 - y1, x2 - x1) * SNAP_DISTANCE)
    )  # fmt: skip
    out = ops.where(reject[..., None], reg, snapped)
    return ops.transpose(out, (0, 2, 1, 3)), ops.transpose(score, (0, 2, 1))


def rotation_y_from_rot(rot, center_keypoint, P2, mode: str = "atan2"):
    """(B, K, 8) bin outputs and the (B, K, 2) projected-centre keypoint -> (alpha, rotation_y) (B, K).

    mode "atan2" reads each bin's residual as atan2(sin, cos); "km3d" as atan(sin / cos), which the
    released code does and which is wrong by pi where the residual's cosine is negative (harmless for
    the box's IoU, not for AOS or for which corner a keypoint is).
    """
    alpha = box3d.multibin_decode(rot, mode=mode)
    return alpha, box3d.rotation_y_from_alpha(alpha, center_keypoint[..., 0], P2)


def decode_detections(
    heads: dict,
    P2,
    stride: int,
    top_k: int = 100,
    keypoint_threshold: float = 0.1,
    center_threshold: float = 0.3,
    geometry: str = "grm",
    gauss_newton_iterations: int = 10,
    orientation_decode: str = "atan2",
) -> dict:
    """Raw head maps (model outputs) + P2 (B, 3, 4) in input pixels -> fixed-size 3D detections."""
    P2 = ops.cast(P2, "float32")
    hm = ops.sigmoid(ops.cast(heads["hm"], "float32"))
    top = top_corners(peak_nms(hm), top_k)
    cells = top["cells"]
    xs, ys = top["xs"][..., None], top["ys"][..., None]
    kps = ops.reshape(gather_cells(heads["hps"], cells), (-1, top_k, NUM_KEYPOINTS, 2))
    kps = kps + ops.stack([xs, ys], axis=-1)
    reg = gather_cells(heads["reg"], cells)
    wh = gather_cells(heads["wh"], cells)
    cx, cy = xs + reg[..., :1], ys + reg[..., 1:]
    boxes = ops.concatenate([cx - wh[..., :1] / 2, cy - wh[..., 1:] / 2, cx + wh[..., :1] / 2, cy + wh[..., 1:] / 2], axis=-1)
    kps, kp_scores = snap_keypoints(kps, boxes, ops.sigmoid(ops.cast(heads["hm_hp"], "float32")), heads["hp_offset"], top_k, keypoint_threshold)
    dims = gather_cells(heads["dim"], cells)
    rot = gather_cells(heads["rot"], cells)
    prob = ops.sigmoid(gather_cells(heads["prob"], cells)[..., 0])
    kps_px = kps * float(stride)  # input pixels from here on
    alpha, rotation_y = rotation_y_from_rot(rot, kps_px[:, :, 8], P2, orientation_decode)
    weights = ops.concatenate([ops.ones_like(kps_px[..., :8, 0]), ops.zeros_like(kps_px[..., 8:, 0])], axis=-1)  # 8 corners
    dims, rotation_y, locations = rtm3d_geometry.solve_box(
        kps_px, weights, dims, rotation_y, P2, method=geometry, iterations=gauss_newton_iterations
    )
    scores = (top["scores"] + prob + ops.mean(kp_scores, axis=-1)) / 3.0
    valid = top["scores"] > center_threshold
    return {
        "boxes2d": boxes * float(stride),
        "dimensions": dims,
        "locations": locations,
        "rotation_y": rotation_y,
        "alpha": box3d.wrap_angle(rotation_y - ops.arctan2(locations[..., 0], locations[..., 2])),
        "scores": ops.where(valid, scores, 0.0),
        "center_scores": top["scores"],
        "classes": top["classes"],
        "keypoints": kps_px,
        "valid": valid,
        "num_detections": ops.sum(ops.cast(valid, "int32"), axis=1),
    }
