"""Collaborative gesture recognition + 3D hand pose with multi-order feature analysis (Yang et al., ECCV 2020).

No official code exists (spec "gesture_handpose.md"): this is the spec's reconstruction; every choice
marked (unverified) in README.md "Reconstructed, not from official code".

Per frame (`frame_network`): a ResNet trunk from the zoo (official/vision/backbones/resnet.py; ResNet-50 for
the paper variant (unverified)) + the SimpleBaseline transposed-conv neck (official/vision/rtm3d's
`deconv_neck`) gives features F_t (h x w x C); 1x1 convs give J joint heatmaps and J depth maps.
Clip (`GestureHandPose`), input float32 RGB 0-255 (B, T, S, S, 3):
- joint-aware features j_t^k = sum_hw softmax(H_t^k) F_t (official/ops/integral_decode.heatmap_pool),
  a shared Dense to `joint_feature_dim`, concatenated over joints: X_t (B, T, J*d);
- multi-order streams of X (zero, first, second order, replicated clip ends: layers.MultiOrderStreams);
- slow-fast: each stream at stride 1 and `slow_stride`, a temporal Conv1D (kernel 3) per path;
- multi-scale temporal relations (TRN-like) per path, concatenated, Dense fusion -> gesture logits;
- collaborative feedback (unverified): the fused gesture feature g modulates F_t (FiLM: F (1 + W g)) and
  1x1 convs add a residual to the heatmaps and depth maps, so the pose sees gesture context;
- pose: (x, y) = soft_argmax_2d (integral_decode) of the heatmaps in heatmap pixels, mapped to input
  pixels u = (x + 0.5) stride - 0.5; z = the depth map under the joint's softmax heatmap, x depth_scale_mm
  = root-relative depth in mm. `joints3d` = (u, v, z_rel) (2.5D; metric camera-frame joints follow from the
  intrinsics and the root depth: `camera_joints`).
Outputs: gesture_logits (B, K), heatmaps (B, T, h, w, J), joints_hm (B, T, J, 2), joints3d (B, T, J, 3).
Training: `compute_loss` = gesture_weight * CE (masked by has_label) + pose_weight * (L1 of the heatmap
coordinates + L1 of z / depth_scale_mm + heatmap_weight * MSE of the softmax heatmap against a
normalised Gaussian), masked by has_pose (losses.py).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import LossTermTrackers, ZooLayer, ZooModel
from official.ops import camera, integral_decode
from official.vision.backbones.resnet import RESNET_WIDTHS, resnet_trunk
from official.vision.rtm3d.model import deconv_neck
from research.three_d.gesture_handpose import losses as gh_losses
from research.three_d.gesture_handpose.layers import (
    ORDERS,
    JointDepth,
    MergeTime,
    MultiOrderStreams,
    SlowPath,
    SplitTime,
    temporal_relation,
)

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class SoftArgmax2D(ZooLayer):
    """(N, h, w, J) heatmaps -> (N, J, 2) (x, y) heatmap pixels (integral_decode.soft_argmax_2d)."""

    def call(self, heatmaps):
        return integral_decode.soft_argmax_2d(heatmaps)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1], 2)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class HeatmapPool(ZooLayer):
    """features (N, h, w, C), heatmaps (N, h, w, J) -> (N, J, C) (integral_decode.heatmap_pool)."""

    def call(self, features, heatmaps):
        return integral_decode.heatmap_pool(features, heatmaps)

    def compute_output_shape(self, features_shape, heatmaps_shape=None):
        return (features_shape[0], heatmaps_shape[-1], features_shape[-1])


@keras.saving.register_keras_serializable(package="eccv20zoo")
class Feedback(ZooLayer):
    """features (B*T, h, w, C) x (1 + context (B, C) repeated over the T frames of each clip)."""

    def __init__(self, frames: int, **kwargs):
        super().__init__(**kwargs)
        self.frames = int(frames)

    def call(self, features, context):
        c = ops.repeat(context, self.frames, axis=0)  # clip b -> its frames b*T .. b*T + T - 1
        return features * (1.0 + c[:, None, None, :])

    def compute_output_shape(self, features_shape, context_shape=None):
        return tuple(features_shape)


def pixel_coordinates(joints_hm, stride: int, name: str):
    """Heatmap pixels -> input pixels, pixel centres at integers: u = (x + 0.5) stride - 0.5."""
    return layers.Rescaling(float(stride), offset=0.5 * stride - 0.5, name=name)(joints_hm)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class GestureHandPose(LossTermTrackers, ZooModel):
    """Joint gesture recognition and per-frame 3D hand pose from a clip (see the module docstring).

    Args:
        num_classes: gesture classes (FPHA: 45).
        frames: clip length T (static: XLA and the temporal layers need it).
        image_size: square hand crop S.
        num_joints: J (FPHA: 21).
        backbone_blocks, backbone_widths, stem_width, block: the ResNet trunk (ResNet-50: (3, 4, 6, 3),
            (64, 128, 256, 512), 64, "bottleneck").
        trunk_level: trunk stage fed to the neck (5 = C5, stride 32; 3 = C3, stride 8).
        deconv_filters: transposed-conv neck widths (each doubles the resolution).
        joint_feature_dim: per-joint width after the shared Dense on pooled features.
        orders: multi-order streams used ("zero", "first", "second").
        slow_stride: temporal stride of the slow path (the fast path has stride 1).
        temporal_width: width of the temporal convs, relation modules and fusion.
        relation_scales: frame-tuple sizes of the multi-scale relations.
        feedback: collaborative feedback of the gesture feature into the pose head (unverified).
        depth_scale_mm: the depth maps predict z_rel / depth_scale_mm.
        gesture_weight, pose_weight, heatmap_weight, heatmap_sigma: loss weights (unverified, spec
            "Losses") and the Gaussian heatmap target's sigma in heatmap pixels.
        pixel_mean, pixel_std: RGB normalisation on the 0-255 scale.
        bn_momentum, bn_epsilon: BatchNorm (PyTorch defaults as Keras values).
    """

    def __init__(
        self,
        num_classes: int = 45,
        frames: int = 8,
        image_size: int = 224,
        num_joints: int = 21,
        backbone_blocks: tuple[int, ...] = (3, 4, 6, 3),
        backbone_widths: tuple[int, ...] = RESNET_WIDTHS,
        stem_width: int = 64,
        block: str = "bottleneck",
        trunk_level: int = 5,
        deconv_filters: tuple[int, ...] = (256, 256, 256),
        joint_feature_dim: int = 64,
        orders: tuple[str, ...] = ORDERS,
        slow_stride: int = 4,
        temporal_width: int = 256,
        relation_scales: tuple[int, ...] = (2, 3, 4),
        feedback: bool = True,
        depth_scale_mm: float = 100.0,
        gesture_weight: float = 1.0,
        pose_weight: float = 1.0,
        heatmap_weight: float = 1.0,
        heatmap_sigma: float = 1.0,
        pixel_mean: tuple[float, float, float] = IMAGENET_MEAN,
        pixel_std: tuple[float, float, float] = IMAGENET_STD,
        bn_momentum: float = 0.9,
        bn_epsilon: float = 1e-5,
        **kwargs,
    ):
        bn = {"momentum": bn_momentum, "epsilon": bn_epsilon}
        j = num_joints
        frame_net = frame_network(image_size, j, backbone_blocks, backbone_widths, stem_width, block, trunk_level,
                                  deconv_filters, pixel_mean, pixel_std, bn)
        clip = keras.Input((frames, image_size, image_size, 3), name="clip")
        feats, heat0, depth0 = frame_net(MergeTime(name="merge_time")(clip))
        # joint-aware features and the multi-order, slow-fast, multi-scale gesture branch
        joint = HeatmapPool(name="joint_pool")(feats, heat0)
        joint = layers.Dense(joint_feature_dim, activation="relu", name="joint_embed")(joint)
        joint = layers.Reshape((j * joint_feature_dim,), name="joint_flat")(joint)
        x = SplitTime(frames, name="split_joint")(joint)
        streams = MultiOrderStreams(tuple(orders), name="orders")(x)
        branches = []
        for order, s in zip(orders, streams, strict=True):
            for rate, stride in (("fast", 1), ("slow", slow_stride)):
                y = s if stride == 1 else SlowPath(stride, name=f"{order}_{rate}_sample")(s)
                y = layers.Conv1D(temporal_width, 3, padding="same", activation="relu", name=f"{order}_{rate}_conv")(y)
                branches.append(temporal_relation(y, tuple(relation_scales), temporal_width, f"{order}_{rate}_rel"))
        fused = branches[0] if len(branches) == 1 else layers.Concatenate(name="streams")(branches)
        g = layers.Dense(temporal_width, activation="relu", name="gesture_fusion")(fused)
        logits = layers.Dense(num_classes, name="gesture_logits", dtype="float32")(g)
        # pose, refined by the gesture context
        heat, depth = heat0, depth0
        if feedback:
            context = layers.Dense(feats.shape[-1], name="feedback_context", kernel_initializer="zeros")(g)
            modulated = Feedback(frames, name="feedback")(feats, context)
            heat, depth = _refine(modulated, heat0, depth0, j)
        joints_hm, joints = pose_readout(heat, depth, image_size, depth_scale_mm)
        outputs = {
            "gesture_logits": logits,
            "heatmaps": SplitTime(frames, name="split_heatmaps")(heat),
            "joints_hm": SplitTime(frames, name="split_joints_hm")(joints_hm),
            "joints3d": SplitTime(frames, name="split_joints3d")(joints),
        }
        super().__init__(inputs=clip, outputs=outputs, **kwargs)
        self.frame_net = frame_net
        self.stride = image_size // int(heat.shape[1])
        self.track_loss_terms(gh_losses.LOSS_TERMS)

    # --- training ------------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The masked multi-task loss of losses.total_loss (targets: the FPHA reader's dict)."""
        if not isinstance(y, dict) or "has_pose" not in y:
            return super().compute_loss(x, y, y_pred, sample_weight, training)
        a = self.constructor_args
        total, terms = gh_losses.total_loss(
            y_pred, y, self.stride, a["depth_scale_mm"], a["gesture_weight"], a["pose_weight"],
            a["heatmap_weight"], a["heatmap_sigma"])
        return self.tracked_total(total, terms)

    # --- inference -----------------------------------------------------------------------------
    def frame_pose_model(self) -> keras.Model:
        """Per-frame pose (the TFLite body): image (1, S, S, 3) 0-255 -> joints (1, J, 3) = (u, v, z_rel mm).

        The feedback refinement runs with zero gesture context (a single frame has no clip), so it equals
        the clip model's pose exactly only when the gesture context is zero (README "Export")."""
        a = self.constructor_args
        image = keras.Input((a["image_size"], a["image_size"], 3), name="image")
        feats, heat, depth = self.frame_net(image)
        if a["feedback"]:
            heat, depth = _refine(feats, heat, depth, a["num_joints"], self)
        _, joints = pose_readout(heat, depth, a["image_size"], a["depth_scale_mm"], prefix="frame_")
        return keras.Model(image, joints, name=f"{self.name}_frame_pose")


