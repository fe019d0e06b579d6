"""HMOR's training objective: detection + integral pose + coarse/fine root depth + hierarchical ordinal.

Terms (spec card "Method"; weights and units RECONSTRUCTED, see the model card):
    det_cls, det_box   detection.detection_losses (focal objectness, L1 on log side distances)
    pose               L1 on the integral (x, y, z) voxels of visible joints (3DMPPE PoseNet's loss)
    root, root_coarse  L1 on the refined and the coarse root depth, in metres
    ordinal_*          ordinal.hierarchical_ordinal_loss on absolute joint depths (instance, part, joint)
All people terms are masked by `person_mask` (padding); joints by `keypoints_vis` only with use_visibility.
"""

from __future__ import annotations

from keras import ops

from official.ops import integral_decode
from research.three_d.hmor import detection, geometry, ordinal

LOSS_TERMS = ("det_cls", "det_box", "pose", "root", "root_coarse", "ordinal_instance", "ordinal_part",
              "ordinal_joint", "ordinal")


def pose_targets(keypoints_img, keypoints_cam, crops, root: int, heatmap_size: int, depth_bins: int,
                 depth_range_mm: float):
    """Ground truth as (B, P, J, 3) heatmap voxels of each crop: (x, y) cells, z bins of the root-relative depth."""
    xy = geometry.image_to_heatmap(keypoints_img, crops, heatmap_size)
    cam = ops.cast(keypoints_cam, "float32")
    z_rel = cam[..., 2] - cam[..., root:root + 1, 2]
    z = integral_decode.mm_to_depth_bins(z_rel, depth_bins, depth_range_mm)
    return ops.concatenate([xy, z[..., None]], axis=-1)


def _masked_mean(values, mask):
    mask = ops.cast(mask, "float32")
    return ops.sum(values * mask) / ops.maximum(ops.sum(mask), 1.0)


def hmor_loss(model, y_pred: dict, y: dict, x: dict):
    """(weighted total, dict of every term) for one batch; `model` holds the sizes and the weights."""
    w = model.loss_config
    person = ops.cast(y["person_mask"], "float32")
    # 3D labels hold for every joint of a real person (3DMPPE's MuCo loader sets joint_vis = 1); the
    # 2D visibility (occlusion) masks the joints only with model.use_visibility.
    vis = ops.cast(y["keypoints_vis"], "float32") if model.use_visibility else ops.ones_like(y["keypoints_vis"])
    vis = ops.cast(vis, "float32") * person[..., None]
    cls, box = detection.detection_losses(y_pred["objectness"], y_pred["ltrb"], y["boxes"], person,
                                          model._centers(), float(model.stride), model.det_radius)
    target = pose_targets(y["keypoints_img"], y["keypoints_cam"], y_pred["crops"], model.root_joint,
                          model.heatmap_size, model.depth_bins, model.depth_range_mm)
    pose = _masked_mean(ops.sum(ops.abs(y_pred["joints_hm"] - target), axis=-1) / 3.0, vis)
    gt_cam = ops.cast(y["keypoints_cam"], "float32")
    gt_root = gt_cam[..., model.root_joint, 2]
    root = _masked_mean(ops.abs(y_pred["root_depth"] - gt_root) * 1e-3, person)
    root_coarse = _masked_mean(ops.abs(y_pred["root_depth_coarse"] - gt_root) * 1e-3, person)
    orders = ordinal.hierarchical_ordinal_loss(
        y_pred["joints_cam"][..., 2], gt_cam[..., 2], person, vis, model.root_joint, model.parts,
        w["tolerances"], w["ordinal"], pred_joints=y_pred["joints_cam"], gt_joints=gt_cam,
        angle_weight=w["angle"], angle_tolerance=w["angle_tolerance"],
    )
    terms = {"det_cls": cls, "det_box": box, "pose": pose, "root": root, "root_coarse": root_coarse, **orders}
    total = w["det"] * (cls + box) + w["pose"] * pose + w["root"] * (root + root_coarse) + orders["ordinal"]
    return total, terms
