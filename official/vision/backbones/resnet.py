"""ResNet-18/34 trunk (He et al., 2016) in the torchvision / MSRA SimpleBaseline layout, channels-last.

The layout of torchvision's `resnet18` (and Xiao et al.'s `msra_resnet.py` that CenterNet and KM3D
build on): 7x7/2 conv (padding 3) + BN + ReLU, 3x3/2 max-pool (padding 1), four stages of BasicBlocks
(64, 128, 256, 512 channels; the first block of stages 2-4 has stride 2 and a 1x1/2 conv + BN
projection). Strided convs and the max-pool pad explicitly (PyTorch's symmetric padding) so official
weights map one to one. `resnet_trunk` returns {"C2".."C5"} (strides 4..32).
ResNet-18: blocks (2, 2, 2, 2), 11,176,512 trainable parameters without the classifier.
"""

from __future__ import annotations

from keras import layers

RESNET_BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}
RESNET_WIDTHS = (64, 128, 256, 512)


def _conv_bn(x, filters: int, kernel: int, stride: int, name: str, bn: dict, relu: bool):
    pad = kernel // 2
    if pad and stride > 1:
        x = layers.ZeroPadding2D(pad, name=f"{name}_pad")(x)
    padding = "valid" if (stride > 1 or not pad) else "same"
    x = layers.Conv2D(filters, kernel, strides=stride, padding=padding, use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn", **bn)(x)
    return layers.ReLU(name=f"{name}_relu")(x) if relu else x


def basic_block(x, filters: int, stride: int, name: str, bn: dict):
    """conv3x3(stride) + BN + ReLU, conv3x3 + BN, + identity (or 1x1 projection), ReLU."""
    y = _conv_bn(x, filters, 3, stride, f"{name}_1", bn, relu=True)
    y = _conv_bn(y, filters, 3, 1, f"{name}_2", bn, relu=False)
    if stride != 1 or x.shape[-1] != filters:
        x = _conv_bn(x, filters, 1, stride, f"{name}_down", bn, relu=False)
    y = layers.Add(name=f"{name}_add")([y, x])
    return layers.ReLU(name=f"{name}_out")(y)


def resnet_trunk(x, blocks=RESNET_BLOCKS[18], widths=RESNET_WIDTHS, stem_width: int = 64, bn: dict | None = None, name: str = "resnet"):
    """Stem + 4 BasicBlock stages of a (batch, H, W, 3) tensor -> {"C2": stride 4, ..., "C5": stride 32}."""
    bn = bn or {"momentum": 0.9, "epsilon": 1e-5}
    x = _conv_bn(x, stem_width, 7, 2, f"{name}_stem", bn, relu=True)
    x = layers.ZeroPadding2D(1, name=f"{name}_pool_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name=f"{name}_pool")(x)
    out = {}
    for stage, (count, width) in enumerate(zip(blocks, widths, strict=True)):
        for i in range(count):
            stride = 2 if (i == 0 and stage > 0) else 1
            x = basic_block(x, width, stride, f"{name}_layer{stage + 1}_{i}", bn)
        out[f"C{stage + 2}"] = x
    return out
