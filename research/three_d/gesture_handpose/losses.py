"""The multi-task loss with per-sample masks for weak supervision (spec "Losses"; weights unverified).

L = gesture_weight * CE(gesture; has_label) + pose_weight * L_pose(has_pose), where
L_pose = L1(heatmap-pixel (x, y)) + L1(z_rel / depth_scale_mm) + heatmap_weight * sum_hw (softmax heatmap -
normalised Gaussian of sigma heatmap pixels)^2. Each term averages over the samples whose mask is 1 (a
batch with no such sample contributes exactly 0 and no gradient), so a gesture-only batch leaves the
pose-only parameters untouched and vice versa (spec check 4). keras.ops only.
"""

from __future__ import annotations

from keras import ops

LOSS_TERMS = ("gesture_loss", "coord_loss", "depth_loss", "heatmap_loss")


def _masked_mean(per_sample, mask):
    """Mean of per_sample (B,) over mask == 1; 0 when the mask is empty."""
    mask = ops.cast(mask, "float32")
    return ops.sum(per_sample * mask) / ops.maximum(ops.sum(mask), 1.0)


def gaussian_targets(joints_hm, height: int, width: int, sigma: float):
    """(N, J, 2) heatmap-pixel (x, y) -> (N, h, w, J) Gaussians normalised to sum 1 per joint."""
    xs = ops.reshape(ops.arange(width, dtype="float32"), (1, 1, width, 1))
    ys = ops.reshape(ops.arange(height, dtype="float32"), (1, height, 1, 1))
    x = joints_hm[:, None, None, :, 0]
    y = joints_hm[:, None, None, :, 1]
    g = ops.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2.0 * sigma * sigma))
    return g / ops.maximum(ops.sum(g, axis=(1, 2), keepdims=True), 1e-12)


def pose_targets(y, stride: int, root: int = 0):
    """Reader targets -> (heatmap-pixel (x, y) (B, T, J, 2), root-relative z mm (B, T, J))."""
    uv = ops.cast(y["joints_uv"], "float32")
    hm = (uv + 0.5) / stride - 0.5
    z = ops.cast(y["joints_cam"], "float32")[..., 2]
    return hm, z - z[..., root : root + 1]


def total_loss(y_pred, y, stride: int, depth_scale_mm: float, gesture_weight: float, pose_weight: float,
               heatmap_weight: float, heatmap_sigma: float):
    """(total, {term: value}) of a batch; y holds label, has_label, joints_uv, joints_cam, has_pose."""
    logits = ops.cast(y_pred["gesture_logits"], "float32")
    label = ops.cast(y["label"], "int32")
    ce = ops.sparse_categorical_crossentropy(label, logits, from_logits=True)
    gesture = _masked_mean(ce, y["has_label"])

    hm_true, z_true = pose_targets(y, stride)
    hm_pred = ops.cast(y_pred["joints_hm"], "float32")
    z_pred = ops.cast(y_pred["joints3d"], "float32")[..., 2]
    coord = _masked_mean(ops.mean(ops.abs(hm_pred - hm_true), axis=(1, 2, 3)), y["has_pose"])
    depth = _masked_mean(ops.mean(ops.abs(z_pred - z_true), axis=(1, 2)) / depth_scale_mm, y["has_pose"])
    terms = {"gesture_loss": gesture, "coord_loss": coord, "depth_loss": depth}
    if heatmap_weight:
        heat = ops.cast(y_pred["heatmaps"], "float32")  # (B, T, h, w, J)
        b, t, h, w, j = heat.shape
        flat = ops.reshape(heat, (-1, h * w, j))
        probs = ops.reshape(ops.softmax(flat, axis=1), (-1, h, w, j))
        target = gaussian_targets(ops.reshape(hm_true, (-1, j, 2)), h, w, heatmap_sigma)
        per_frame = ops.mean(ops.sum((probs - target) ** 2, axis=(1, 2)), axis=-1)
        heat_loss = _masked_mean(ops.mean(ops.reshape(per_frame, (-1, t)), axis=1), y["has_pose"])
    else:
        heat_loss = ops.zeros((), "float32")
    terms["heatmap_loss"] = heat_loss
    pose = coord + depth + heatmap_weight * heat_loss
    return gesture_weight * gesture + pose_weight * pose, terms
