"""HRNet (Wang et al., TPAMI 2020), the classification trunk of HRNetV2 as the ISP re-ID repository uses it.

Facts from CASIA-IVA-Lab/ISP-reID `modeling/backbones/cls_hrnet.py` with `configs/softmax_triplet.yml`
(HRNet-W32): a stem of two stride-2 3x3 convs (64 channels), layer1 of 4 Bottlenecks (planes 64 -> 256),
then stages 2/3/4 with 1/4/3 modules of 2/3/4 branches (C, 2C, 4C, 8C channels, C = 32), 4 BASIC blocks
per branch and SUM fusion (1x1 conv + BN + nearest upsampling from coarser branches; chains of stride-2
3x3 conv + BN (+ ReLU but the last) from finer ones; ReLU after the sum). BatchNorm: eps 1e-5,
PyTorch momentum 0.1 (Keras 0.9).

Layer names are the official module paths (`stage3.2.fuse_layers.2.0.1.0`), so a state dict converts by
name (research/reid/isp/convert.py). `HRNet` (registered `hrnet_w32`) outputs the four stage-4 branch
maps, finest first: (batch, H/4, W/4, C) ... (batch, H/32, W/32, 8C).
"""

from __future__ import annotations

import dataclasses

import keras

from official.core.base_model import ZooModel
from official.core.registry import register_variant

BN_EPSILON = 1e-5
BN_MOMENTUM = 0.9  # PyTorch momentum 0.1


@dataclasses.dataclass(frozen=True)
class StageSpec:
    """One HRNet stage: `modules` HighResolutionModules of len(channels) branches of `blocks` BASIC blocks."""

    modules: int
    channels: tuple[int, ...]
    blocks: int = 4


def hrnet_stages(width: int, modules: tuple[int, int, int] = (1, 4, 3), blocks: int = 4) -> list[StageSpec]:
    """Stages 2-4 of HRNet-W`width` (cls_hrnet.py / softmax_triplet.yml: modules 1, 4, 3; 4 blocks per branch)."""
    return [StageSpec(m, tuple(width * 2**b for b in range(n + 2)), blocks) for n, m in enumerate(modules)]


def conv(x, filters: int, kernel: int, stride: int, name: str, use_bias: bool = False):
    """A PyTorch-style conv (padding kernel // 2 on every side, so stride 2 matches torch exactly)."""
    pad = kernel // 2
    if pad and stride > 1:
        x = keras.layers.ZeroPadding2D(pad, name=f"{name}.pad")(x)
        padding = "valid"
    else:
        padding = "same"
    return keras.layers.Conv2D(filters, kernel, strides=stride, padding=padding, use_bias=use_bias, name=name)(x)


def bn(x, name: str):
    return keras.layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=name)(x)


def relu(x):
    return keras.layers.ReLU()(x)


def bottleneck(x, planes: int, name: str, stride: int = 1):
    """Bottleneck (expansion 4): 1x1, 3x3 (stride), 1x1, with a 1x1 conv + BN `downsample` when the shape changes."""
    shortcut = x
    if stride != 1 or x.shape[-1] != planes * 4:
        shortcut = bn(conv(x, planes * 4, 1, stride, f"{name}.downsample.0"), f"{name}.downsample.1")
    y = relu(bn(conv(x, planes, 1, 1, f"{name}.conv1"), f"{name}.bn1"))
    y = relu(bn(conv(y, planes, 3, stride, f"{name}.conv2"), f"{name}.bn2"))
    y = bn(conv(y, planes * 4, 1, 1, f"{name}.conv3"), f"{name}.bn3")
    return relu(keras.layers.Add()([y, shortcut]))


def basic_block(x, planes: int, name: str):
    """BasicBlock: two 3x3 conv + BN, identity shortcut (a 1x1 downsample only if the width changes)."""
    shortcut = x
    if x.shape[-1] != planes:
        shortcut = bn(conv(x, planes, 1, 1, f"{name}.downsample.0"), f"{name}.downsample.1")
    y = relu(bn(conv(x, planes, 3, 1, f"{name}.conv1"), f"{name}.bn1"))
    y = bn(conv(y, planes, 3, 1, f"{name}.conv2"), f"{name}.bn2")
    return relu(keras.layers.Add()([y, shortcut]))


