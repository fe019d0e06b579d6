"""The part-aware network body: cell backbone + K part heads -> volumetric heatmaps in dataset joint order.

Backbone (spec card: "the backbone is also built from searched cells", unverified): DARTS' ImageNet stem
(3x3/2 conv to C/2, BN, ReLU, 3x3/2 conv to C, BN; then ReLU, 3x3/2 conv, BN; strides configurable for
small inputs) and `layers` cells, the cells listed in `reductions` halving the resolution and doubling
the width (DARTS: at layers // 3 and 2 * layers // 3).
Part head p (one per group, its own cell genotype / alphas): `head_stages` upsampling stages, each a
4x4/2 transposed conv (no bias) + BN + ReLU (s1) and a nearest 2x upsampling of the stage input (s0)
feeding the part cell; then a 1x1 conv to len(group) * depth_bins channels (a guess at the IJCV figure's
"upsampling cells with transposed convs"). `parts.channel_permutation` reorders the concatenated heads.
`weights=None` everywhere gives the derived network; the search passes softmaxed alphas.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers as kl
from keras import ops

from official.core.base_model import BuiltByFirstCall, ZooLayer
from research.three_d.partaware_pose import genotypes as gt
from research.three_d.partaware_pose.cells import Cell
from research.three_d.partaware_pose.ops import BN
from research.three_d.partaware_pose.parts import channel_permutation, check_groups


def _conv_bn(channels: int, kernel: int, stride: int, name: str) -> list:
    return [kl.Conv2D(channels, kernel, stride, padding="same", use_bias=False, name=f"{name}_conv"),
            kl.BatchNormalization(name=f"{name}_bn", **BN)]


@keras.saving.register_keras_serializable(package="eccv20zoo")
class PartAwareBody(BuiltByFirstCall, ZooLayer):
    """images (B, H, W, 3) -> volumes (B, H/s, W/s, J * depth_bins), channel j * D + d (dataset order).

    Args:
        num_joints: J.
        depth_bins: D, heatmap depth bins.
        part_groups: joint indices of each part head (each joint exactly once).
        genotype: network genotype (normal, reduce, parts) or None for the search network.
        stem_channels: C of the stem; stem_strides: strides of its three convs.
        channels: width of the first cells; layers: backbone cells; reductions: indices of reduction cells.
        head_channels: width of the part heads; head_stages: 2x upsampling stages per head.
        primitives: candidate ops of the search cells (`zero` first; unused by a derived network).
    """

    def __init__(self, num_joints: int, depth_bins: int, part_groups: Sequence[Sequence[int]],
                 genotype: dict | None = None, stem_channels: int = 48, stem_strides: Sequence[int] = (2, 2, 2),
                 channels: int = 48, layers: int = 8, reductions: Sequence[int] = (2, 5),
                 head_channels: int = 64, head_stages: int = 3, primitives: Sequence[str] = gt.PRIMITIVES, **kwargs):
        super().__init__(**kwargs)
        self.groups = check_groups(part_groups, num_joints)
        search = genotype is None
        geno = None if search else gt.check_genotype(genotype, len(self.groups))
        self.permutation = channel_permutation(self.groups, depth_bins)
        s = tuple(stem_strides)
        self.stem0 = [*_conv_bn(stem_channels // 2, 3, s[0], "stem0a"), kl.ReLU(name="stem0_relu"),
                      *_conv_bn(stem_channels, 3, s[1], "stem0b")]
        self.stem1 = [kl.ReLU(name="stem1_relu"), *_conv_bn(stem_channels, 3, s[2], "stem1")]
        self.cells, width, reduction_prev = [], channels, s[2] > 1
        for i in range(layers):
            reduction = i in tuple(reductions)
            width *= 2 if reduction else 1
            cell_geno = None if search else geno["reduce" if reduction else "normal"]
            self.cells.append(Cell(width, reduction, reduction_prev, cell_geno, not search, tuple(primitives),
                                   name=f"cell{i}"))
            reduction_prev = reduction
        self.head_stages, self.head_finals = [], []
        for p, group in enumerate(self.groups):
            stages = []
            for t in range(head_stages):
                stages.append([
                    kl.Conv2DTranspose(head_channels, 4, 2, padding="same", use_bias=False, name=f"part{p}_up{t}"),
                    kl.BatchNormalization(name=f"part{p}_up{t}_bn", **BN),
                    kl.UpSampling2D(2, interpolation="nearest", name=f"part{p}_skip{t}"),
                    Cell(head_channels, genotype=None if search else geno["parts"][p], affine=not search,
                         primitives=tuple(primitives), name=f"part{p}_cell{t}"),
                ])
            self.head_stages.append(stages)
            self.head_finals.append(kl.Conv2D(len(group) * depth_bins, 1, name=f"part{p}_volumes"))

    def call(self, images, normal=None, reduce=None, parts=None, training=None):
        x = images
        for layer in self.stem0:
            x = layer(x, training=training) if isinstance(layer, kl.BatchNormalization) else layer(x)
        s0, s1 = x, x
        for layer in self.stem1:
            s1 = layer(s1, training=training) if isinstance(layer, kl.BatchNormalization) else layer(s1)
        for cell in self.cells:
            w = reduce if cell.reduction else normal
            s0, s1 = s1, cell(s0, s1, w, training=training)
        outputs = []
        for p, (stages, final) in enumerate(zip(self.head_stages, self.head_finals, strict=True)):
            x = s1
            for deconv, bn, skip, cell in stages:
                up = ops.relu(bn(deconv(x), training=training))
                x = cell(skip(x), up, None if parts is None else parts[p], training=training)
            outputs.append(final(x))
        volumes = ops.concatenate(outputs, axis=-1)
        return ops.take(volumes, ops.convert_to_tensor(self.permutation), axis=-1)
