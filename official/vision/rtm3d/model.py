"""RTM3D / KM3D: one-stage monocular 3D detection from nine projected keypoints (Li et al., ECCV 2020).

Follows the released code (Banconxuan/RTM3D, which is the follow-up KM3D): a CenterNet-style network
whose stride-4 map feeds nine heads (spec card "Method", KM3D opts.py `heads`):
    hm (C)         object-centre heatmap (the 2D box centre), sigmoid
    hm_hp (9)      heatmaps of the 8 projected corners + the projected 3D centre
    hps (18)       the 9 keypoints as (dx, dy) offsets from the centre cell
    hp_offset (2)  sub-cell offset of keypoint-heatmap peaks;  reg (2): of the centre
    wh (2)         2D box size;  dim (3): (h, w, l) in metres (absolute, as the code regresses them)
    rot (8)        2-bin orientation [bin1 logits (2), sin, cos, bin2 logits (2), sin, cos] of alpha
    prob (1)       3D-confidence logit (trained towards the 3D IoU of the solved box)
Each head is conv3x3(head_conv, bias) + ReLU + conv1x1 (head_conv 64 for ResNet-18, 256 for DLA-34).
Backbones: ResNet-18 + three 4x4/2 transposed convs (256 ch, BN, ReLU; msra_resnet.py), 16,703,152
trainable parameters with head_conv 64; or DLA-34 with the deformable DLA-up neck (pose_dla_dcn.py).

`model(images)` ((B, H, W, 3) RGB 0-255, H and W multiples of 32) returns the raw head maps: the network
body that TFLite exports. `model.detect(images, P2)` adds decoding and the geometric step (P2 in
the same input-pixel frame): "grm" = KM3D's closed-form least-squares location (the released code and
our figures), "gauss_newton" = RTM3D's iterative fit of dimensions, yaw and location to the keypoints.
`compute_loss` is KM3D's CarPoseLoss with the trainer's weights (losses.py).
"""

from __future__ import annotations

import keras
from keras import layers

from official.core.base_model import ZooModel
from official.vision.backbones.resnet import RESNET_WIDTHS, resnet_trunk
from official.vision.rtm3d import losses as rtm3d_losses
from official.vision.rtm3d.decode import decode_detections

# KM3D kittihp.py: mean/std (0.485, 0.456, 0.406) / (0.229, 0.224, 0.225) applied to cv2's BGR channels;
# here RGB on 0-255, so the stats are the same numbers in reverse order (the converter flips conv1).
PIXEL_MEAN = (0.406 * 255, 0.456 * 255, 0.485 * 255)
PIXEL_STD = (0.225 * 255, 0.224 * 255, 0.229 * 255)
HEATMAP_BIAS = -2.19  # CenterNet: heatmap heads start at sigmoid(-2.19) = 0.1
GEOMETRIES = ("grm", "gauss_newton")


def head_channels(num_classes: int) -> dict[str, int]:
    """The nine heads of KM3D's multi-class KITTI model (opts.py) and their output channels."""
    return {"hm": num_classes, "wh": 2, "hps": 18, "rot": 8, "dim": 3, "prob": 1, "reg": 2, "hm_hp": 9, "hp_offset": 2}


def prediction_head(x, hidden: int, outputs: int, name: str):
    """conv3x3(hidden) + ReLU + conv1x1(outputs); heatmaps start at -2.19, regressions near 0 (std 1e-3)."""
    heatmap = name in ("hm", "hm_hp")
    y = layers.Conv2D(hidden, 3, padding="same", name=f"{name}_conv1")(x)
    y = layers.ReLU(name=f"{name}_relu")(y)
    y = layers.Conv2D(
        outputs, 1, name=f"{name}_conv2",
        kernel_initializer="glorot_uniform" if heatmap else keras.initializers.RandomNormal(stddev=0.001),
        bias_initializer=keras.initializers.Constant(HEATMAP_BIAS if heatmap else 0.0),
    )(y)  # fmt: skip
    return layers.Activation("linear", dtype="float32", name=name)(y)


def deconv_neck(x, filters, bn: dict):
    """msra_resnet `_make_deconv_layer`: per entry a 4x4/2 transposed conv (no bias, PyTorch padding 1
    = Keras "same"), BN, ReLU; weights start at N(0, 0.001) as the official init_weights sets them."""
    for i, width in enumerate(filters):
        x = layers.Conv2DTranspose(
            width, 4, strides=2, padding="same", use_bias=False, name=f"deconv{i}",
            kernel_initializer=keras.initializers.RandomNormal(stddev=0.001),
        )(x)  # fmt: skip
        x = layers.BatchNormalization(name=f"deconv{i}_bn", **bn)(x)
        x = layers.ReLU(name=f"deconv{i}_relu")(x)
    return x