def transition(xs: list, channels: tuple[int, ...], name: str) -> list:
    """`transitionN`: 3x3 conv + BN + ReLU where a kept branch changes width; a new branch is a stride-2
    3x3 conv + BN + ReLU from the last (coarsest) previous branch."""
    out = []
    for i, c in enumerate(channels):
        if i < len(xs):
            x = xs[i]
            if x.shape[-1] != c:
                x = relu(bn(conv(x, c, 3, 1, f"{name}.{i}.0"), f"{name}.{i}.1"))
            out.append(x)
        else:
            x = xs[-1]
            hops = i + 1 - len(xs)
            for j in range(hops):
                width = c if j == hops - 1 else x.shape[-1]
                x = relu(bn(conv(x, width, 3, 2, f"{name}.{i}.{j}.0"), f"{name}.{i}.{j}.1"))
            out.append(x)
    return out


def hr_module(xs: list, spec: StageSpec, name: str) -> list:
    """HighResolutionModule: BASIC branches, then SUM fusion into every branch (multi-scale output)."""
    xs = list(xs)
    for b, c in enumerate(spec.channels):
        for k in range(spec.blocks):
            xs[b] = basic_block(xs[b], c, f"{name}.branches.{b}.{k}")
    if len(xs) == 1:
        return xs
    fused = []
    for i, ci in enumerate(spec.channels):
        terms = []
        for j, cj in enumerate(spec.channels):
            prefix = f"{name}.fuse_layers.{i}.{j}"
            if j == i:
                terms.append(xs[j])
            elif j > i:  # coarser: 1x1 conv + BN, nearest upsampling by 2^(j-i)
                y = bn(conv(xs[j], ci, 1, 1, f"{prefix}.0"), f"{prefix}.1")
                terms.append(keras.layers.UpSampling2D(2 ** (j - i), interpolation="nearest")(y))
            else:  # finer: i-j stride-2 3x3 convs; ReLU after all but the last, which has the target width
                y = xs[j]
                for k in range(i - j):
                    last = k == i - j - 1
                    y = bn(conv(y, ci if last else cj, 3, 2, f"{prefix}.{k}.0"), f"{prefix}.{k}.1")
                    y = y if last else relu(y)
                terms.append(y)
        fused.append(relu(keras.layers.Add()(terms)))
    return fused


def hrnet_branches(
    images, width: int = 32, stem_channels: int = 64, layer1_planes: int = 64, layer1_blocks: int = 4,
    stage_modules: tuple[int, int, int] = (1, 4, 3), blocks: int = 4,
) -> list:
    """The HRNet trunk on `images`: the stage-4 branch maps, finest (1/4 resolution) first."""
    x = relu(bn(conv(images, stem_channels, 3, 2, "conv1"), "bn1"))
    x = relu(bn(conv(x, stem_channels, 3, 2, "conv2"), "bn2"))
    for k in range(layer1_blocks):
        x = bottleneck(x, layer1_planes, f"layer1.{k}")
    xs = [x]
    for s, spec in enumerate(hrnet_stages(width, stage_modules, blocks)):
        xs = transition(xs, spec.channels, f"transition{s + 1}")
        for m in range(spec.modules):
            xs = hr_module(xs, spec, f"stage{s + 2}.{m}")
    return xs


@keras.saving.register_keras_serializable(package="eccv20zoo")
class HRNet(ZooModel):
    """HRNet trunk: image (batch, H, W, 3) -> [(batch, H/4, W/4, C), ..., (batch, H/32, W/32, 8C)].

    H and W must be divisible by 32 so that the fusion shapes line up.
    """

    def __init__(
        self, input_shape: tuple[int, int, int] = (256, 128, 3), width: int = 32, stem_channels: int = 64,
        layer1_planes: int = 64, layer1_blocks: int = 4, stage_modules: tuple[int, int, int] = (1, 4, 3),
        blocks: int = 4, **kwargs,
    ):
        images = keras.Input(tuple(input_shape), name="images")
        outputs = hrnet_branches(images, width, stem_channels, layer1_planes, layer1_blocks, tuple(stage_modules), blocks)
        super().__init__(inputs=images, outputs=outputs, **kwargs)


# cls_hrnet.py with softmax_triplet.yml, trunk only (stem, layer1, transitions, stages 2-4): 29,305,536
# trainable parameters, counted from the official module (.peer/isp/count_official.py; the card).
register_variant("hrnet_w32", HRNet, width=32)