def _refine(features, heat0, depth0, num_joints: int, owner: keras.Model | None = None):
    """heat0 + 1x1 conv(features), depth0 + 1x1 conv(features); `owner` reuses a built model's layers."""
    if owner is None:
        h_conv = layers.Conv2D(num_joints, 1, name="heatmap_refine", kernel_initializer="zeros")
        d_conv = layers.Conv2D(num_joints, 1, name="depth_refine", kernel_initializer="zeros")
    else:
        h_conv, d_conv = owner.get_layer("heatmap_refine"), owner.get_layer("depth_refine")
    heat = layers.Add(name=None if owner else "heatmap_sum")([heat0, h_conv(features)])
    depth = layers.Add(name=None if owner else "depth_sum")([depth0, d_conv(features)])
    return heat, depth


def pose_readout(heat, depth, image_size: int, depth_scale_mm: float, prefix: str = ""):
    """(joints_hm (N, J, 2) heatmap pixels, joints (N, J, 3) = input pixels + root-relative z in mm)."""
    stride = image_size // int(heat.shape[1])
    joints_hm = SoftArgmax2D(name=f"{prefix}soft_argmax")(heat)
    uv = pixel_coordinates(joints_hm, stride, f"{prefix}to_pixels")
    z = JointDepth(name=f"{prefix}joint_depth")(heat, depth)
    z = layers.Rescaling(depth_scale_mm, name=f"{prefix}depth_mm")(z)
    z = layers.Reshape((heat.shape[-1], 1), name=f"{prefix}depth_col")(z)
    return joints_hm, layers.Concatenate(name=f"{prefix}joints3d")([uv, z])


