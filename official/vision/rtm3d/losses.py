"""KM3D's training loss (trains/car_pose.py CarPoseLoss + base_trainer.py weighting) in keras.ops.

total = hm_focal + 0.1 wh_L1 + reg_L1 + hps_weighted_L1 + hp_offset_L1 + hm_hp_focal + 2 dim_L1
        + 0.2 rot_multibin + ramp(step) prob_BCE + coor_ramp(step) location_L2
- focal: CornerNet's penalty-reduced focal loss (official/losses/focal.py), on the centre and the
  keypoint heatmaps;
- `_L1` (RegL1Loss): sum |pred - target| over masked (object, channel) entries / (their count + 1e-4);
- hps: the same per keypoint coordinate, each object weighted by its depth z (0.01 z below 5 m, else
  log10(z - 4) + 0.1: RegWeightedL1Loss);
- rot (BinRotLoss): per bin, cross-entropy of the masked logits averaged over ALL object slots, plus
  smooth-L1 of (sin, cos) against the residual's, averaged over the objects in that bin;
- location (Position_loss): the 3D centre solved in closed form (GRM) from the predicted keypoints,
  dimensions and the (stop-gradient) orientation, L2 distance to the true location, over objects
  / (count + 1); prob: BCE of the 3D-confidence logit against the 3D IoU of that solved box and the
  truth (a stop-gradient target), over the same objects / (count + 1).
ramp(step) = exp(-5 (1 - step / T)^2) for step < T, then 1 (exp_rampup); the location weight is 0
while the ramp is below 0.3 (KITTI coor_thresh).
"""

from __future__ import annotations

from keras import ops

from official.losses.focal import penalty_reduced_focal_loss
from official.ops import rotated_iou
from official.ops.heatmap_peaks import gather_cells
from official.vision.rtm3d import decode, geometry

LOSS_TERMS = ("hm_loss", "hm_hp_loss", "hp_loss", "hp_offset_loss", "off_loss", "wh_loss", "dim_loss", "rot_loss", "prob_loss", "coor_loss")
WEIGHTS = {"hm_loss": 1.0, "hm_hp_loss": 1.0, "hp_loss": 1.0, "hp_offset_loss": 1.0, "off_loss": 1.0, "wh_loss": 0.1, "dim_loss": 2.0, "rot_loss": 0.2}
COOR_THRESHOLD = 0.3  # opts.py: coor_thresh for KITTI


def masked_l1(pred, target, mask):
    """RegL1Loss: sum |pred - target| over mask (broadcast to pred) / (mask entries + 1e-4)."""
    mask = ops.broadcast_to(ops.cast(mask, "float32"), ops.shape(pred))
    return ops.sum(ops.abs(pred * mask - target * mask)) / (ops.sum(mask) + 1e-4)


def depth_weight(depth):
    """RegWeightedL1Loss's per-object weight from the true depth z (metres)."""
    safe = ops.maximum(depth - 4.0, 1e-6)
    return ops.where(depth < 5.0, depth * 0.01, ops.log(safe) / ops.log(10.0) + 0.1)


def keypoint_l1(pred, target, mask, depth):
    """(B, M, 18) offsets: sum over coordinates of |diff| x mask, x depth weight, / (mask entries + 1e-4)."""
    mask = ops.cast(mask, "float32")
    per_object = ops.sum(ops.abs(pred * mask - target * mask), axis=-1) * depth_weight(depth)
    return ops.sum(per_object) / (ops.sum(mask) + 1e-4)


def _smooth_l1(x):
    ax = ops.abs(x)
    return ops.where(ax < 1.0, 0.5 * ax * ax, ax - 0.5)


def multibin_loss(rot, bins, residuals, mask):
    """BinRotLoss of (B, M, 8) outputs, (B, M, 2) int bins, (B, M, 2) residuals, (B, M) mask."""
    mask = ops.cast(mask, "float32")[..., None]
    total = 0.0
    for b in range(2):
        logits = rot[..., 4 * b : 4 * b + 2] * mask
        onehot = ops.one_hot(ops.cast(bins[..., b], "int32"), 2)
        total = total + ops.mean(-ops.sum(onehot * ops.log_softmax(logits, axis=-1), axis=-1))
        active = ops.cast(bins[..., b] > 0, "float32")
        res = _smooth_l1(rot[..., 4 * b + 2] - ops.sin(residuals[..., b])) + _smooth_l1(rot[..., 4 * b + 3] - ops.cos(residuals[..., b]))
        total = total + ops.sum(res * active) / ops.maximum(ops.sum(active), 1.0)
    return total


