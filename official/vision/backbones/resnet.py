"""ResNet-18/34/50/101 trunk (He et al., 2016) in the torchvision / MSRA SimpleBaseline layout, channels-last.

The layout of torchvision's `resnet18` (and Xiao et al.'s `msra_resnet.py` that CenterNet and KM3D
build on): 7x7/2 conv (padding 3) + BN + ReLU, 3x3/2 max-pool (padding 1), four stages of BasicBlocks
(64, 128, 256, 512 channels; the first block of stages 2-4 has stride 2 and a 1x1/2 conv + BN
projection). Strided convs and the max-pool pad explicitly (PyTorch's symmetric padding) so official
weights map one to one. `resnet_trunk` returns {"C2".."C5"} (strides 4..32).
ResNet-18: blocks (2, 2, 2, 2), 11,176,512 trainable parameters without the classifier.

ResNet-50/101 use torchvision's Bottleneck ("v1.5"): 1x1 reduce, 3x3 carrying the stride, 1x1 expand to
4x the stage width (256..2048 channels), projection on the first block of every stage (its input width
differs). `basic_block(..., shortcut="zero_pad")` is the CIFAR ResNets' parameter-free option A.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooLayer

# He et al. 2016, Table 1: blocks per stage; depths 18/34 use BasicBlocks, 50/101 Bottlenecks.
RESNET_BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}
RESNET_BLOCK_KIND = {18: "basic", 34: "basic", 50: "bottleneck", 101: "bottleneck"}
RESNET_WIDTHS = (64, 128, 256, 512)
BOTTLENECK_EXPANSION = 4


def _conv_bn(x, filters: int, kernel: int, stride: int, name: str, bn: dict, relu: bool):
    pad = kernel // 2
    if pad and stride > 1:
        x = layers.ZeroPadding2D(pad, name=f"{name}_pad")(x)
    padding = "valid" if (stride > 1 or not pad) else "same"
    x = layers.Conv2D(filters, kernel, strides=stride, padding=padding, use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn", **bn)(x)
    return layers.ReLU(name=f"{name}_relu")(x) if relu else x


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ZeroPadShortcut(ZooLayer):
    """Option A identity shortcut (He et al. 2016, Sec. 4.2): keep every second row and column (from
    index 0, PyTorch's `x[:, :, ::2, ::2]`) and append `pad` zero channels before and after the input's
    channels, so (batch, H, W, C) -> (batch, ceil(H/2), ceil(W/2), C + 2 * pad). No parameters."""

    def __init__(self, pad: int, **kwargs):
        super().__init__(**kwargs)
        self.pad = int(pad)

    def call(self, x):
        return ops.pad(x[:, ::2, ::2, :], [[0, 0], [0, 0], [0, 0], [self.pad, self.pad]])

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        half = [None if d is None else (d + 1) // 2 for d in (h, w)]
        return (b, *half, c + 2 * self.pad)


def _shortcut(x, filters: int, stride: int, name: str, bn: dict, kind: str):
    if stride == 1 and x.shape[-1] == filters:
        return x
    if kind == "projection":
        return _conv_bn(x, filters, 1, stride, f"{name}_down", bn, relu=False)
    if kind == "zero_pad":  # the CIFAR ResNets pad planes // 4 channels on each side and always subsample
        pad = filters // 4
        if x.shape[-1] + 2 * pad != filters or stride != 2:
            raise ValueError(f"{name}: option A maps C to 2C at stride 2, got {x.shape[-1]} -> {filters}, stride {stride}")
        return ZeroPadShortcut(pad, name=f"{name}_shortcut")(x)
    raise ValueError(f"{name}: shortcut must be 'projection' or 'zero_pad', got {kind!r}")


def basic_block(x, filters: int, stride: int, name: str, bn: dict, shortcut: str = "projection"):
    """conv3x3(stride) + BN + ReLU, conv3x3 + BN, + identity (or 1x1 projection / option A), ReLU."""
    y = _conv_bn(x, filters, 3, stride, f"{name}_1", bn, relu=True)
    y = _conv_bn(y, filters, 3, 1, f"{name}_2", bn, relu=False)
    x = _shortcut(x, filters, stride, name, bn, shortcut)
    y = layers.Add(name=f"{name}_add")([y, x])
    return layers.ReLU(name=f"{name}_out")(y)


def bottleneck_block(x, filters: int, stride: int, name: str, bn: dict):
    """torchvision Bottleneck: conv1x1 + BN + ReLU, conv3x3(stride) + BN + ReLU, conv1x1 to 4 * filters + BN,
    + identity (or 1x1/stride projection + BN), ReLU. The stride sits on the 3x3 conv ("ResNet v1.5")."""
    y = _conv_bn(x, filters, 1, 1, f"{name}_1", bn, relu=True)
    y = _conv_bn(y, filters, 3, stride, f"{name}_2", bn, relu=True)
    y = _conv_bn(y, filters * BOTTLENECK_EXPANSION, 1, 1, f"{name}_3", bn, relu=False)
    x = _shortcut(x, filters * BOTTLENECK_EXPANSION, stride, name, bn, "projection")
    y = layers.Add(name=f"{name}_add")([y, x])
    return layers.ReLU(name=f"{name}_out")(y)


def resnet_trunk(x, blocks=RESNET_BLOCKS[18], widths=RESNET_WIDTHS, stem_width: int = 64, bn: dict | None = None,
                 name: str = "resnet", block: str = "basic"):
    """Stem + 4 stages of `block` ("basic" or "bottleneck") blocks of a (batch, H, W, 3) tensor ->
    {"C2": stride 4, ..., "C5": stride 32}."""
    if block not in ("basic", "bottleneck"):
        raise ValueError(f"resnet_trunk: block must be 'basic' or 'bottleneck', got {block!r}")
    make_block = basic_block if block == "basic" else bottleneck_block
    bn = bn or {"momentum": 0.9, "epsilon": 1e-5}
    x = _conv_bn(x, stem_width, 7, 2, f"{name}_stem", bn, relu=True)
    x = layers.ZeroPadding2D(1, name=f"{name}_pool_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name=f"{name}_pool")(x)
    out = {}
    for stage, (count, width) in enumerate(zip(blocks, widths, strict=True)):
        for i in range(count):
            stride = 2 if (i == 0 and stage > 0) else 1
            x = make_block(x, width, stride, f"{name}_layer{stage + 1}_{i}", bn)
        out[f"C{stage + 2}"] = x
    return out