def frame_network(image_size: int, num_joints: int, blocks, widths, stem_width: int, block: str, trunk_level: int,
                  deconv_filters, pixel_mean, pixel_std, bn: dict) -> keras.Model:
    """image (N, S, S, 3) 0-255 -> [features (N, h, w, C), heatmaps (N, h, w, J), depth maps (N, h, w, J)]."""
    image = keras.Input((image_size, image_size, 3), name="frame")
    x = layers.Normalization(mean=list(pixel_mean), variance=[s * s for s in pixel_std], name="normalize")(image)
    x = resnet_trunk(x, tuple(blocks), tuple(widths), stem_width, bn, name="backbone", block=block)[f"C{trunk_level}"]
    feats = deconv_neck(x, tuple(deconv_filters), bn)
    heat = layers.Conv2D(num_joints, 1, name="heatmap", dtype="float32")(feats)
    depth = layers.Conv2D(num_joints, 1, name="depth", dtype="float32")(feats)
    return keras.Model(image, [feats, heat, depth], name="frame_net")


def camera_joints(joints3d, root_depth, focal, center, root: int = 0):
    """(..., J, 3) (u, v, z_rel) + absolute root depth (...,) mm + per-clip focal/center (..., 2) -> camera mm.

    Z_j = root_depth + z_j - z_root (the root's own predicted offset removed), then camera.back_project."""
    z = joints3d[..., 2]
    depth = ops.expand_dims(root_depth, -1) + z - z[..., root : root + 1]
    focal = ops.expand_dims(focal, -2)
    center = ops.expand_dims(center, -2)
    return camera.back_project(joints3d[..., :2], depth, focal, center)
