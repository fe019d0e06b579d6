"""DLA-34 (Yu et al., CVPR 2018) with the DLA-up / IDA-up neck used by CenterNet and CPN.

Backbone: base 7x7 conv (stride 1), level0/level1 plain conv levels (level1 stride 2), levels 2-5 are
hierarchical "Tree" aggregations of BasicBlocks with 1x1 "Root" nodes, each halving the resolution
(max-pool for the residual path). DLA-34: levels (1, 1, 1, 2, 2, 1), channels (16, 32, 64, 128, 256,
512) (dla.py `dla34`, the ImageNet model CPN starts from). PyTorch's unused projection of the outer
level-2 trees (its output is passed to a sub-tree that recomputes its own) is not created.

Neck (CPNDet `DLASeg` with down_ratio 4, last_level 5): DLA-up fuses levels 2-5 from the coarsest
down, each step projecting (3x3 conv + BN + ReLU), upsampling with a depthwise transposed conv
(kernel 2f, stride f, bilinear init) and merging (3x3 conv + BN + ReLU) with the finer level; IDA-up
then folds the stride 8 and 16 results into the stride-4 map (64 channels for DLA-34).
Strided convs pad explicitly (PyTorch's symmetric padding) so official weights map one to one.
Outputs (channels-last): {"P2".."P5": level outputs, "P2_fused": the neck's stride-4 map when
`with_neck`}; `pyramid_outputs` holds the same dict. `dla_levels` builds the backbone on a tensor and
`dla_up_neck(..., block=...)` takes the proj/node block, so dla_dcn.py (KM3D's deformable neck) reuses both.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops

from official.core.base_model import ZooLayer, ZooModel

DLA34_LEVELS = (1, 1, 1, 2, 2, 1)
DLA34_CHANNELS = (16, 32, 64, 128, 256, 512)


def conv_bn(x, filters: int, kernel: int, stride: int, name: str, bn: dict, relu: bool = True, use_bias: bool = False):
    """Conv (PyTorch padding k // 2) + BN (+ ReLU)."""
    pad = kernel // 2
    if pad and stride > 1:
        x = layers.ZeroPadding2D(pad, name=f"{name}_pad")(x)
        padding = "valid"
    else:
        padding = "same"
    x = layers.Conv2D(filters, kernel, strides=stride, padding=padding, use_bias=use_bias, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn", **bn)(x)
    if relu:
        x = layers.ReLU(name=f"{name}_relu")(x)
    return x


def basic_block(x, residual, filters: int, stride: int, name: str, bn: dict):
    y = conv_bn(x, filters, 3, stride, f"{name}_1", bn)
    y = conv_bn(y, filters, 3, 1, f"{name}_2", bn, relu=False)
    y = layers.Add(name=f"{name}_add")([y, residual])
    return layers.ReLU(name=f"{name}_out")(y)


def _root(children: list, filters: int, name: str, bn: dict):
    x = layers.Concatenate(name=f"{name}_cat")(children) if len(children) > 1 else children[0]
    x = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn", **bn)(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def tree(x, levels: int, in_ch: int, out_ch: int, stride: int, level_root: bool, root_dim: int, name: str, bn: dict, children=None):
    """One DLA Tree; `children` are the extra inputs of the deepest root (HDA connections)."""
    children = [] if children is None else children
    root_dim = root_dim or 2 * out_ch
    if level_root:
        root_dim += in_ch
    bottom = layers.MaxPooling2D(stride, strides=stride, name=f"{name}_down")(x) if stride > 1 else x
    if level_root:
        children.append(bottom)
    if levels == 1:
        if in_ch != out_ch:
            residual = conv_bn(bottom, out_ch, 1, 1, f"{name}_project", bn, relu=False)
        else:
            residual = bottom
        x1 = basic_block(x, residual, out_ch, stride, f"{name}_tree1", bn)
        x2 = basic_block(x1, x1, out_ch, 1, f"{name}_tree2", bn)
        return _root([x2, x1, *children], out_ch, f"{name}_root", bn)
    x1 = tree(x, levels - 1, in_ch, out_ch, stride, False, 0, f"{name}_tree1", bn)
    children.append(x1)
    return tree(x1, levels - 1, out_ch, out_ch, 1, False, root_dim + out_ch, f"{name}_tree2", bn, children)


def bilinear_upsample_kernel(factor: int, channels: int) -> np.ndarray:
    """(2f, 2f, channels, 1) depthwise kernel of bilinear interpolation (CenterNet `fill_up_weights`)."""
    size = 2 * factor
    f = math.ceil(size / 2)
    c = (2 * f - 1 - f % 2) / (2.0 * f)
    idx = np.arange(size)
    w1 = 1 - np.abs(idx / f - c)
    kernel = np.outer(w1, w1).astype(np.float32)
    return np.tile(kernel[:, :, None, None], (1, 1, channels, 1))


@keras.saving.register_keras_serializable(package="eccv20zoo")
class DepthwiseUpsample(ZooLayer):
    """PyTorch ConvTranspose2d(C, C, 2f, stride=f, padding=f // 2, groups=C, bias=False) in channels-last.

    Computed as zero insertion (stride f) + padding + a depthwise conv with the flipped kernel, which
    is exactly a transposed convolution; the kernel is stored in PyTorch's (unflipped) orientation.
    """

    def __init__(self, factor: int, **kwargs):
        super().__init__(**kwargs)
        if int(factor) < 2:
            raise ValueError(f"DepthwiseUpsample: factor must be >= 2, got {factor}")
        self.factor = int(factor)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        init = bilinear_upsample_kernel(self.factor, channels)
        self.kernel = self.add_weight(
            name="kernel", shape=init.shape, initializer=keras.initializers.Constant(init), trainable=True
        )

    def call(self, x):
        f = self.factor
        shape = ops.shape(x)
        b, h, w, c = shape[0], shape[1], shape[2], shape[3]
        zeros = ops.zeros_like(x)
        y = ops.stack([x] + [zeros] * (f - 1), axis=3)  # (B, H, W, f, C)
        y = ops.reshape(y, (b, h, w * f, c))
        zeros = ops.zeros_like(y)
        y = ops.stack([y] + [zeros] * (f - 1), axis=2)  # (B, H, f, Wf, C)
        y = ops.reshape(y, (b, h * f, w * f, c))
        k, p = 2 * f, f // 2
        lo, hi = k - 1 - p, p
        y = ops.pad(y, [[0, 0], [lo, hi], [lo, hi], [0, 0]])
        kernel = ops.flip(self.kernel, axis=(0, 1))
        return ops.depthwise_conv(y, kernel, strides=1, padding="valid")

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        f = self.factor
        return (b, None if h is None else h * f, None if w is None else w * f, c)



def _ida_up(
    feats: list, start: int, end: int, out_ch: int, factors: list[int], name: str, bn: dict, block=conv_bn
) -> None:
    """IDAUp: feats[i] = node(up(proj(feats[i])) + feats[i - 1]) for i in (start, end), in place.

    `block(x, filters, kernel, stride, name, bn)` builds proj and node (3x3 conv + BN + ReLU here;
    the DCN neck of dla_dcn.py passes DCN + BN + ReLU).
    """
    for i in range(start + 1, end):
        k = i - start
        y = block(feats[i], out_ch, 3, 1, f"{name}_proj{k}", bn)
        if factors[k] > 1:
            y = DepthwiseUpsample(factors[k], name=f"{name}_up{k}")(y)
        y = layers.Add(name=f"{name}_sum{k}")([y, feats[i - 1]])
        feats[i] = block(y, out_ch, 3, 1, f"{name}_node{k}", bn)


def dla_up_neck(levels: list, channels: list[int], bn: dict, name: str = "neck", block=conv_bn):
    """DLA-up then IDA-up over `levels` (stride 4, 8, 16, 32 maps) -> the fused stride-4 map.

    `block` builds every proj / node of the IDA-ups (see `_ida_up`).
    """
    feats = list(levels)
    n = len(feats)
    chans = list(channels)
    scales = [2**i for i in range(n)]
    outs = [feats[-1]]
    for i in range(n - 1):
        j = n - i - 2
        factors = [s // scales[j] for s in scales[j:]]
        _ida_up(feats, j, n, chans[j], factors, f"{name}_dla_ida{i}", bn, block)
        outs.insert(0, feats[-1])
        for t in range(j + 1, n):
            scales[t] = scales[j]
    fused = outs[: n - 1]  # CPNDet last_level=5: levels 2..4 of the DLA-up outputs
    _ida_up(fused, 0, len(fused), chans[0], [2**i for i in range(len(fused))], f"{name}_ida", bn, block)
    return fused[-1]


def dla_levels(inputs, channels=DLA34_CHANNELS, levels=DLA34_LEVELS, bn: dict | None = None) -> dict:
    """The DLA backbone on a (B, H, W, 3) tensor -> {"P2".."P5": stride 4, 8, 16, 32 level outputs}."""
    bn = {"momentum": 0.9, "epsilon": 1e-5} if bn is None else bn
    x = conv_bn(inputs, channels[0], 7, 1, "base", bn)
    x = conv_bn(x, channels[0], 3, 1, "level0", bn)
    for i in range(1, levels[0]):
        x = conv_bn(x, channels[0], 3, 1, f"level0_{i}", bn)
    x = conv_bn(x, channels[1], 3, 2, "level1", bn)
    for i in range(1, levels[1]):
        x = conv_bn(x, channels[1], 3, 1, f"level1_{i}", bn)
    outputs = {}
    for lvl in range(2, 6):
        x = tree(x, levels[lvl], channels[lvl - 1], channels[lvl], 2, lvl > 2, 0, f"level{lvl}", bn)
        outputs[f"P{lvl}"] = x
    return outputs


@keras.saving.register_keras_serializable(package="eccv20zoo")
class DLABackbone(ZooModel):
    """DLA backbone (+ optional DLA-up neck) as a functional model on (batch, H, W, 3) inputs.

    Args:
        channels: widths of the six levels; DLA-34 (16, 32, 64, 128, 256, 512).
        levels: tree depths of the six levels; DLA-34 (1, 1, 1, 2, 2, 1).
        with_neck: add the DLA-up/IDA-up neck and the "P2_fused" output.
        input_shape: (height, width, 3); None sizes allowed.
        bn_momentum, bn_epsilon: BatchNorm (PyTorch momentum 0.1 = Keras 0.9, eps 1e-5).
    """

    def __init__(
        self,
        channels: tuple[int, ...] = DLA34_CHANNELS,
        levels: tuple[int, ...] = DLA34_LEVELS,
        with_neck: bool = True,
        input_shape: tuple[int | None, int | None, int] = (None, None, 3),
        bn_momentum: float = 0.9,
        bn_epsilon: float = 1e-5,
        **kwargs,
    ):
        if len(channels) != 6 or len(levels) != 6:
            raise ValueError(f"DLABackbone: channels and levels need 6 entries, got {channels} and {levels}")
        bn = {"momentum": bn_momentum, "epsilon": bn_epsilon}
        inputs = keras.Input(shape=tuple(input_shape), name="images")
        outputs = dla_levels(inputs, channels, levels, bn)
        if with_neck:
            outputs["P2_fused"] = dla_up_neck([outputs[f"P{i}"] for i in range(2, 6)], list(channels[2:]), bn)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.pyramid_outputs = outputs