@keras.saving.register_keras_serializable(package="eccv20zoo")
class RTM3D(ZooModel):
    """RTM3D / KM3D keypoint network (functional graph built in __init__).

    Args:
        backbone: "resnet18" (ResNet + deconv neck) or "dla34" (DLA-34 + deformable DLA-up).
        num_classes: centre heatmap channels (Car, Pedestrian, Cyclist = 3).
        input_shape: (H, W, 3) of training and serving inputs (KITTI 384 x 1280).
        head_conv: hidden width of every head (64 ResNet, 256 DLA).
        resnet_blocks, resnet_widths, stem_width: ResNet stages ((2, 2, 2, 2) = ResNet-18).
        deconv_filters: widths of the transposed-conv neck ((256, 256, 256)).
        deformable: DLA-34 neck with DCNv2 (True, the released model) or plain 3x3 convs (TFLite).
        geometry: "grm" (closed-form location, KM3D) or "gauss_newton" (RTM3D's iterative fit).
        orientation_decode: "atan2" or "km3d" (the released code's atan(sin/cos), see decode.py).
        gauss_newton_iterations: fixed iteration count of the iterative fit.
        top_k: centres decoded per image (K = 100).
        keypoint_threshold: keypoint-heatmap peaks below it are not snapped to (0.1).
        center_threshold: detections with centre score <= it are invalid (KM3D vis_thresh 0.3).
        confidence_rampup_steps: steps of the exponential ramp-up of the 3D-confidence and location
            losses (KM3D: 100 epochs; 11,600 steps = 100 x 3,712 / 32).
        pixel_mean, pixel_std: RGB normalisation on the 0-255 scale.
        bn_momentum, bn_epsilon: BatchNorm (PyTorch momentum 0.1 = Keras 0.9, eps 1e-5).
    """

    def __init__(
        self,
        backbone: str = "resnet18",
        num_classes: int = 3,
        input_shape: tuple[int, int, int] = (384, 1280, 3),
        head_conv: int = 64,
        resnet_blocks: tuple[int, ...] = (2, 2, 2, 2),
        resnet_widths: tuple[int, ...] = RESNET_WIDTHS,
        stem_width: int = 64,
        deconv_filters: tuple[int, ...] = (256, 256, 256),
        deformable: bool = True,
        geometry: str = "grm",
        orientation_decode: str = "atan2",
        gauss_newton_iterations: int = 10,
        top_k: int = 100,
        keypoint_threshold: float = 0.1,
        center_threshold: float = 0.3,
        confidence_rampup_steps: int = 11600,
        pixel_mean: tuple[float, float, float] = PIXEL_MEAN,
        pixel_std: tuple[float, float, float] = PIXEL_STD,
        bn_momentum: float = 0.9,
        bn_epsilon: float = 1e-5,
        **kwargs,
    ):
        if geometry not in GEOMETRIES:
            raise ValueError(f"RTM3D: geometry must be one of {GEOMETRIES}, got {geometry!r}")
        bn = {"momentum": bn_momentum, "epsilon": bn_epsilon}
        images = keras.Input(tuple(input_shape), name="images")
        x = layers.Normalization(mean=list(pixel_mean), variance=[s * s for s in pixel_std], name="normalize")(images)
        if backbone == "resnet18":
            x = resnet_trunk(x, resnet_blocks, resnet_widths, stem_width, bn)["C5"]
            x = deconv_neck(x, deconv_filters, bn)
        elif backbone == "dla34":
            from official.vision.backbones.dla_dcn import dla34_dcn_seg

            x = dla34_dcn_seg(x, deformable=deformable, bn_momentum=bn_momentum, bn_epsilon=bn_epsilon)
        else:
            raise ValueError(f"RTM3D: backbone must be 'resnet18' or 'dla34', got {backbone!r}")
        outputs = {name: prediction_head(x, head_conv, n, name) for name, n in head_channels(num_classes).items()}
        super().__init__(inputs=images, outputs=outputs, **kwargs)
        for key, value in self.constructor_args.items():
            if key != "input_shape":  # a read-only Keras property
                setattr(self, key, value)
        self.stride = int(input_shape[0]) // int(outputs["hm"].shape[1])
        self.loss_trackers = [keras.metrics.Mean(name=n) for n in rtm3d_losses.LOSS_TERMS]

    # --- training ------------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """KM3D's weighted sum (losses.total_loss); the ramped terms follow the optimizer step."""
        if not isinstance(y, dict) or "ind" not in y:
            return super().compute_loss(x, y, y_pred, sample_weight, training)
        step = self.optimizer.iterations if getattr(self, "optimizer", None) is not None else self.confidence_rampup_steps
        total, terms = rtm3d_losses.total_loss(
            y_pred, y, self.stride, step, self.confidence_rampup_steps, self.orientation_decode
        )
        for tracker in self.loss_trackers:
            tracker.update_state(terms[tracker.name])
        total = self._aggregate_additional_loss(total)
        for extra in self.losses:
            total = total + self._aggregate_additional_loss(extra)
        return total

    # --- inference -----------------------------------------------------------------------------
    def detect(self, images, P2, geometry: str | None = None) -> dict:
        """Fixed-size 3D detections of (B, H, W, 3) pixel images with (B, 3, 4) P2 in input pixels.

        Returns (decode.decode_detections): boxes2d (B, K, 4) input pixels, dimensions (h, w, l),
        locations (bottom centre, metres), rotation_y, alpha, scores, center_scores, classes, keypoints
        (B, K, 9, 2) input pixels, valid (B, K) and num_detections (B,).
        """
        heads = self(images, training=False)
        return decode_detections(
            heads, P2, self.stride, self.top_k, self.keypoint_threshold, self.center_threshold,
            geometry or self.geometry, self.gauss_newton_iterations, self.orientation_decode,
        )  # fmt: skip
