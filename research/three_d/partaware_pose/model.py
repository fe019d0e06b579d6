"""PartAwarePose networks (Chen et al., ECCV 2020): ResNet-50 integral baseline, derived model, search net.

All three map a person crop (B, H, W, 3) (normalised RGB) to joints (B, J, 3): (x, y) in heatmap pixels
and z in depth bins, the soft-argmax (official/ops/integral_decode.py) of (B, H', W', J * D) volumetric
heatmaps. `volumes_model()` gives the heatmaps of the same weights.

- `IntegralResNet`: Sun et al. 2018 / 3DMPPE PoseNet: torchvision ResNet-50 trunk (bias-free convs,
  official/vision/backbones/resnet.py; 23,508,032), three 4x4/2 deconvs of 256 channels without bias + BN
  + ReLU (10,487,296), a 1x1 conv to J * D (17 * 64: 279,616) = 34,274,944 parameters (spec card).
- `PartAwarePoseNet`: the derived (discrete) network of a genotype (genotypes.py): cell backbone + K part
  heads (network.py). Only discrete ops: this is what is trained from scratch and exported.
- `PartAwarePoseSearch`: the same body with MixedOps and architecture parameters alpha (normal, reduce and
  one matrix per part), and the DARTS bilevel train step (search.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from official.core.base_model import ZooLayer, ZooModel
from official.ops.integral_decode import soft_argmax_3d
from official.vision.backbones.resnet import RESNET_BLOCK_KIND, RESNET_BLOCKS, RESNET_WIDTHS, resnet_trunk
from research.three_d.partaware_pose import genotypes as gt
from research.three_d.partaware_pose.network import PartAwareBody
from research.three_d.partaware_pose.ops import BN
from research.three_d.partaware_pose.parts import H36M_PART_GROUPS


@keras.saving.register_keras_serializable(package="eccv20zoo")
class IntegralJoints(ZooLayer):
    """Volumes (B, H, W, J * D) -> joints (B, J, 3) in voxel units (float32 soft-argmax)."""

    def __init__(self, num_joints: int, depth_bins: int, **kwargs):
        super().__init__(**kwargs)
        self.num_joints, self.depth_bins = num_joints, depth_bins

    def call(self, volumes):
        return soft_argmax_3d(volumes, self.num_joints, self.depth_bins)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_joints, 3)


class _Volumes:
    def volumes_model(self) -> keras.Model:
        """The same inputs and weights, returning the volumetric heatmaps (B, H', W', J * D)."""
        return keras.Model(self.inputs, self.get_layer("joints").input, name=f"{self.name}_volumes")


@keras.saving.register_keras_serializable(package="eccv20zoo")
class IntegralResNet(_Volumes, ZooModel):
    """ResNet integral baseline (34,274,944 parameters for depth 50, 17 joints, 64 bins).

    Args:
        depth: ResNet depth (torchvision layout, bias-free convs).
        num_joints: J; depth_bins: D.
        input_shape: (height, width, 3).
        deconv_channels / deconv_layers: the SimpleBaseline head (256 x 3).
    """

    def __init__(self, depth: int = 50, num_joints: int = 17, depth_bins: int = 64,
                 input_shape: tuple[int, int, int] = (256, 256, 3), deconv_channels: int = 256,
                 deconv_layers: int = 3, **kwargs):
        inputs = keras.Input(shape=tuple(input_shape), name="images")
        x = resnet_trunk(inputs, RESNET_BLOCKS[depth], RESNET_WIDTHS, 64, dict(BN), "resnet",
                         RESNET_BLOCK_KIND[depth])["C5"]
        for i in range(deconv_layers):
            x = layers.Conv2DTranspose(deconv_channels, 4, 2, padding="same", use_bias=False, name=f"deconv{i}")(x)
            x = layers.BatchNormalization(name=f"deconv{i}_bn", **BN)(x)
            x = layers.ReLU(name=f"deconv{i}_relu")(x)
        volumes = layers.Conv2D(num_joints * depth_bins, 1, name="volumes", dtype="float32")(x)
        joints = IntegralJoints(num_joints, depth_bins, name="joints")(volumes)
        super().__init__(inputs=inputs, outputs=joints, **kwargs)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class PartAwarePoseNet(_Volumes, ZooModel):
    """The derived part-aware network of `genotype` (see network.PartAwareBody for the arguments)."""

    def __init__(self, genotype: dict | None = None, num_joints: int = 17, depth_bins: int = 64,
                 input_shape: tuple[int, int, int] = (256, 256, 3),
                 part_groups: Sequence[Sequence[int]] = H36M_PART_GROUPS, stem_channels: int = 48,
                 stem_strides: Sequence[int] = (2, 2, 2), channels: int = 48, layers: int = 8,
                 reductions: Sequence[int] = (2, 5), head_channels: int = 64, head_stages: int = 3, **kwargs):
        genotype = gt.DEFAULT_GENOTYPE if genotype is None else genotype
        inputs = keras.Input(shape=tuple(input_shape), name="images")
        body = PartAwareBody(num_joints, depth_bins, part_groups, genotype, stem_channels, stem_strides,
                             channels, layers, reductions, head_channels, head_stages, name="body")
        joints = IntegralJoints(num_joints, depth_bins, name="joints")(body(inputs))
        super().__init__(inputs=inputs, outputs=joints, **kwargs)
