"""Integral L1 loss and the MPJPE metric on packed pose labels (keras.ops only).

Labels are one float32 tensor (B, J, LABEL_WIDTH) so that `fit`, `evaluate` and the search step carry
the geometry the millimetre metric needs without extra model inputs:
  [0:3]  target (x, y) in heatmap pixels and z in depth bins (3DMPPE: x_crop / stride, root-relative z)
  [3]    weight of the x, y terms (joint visible / in the crop);  [4] weight of z (0 for 2D-only data)
  [5:8]  ground-truth camera-frame joints (mm)
  [8:10] focal (fx, fy), [10:12] principal point (cx, cy), per example (repeated over joints)
  [12:18] the 2x3 affine from heatmap pixels to original-image pixels (row-major), per example
The loss is 3DMPPE's: mean over batch, joints and coordinates of |pred - target| * weight.
"""

from __future__ import annotations

import keras
from keras import ops

from official.ops.camera import back_project
from official.ops.integral_decode import depth_bins_to_mm

LABEL_WIDTH = 18


def integral_l1(y_true, y_pred):
    """Weighted L1 between soft-argmax joints (B, J, 3) and the label targets."""
    y_true = ops.cast(y_true, "float32")
    weight = ops.concatenate([y_true[..., 3:4], y_true[..., 3:4], y_true[..., 4:5]], axis=-1)
    return ops.mean(ops.abs(ops.cast(y_pred, "float32") - y_true[..., :3]) * weight)


def joints_to_camera(y_true, y_pred, depth_bins: int, depth_range_mm: float, root: int = 0):
    """Predicted joints (voxel units) -> camera-frame mm with the ground-truth root depth (3DMPPE's
    Human3.6M protocol): heatmap px -> image px (label affine), bins -> root-relative mm + GT root Z,
    then back-projection with the label's focal and principal point."""
    y_true, y_pred = ops.cast(y_true, "float32"), ops.cast(y_pred, "float32")
    affine = ops.reshape(y_true[:, 0, 12:18], (-1, 1, 2, 3))
    xy1 = ops.concatenate([y_pred[..., :2], ops.ones_like(y_pred[..., :1])], axis=-1)
    uv = ops.sum(affine * xy1[:, :, None, :], axis=-1)
    root_z = y_true[:, root:root + 1, 7]
    depth = depth_bins_to_mm(y_pred[..., 2], depth_bins, depth_range_mm) + root_z
    return back_project(uv, depth, y_true[:, :1, 8:10], y_true[:, :1, 10:12])


@keras.saving.register_keras_serializable(package="eccv20zoo")
class MPJPE(keras.metrics.Mean):
    """Root-aligned mean per-joint position error in mm (Protocol 1), averaged over examples."""

    def __init__(self, depth_bins: int = 64, depth_range_mm: float = 2000.0, root: int = 0, name: str = "mpjpe",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.depth_bins, self.depth_range_mm, self.root = depth_bins, depth_range_mm, root

    def update_state(self, y_true, y_pred, sample_weight=None):
        pred = joints_to_camera(y_true, y_pred, self.depth_bins, self.depth_range_mm, self.root)
        gt = ops.cast(y_true, "float32")[..., 5:8]
        pred = pred - pred[:, self.root:self.root + 1]
        gt = gt - gt[:, self.root:self.root + 1]
        return super().update_state(ops.mean(ops.sqrt(ops.sum(ops.square(pred - gt), axis=-1)), axis=-1))

    def get_config(self):
        return {**super().get_config(), "depth_bins": self.depth_bins, "depth_range_mm": self.depth_range_mm,
                "root": self.root}
