"""R-2D3D, the ResNet of TengdaHan/MemDPC backbone/resnet_2d3d.py: 2D (1x3x3) blocks in stages 1-2, 3D (3x3x3)
blocks in stages 3-4, layer4 narrowed to 256 planes and without the last ReLU (spec card memdpc.md "Encoder f").

Input one block (batch, seq_len, height, width, 3); output (batch, ceil(seq_len / 4), height / 32, width / 32,
widths[-1]) before ReLU. Layer names follow the PyTorch modules (`layer3_1_conv2` = layer3.1.conv2) so that
convert.py maps the official state dict by name. BatchNorm3d defaults: eps 1e-5, momentum 0.1 (Keras 0.9).
"""

from __future__ import annotations

import dataclasses

import keras
from keras import layers


def kaiming_fan_out() -> keras.initializers.Initializer:
    """kaiming_normal_(mode="fan_out"), a new instance per layer: an unseeded Keras initializer fixes its seed when
    constructed, so one shared instance gave every same-shaped convolution the same initial kernel."""
    return keras.initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal")


@dataclasses.dataclass(frozen=True)
class StageSpec:
    """One ResNet stage: `blocks` BasicBlocks of `planes`; `kind` 2d (1x3x3 convs, spatial stride) or 3d."""

    kind: str
    planes: int
    blocks: int
    stride: int


def stage_specs(depths, widths) -> list[StageSpec]:
    """resnet18/34_2d3d_full: [2d, 2d, 3d, 3d] stages, strides 1, 2, 2, 2 (R18 depths 2-2-2-2, R34 3-4-6-3)."""
    return [StageSpec(k, w, d, s) for k, w, d, s in zip(("2d", "2d", "3d", "3d"), widths, depths, (1, 2, 2, 2), strict=True)]


def _conv(x, filters, kernel, stride, name):
    """nn.Conv3d(bias=False) with PyTorch's symmetric padding k // 2 done explicitly (Keras 'same' is asymmetric)."""
    pad = tuple(k // 2 for k in kernel)
    if any(pad):
        x = layers.ZeroPadding3D(pad, name=f"{name}_pad")(x)
    return layers.Conv3D(filters, kernel, stride, use_bias=False, kernel_initializer=kaiming_fan_out(), name=name)(x)


def _bn(x, name):
    return layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name=name)(x)


def basic_block(x, spec: StageSpec, stride: int, downsample: bool, final_relu: bool, name: str):
    """BasicBlock2d / BasicBlock3d: conv-bn-relu-conv-bn + (1x1 conv-bn) shortcut, ReLU unless final."""
    kernel = (1, 3, 3) if spec.kind == "2d" else (3, 3, 3)
    strides = (1, stride, stride) if spec.kind == "2d" else (stride, stride, stride)
    y = _conv(x, spec.planes, kernel, strides, f"{name}_conv1")
    y = layers.ReLU(name=f"{name}_relu1")(_bn(y, f"{name}_bn1"))
    y = _bn(_conv(y, spec.planes, kernel, (1, 1, 1), f"{name}_conv2"), f"{name}_bn2")
    if downsample:
        x = _bn(_conv(x, spec.planes, (1, 1, 1), strides, f"{name}_downsample_0"), f"{name}_downsample_1")
    y = layers.Add(name=f"{name}_add")([y, x])
    return layers.ReLU(name=f"{name}_relu2")(y) if final_relu else y


def r2d3d(depths=(2, 2, 2, 2), widths=(64, 128, 256, 256), seq_len: int = 5, img_dim: int = 128,
          stem_width: int = 64, name: str = "backbone") -> keras.Model:
    """The R-2D3D encoder as a functional model on one block (see the module docstring)."""
    inp = keras.Input((seq_len, img_dim, img_dim, 3), name="block")
    x = _conv(inp, stem_width, (1, 7, 7), (1, 2, 2), "conv1")
    x = layers.ReLU(name="relu")(_bn(x, "bn1"))
    x = layers.ZeroPadding3D((0, 1, 1), name="maxpool_pad")(x)  # zeros = -inf padding after ReLU
    x = layers.MaxPooling3D((1, 3, 3), (1, 2, 2), name="maxpool")(x)
    inplanes = stem_width
    specs = stage_specs(depths, widths)
    for s, spec in enumerate(specs, 1):
        for b in range(spec.blocks):
            stride = spec.stride if b == 0 else 1
            downsample = b == 0 and (stride != 1 or inplanes != spec.planes)
            final = s == len(specs) and b == spec.blocks - 1
            x = basic_block(x, spec, stride, downsample, not final, f"layer{s}_{b}")
            inplanes = spec.planes
    return keras.Model(inp, x, name=name)