def exp_rampup(step, length: int):
    """exp(-5 (1 - t)^2), t = step / length clipped to [0, 1] (1 from `length` on)."""
    t = ops.clip(ops.cast(step, "float32") / float(max(length, 1)), 0.0, 1.0)
    return ops.exp(-5.0 * ops.square(1.0 - t))


def location_and_confidence(y_pred, y, stride: int, orientation_decode: str = "atan2"):
    """Position_loss: (location L2 loss, 3D-confidence BCE loss) from the gathered predictions."""
    ind = y["ind"]
    width = y_pred["hm"].shape[2]
    dims = gather_cells(y_pred["dim"], ind)
    rot = ops.stop_gradient(gather_cells(y_pred["rot"], ind))
    prob = gather_cells(y_pred["prob"], ind)[..., 0]
    cells = ops.stack([ops.cast(ind % width, "float32"), ops.cast(ind // width, "float32")], axis=-1)
    kps = ops.reshape(gather_cells(y_pred["hps"], ind), ops.shape(dims)[:2] + (decode.NUM_KEYPOINTS, 2)) + cells[:, :, None, :]
    kps = kps * float(stride)  # input pixels, the frame of P2
    P2 = ops.cast(y["P2"], "float32")
    _, rotation_y = decode.rotation_y_from_rot(rot, kps[:, :, 8], P2, orientation_decode)
    weights = ops.ones_like(kps[..., 0])
    location = geometry.solve_location_grm(kps, weights, dims, rotation_y, P2)
    mask = ops.cast(ops.sum(ops.cast(y["hps_mask"], "float32"), axis=-1) > 15.0, "float32")  # >= 8 keypoints
    dist = ops.sqrt(ops.sum(ops.square(location - y["location"]), axis=-1) + 1e-12) * mask
    count = ops.sum(ops.cast(dist != 0.0, "float32")) + 1.0
    coor = ops.sum(dist) / count
    dims_ok = ops.cast(ops.all(dims >= 0.0, axis=-1), "float32")
    pred_box = ops.concatenate([location, ops.clip(dims, 0.0, 10.0), rotation_y[..., None]], axis=-1)
    true_dims = ops.where(dims < 0.0, 0.0, y["dim"])
    true_box = ops.concatenate([y["location"], true_dims, y["rotation_y"][..., None]], axis=-1)
    score = ops.stop_gradient(rotated_iou.paired_iou_3d(pred_box, true_box)) * mask * dims_ok
    bce = ops.maximum(prob, 0.0) - prob * score + ops.log1p(ops.exp(-ops.abs(prob)))
    prob_loss = ops.sum(bce * mask * dims_ok) / count
    return coor, prob_loss


def total_loss(y_pred, y, stride: int, step, rampup_steps: int, orientation_decode: str = "atan2"):
    """(weighted total, {term: value}) of one batch; see the module docstring."""
    y_pred = {k: ops.cast(v, "float32") for k, v in y_pred.items()}
    ind, reg_mask = y["ind"], ops.cast(y["reg_mask"], "float32")[..., None]
    terms = {
        "hm_loss": penalty_reduced_focal_loss(y_pred["hm"], y["hm"]),
        "hm_hp_loss": penalty_reduced_focal_loss(y_pred["hm_hp"], y["hm_hp"]),
        "hp_loss": keypoint_l1(gather_cells(y_pred["hps"], ind), y["hps"], y["hps_mask"], y["location"][..., 2]),
        "hp_offset_loss": masked_l1(gather_cells(y_pred["hp_offset"], y["hp_ind"]), y["hp_offset"], ops.cast(y["hp_mask"], "float32")[..., None]),
        "off_loss": masked_l1(gather_cells(y_pred["reg"], ind), y["reg"], reg_mask),
        "wh_loss": masked_l1(gather_cells(y_pred["wh"], ind), y["wh"], reg_mask),
        "dim_loss": masked_l1(gather_cells(y_pred["dim"], ind), y["dim"], reg_mask),
        "rot_loss": multibin_loss(gather_cells(y_pred["rot"], ind), y["rotbin"], y["rotres"], y["rot_mask"]),
    }
    terms["coor_loss"], terms["prob_loss"] = location_and_confidence(y_pred, y, stride, orientation_decode)
    ramp = exp_rampup(step, rampup_steps)
    coor_weight = ops.where(ramp < COOR_THRESHOLD, 0.0, ramp)
    total = sum(WEIGHTS[k] * terms[k] for k in WEIGHTS) + ramp * terms["prob_loss"] + coor_weight * terms["coor_loss"]
    return total, terms
