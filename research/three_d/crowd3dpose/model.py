"""Crowd3DPose's 2D pose network (Chen et al., ECCV 2020): ResNet + deconvolutions -> 23 keypoint heatmaps.

The authors train AlphaPose's single-person pose estimator (FastPose: ResNet-50 + DUC upsampling, input
320 x 256, heatmaps 80 x 64) on 23 keypoints with the feet-weighted MSE (loss.py). The zoo has no DUC
head; we use the SimpleBaseline layout on the zoo's ResNet trunk (official/vision/backbones/resnet.py):
C5 (stride 32) -> `len(deconv_filters)` x [4x4/2 transposed conv + BN + ReLU] -> 1x1 conv to K heatmaps
at stride 4 (known difference, in the card). It plugs into the shared top-down keypoint stack
(official/tasks/keypoints.py via task.py): output {"heatmaps": (batch, H/4, W/4, K)}; `compute_loss` reads
the task's batches {"targets": (batch, kernels, H/4, W/4, K), "valid": (batch, K)} and applies the
feet-weighted MSE to the last (sharpest) target kernel.
"""

from __future__ import annotations

import keras
from keras import layers

from official.core.base_model import ZooModel
from official.vision.backbones.resnet import RESNET_BLOCK_KIND, RESNET_BLOCKS, RESNET_WIDTHS, resnet_trunk
from research.three_d.crowd3dpose.loss import feet_weighted_mse


@keras.saving.register_keras_serializable(package="eccv20zoo")
class Crowd3DPoseNet(ZooModel):
    """Args:
        depth: ResNet depth of the trunk (18, 34, 50, 101).
        num_keypoints: heatmaps K (23: COCO-17 + 6 feet).
        input_shape: crop (height, width, 3); height and width multiples of 32.
        deconv_filters: channels of the transposed-conv stages (3 stages: stride 32 -> 4).
        blocks: ResNet blocks per stage (None: the depth's).
        widths: ResNet stage widths.
        stem_width: ResNet stem channels.
        feet_lambda: the loss's foot weight lambda (criterion_mse: 1.5).
        bn_momentum, bn_epsilon: BatchNorm settings (PyTorch's 0.1 / 1e-5).
    """

    def __init__(
        self,
        depth: int = 50,
        num_keypoints: int = 23,
        input_shape: tuple[int, int, int] = (320, 256, 3),
        deconv_filters: tuple[int, ...] = (256, 256, 256),
        blocks: tuple[int, ...] | None = None,
        widths: tuple[int, ...] = RESNET_WIDTHS,
        stem_width: int = 64,
        feet_lambda: float = 1.5,
        bn_momentum: float = 0.9,
        bn_epsilon: float = 1e-5,
        **kwargs,
    ):
        if depth not in RESNET_BLOCKS:
            raise ValueError(f"Crowd3DPoseNet: depth must be one of {sorted(RESNET_BLOCKS)}, got {depth}")
        bn = {"momentum": bn_momentum, "epsilon": bn_epsilon}
        images = keras.Input(shape=tuple(input_shape), name="images")
        x = resnet_trunk(images, tuple(blocks or RESNET_BLOCKS[depth]), tuple(widths), stem_width, bn, "resnet",
                         RESNET_BLOCK_KIND[depth])["C5"]
        for i, filters in enumerate(deconv_filters):
            x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False, name=f"deconv{i}")(x)
            x = layers.BatchNormalization(name=f"deconv{i}_bn", **bn)(x)
            x = layers.ReLU(name=f"deconv{i}_relu")(x)
        heatmaps = layers.Conv2D(num_keypoints, 1, name="final", dtype="float32")(x)
        heatmaps = layers.Activation("linear", dtype="float32", name="heatmaps")(heatmaps)
        super().__init__(inputs=images, outputs={"heatmaps": heatmaps}, **kwargs)
        self.feet_lambda = feet_lambda

    def inference_model(self) -> keras.Model:
        """A model sharing these weights whose only output is the (batch, H/4, W/4, K) heatmaps (TFLite body)."""
        return keras.Model(self.input, self.get_layer("heatmaps").output, name=f"{self.name}_heatmaps")

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Feet-weighted MSE on the sharpest target kernel (+ the model's regularisation losses)."""
        if not isinstance(y, dict) or "targets" not in y:
            return super().compute_loss(x, y, y_pred, sample_weight, training)
        targets = y["targets"][:, -1]
        loss = feet_weighted_mse(y_pred["heatmaps"], targets, self.feet_lambda, y["valid"])
        if self.losses:
            loss = loss + keras.ops.sum(self.losses)
        return loss
