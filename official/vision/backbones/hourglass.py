"""Stacked hourglass backbone as used by CornerNet / CenterNet / CPN (Hourglass-52 and -104).

Stem: 7x7 conv stride 2 (128) + residual stride 2 (256) -> stride 4. Each hourglass module recurses
`len(dims) - 1` times: an "up" branch of residuals at the current resolution, a "low" branch that
downsamples with a stride-2 residual (CPN's `make_hg_layer`, no max-pool), recurses, comes back with
residuals and a nearest 2x upsample, and the two branches are added. Each stack ends in a 3x3
conv + BN + ReLU ("cnv", `cnv_dim` channels); between stacks the next input is
ReLU(BN(1x1(inter)) + BN(1x1(cnv))) followed by a residual (intermediate supervision).
Hourglass-104 (CPN spec): dims (256, 256, 384, 384, 384, 512), modules (2, 2, 2, 2, 2, 4), 2 stacks;
Hourglass-52: the same with 1 stack.

Outputs (channels-last): {"P2": last stack's cnv, "stack0", ... : the earlier stacks' cnv maps};
`pyramid_outputs` = {"P2": ...}. The input side must be divisible by 4 * 2^(len(dims) - 1) after the
stem (511 -> 128 for 5 downsamplings).
"""

from __future__ import annotations

import keras
from keras import layers

from official.core.base_model import ZooModel

HG104_DIMS = (256, 256, 384, 384, 384, 512)
HG104_MODULES = (2, 2, 2, 2, 2, 4)


def conv_bn_relu(x, filters: int, kernel: int, stride: int, name: str, bn: dict):
    """CornerNet `convolution`: conv (padding k // 2, no bias) + BN + ReLU."""
    pad = kernel // 2
    if stride > 1 and pad:
        x = layers.ZeroPadding2D(pad, name=f"{name}_pad")(x)
        x = layers.Conv2D(filters, kernel, strides=stride, padding="valid", use_bias=False, name=f"{name}_conv")(x)
    else:
        x = layers.Conv2D(filters, kernel, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn", **bn)(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def residual(x, filters: int, stride: int, name: str, bn: dict):
    """CornerNet `residual`: 3x3 (stride) + BN + ReLU, 3x3 + BN, skip (1x1 + BN if shape changes), ReLU."""
    in_ch = x.shape[-1]
    if stride > 1:
        y = layers.ZeroPadding2D(1, name=f"{name}_pad")(x)
        y = layers.Conv2D(filters, 3, strides=stride, padding="valid", use_bias=False, name=f"{name}_conv1")(y)
    else:
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    y = layers.BatchNormalization(name=f"{name}_bn1", **bn)(y)
    y = layers.ReLU(name=f"{name}_relu1")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(name=f"{name}_bn2", **bn)(y)
    skip = x
    if stride != 1 or in_ch != filters:
        skip = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_skip_conv")(x)
        skip = layers.BatchNormalization(name=f"{name}_skip_bn", **bn)(skip)
    y = layers.Add(name=f"{name}_add")([y, skip])
    return layers.ReLU(name=f"{name}_relu")(y)


def hourglass_module(x, dims: tuple[int, ...], modules: tuple[int, ...], name: str, bn: dict):
    """One (recursive) hourglass: up1 + upsample(low3(low2(low1(x))))."""
    curr, nxt = dims[0], dims[1]
    up1 = x
    for i in range(modules[0]):
        up1 = residual(up1, curr, 1, f"{name}_up1_{i}", bn)
    low = residual(x, nxt, 2, f"{name}_low1_0", bn)
    for i in range(1, modules[0]):
        low = residual(low, nxt, 1, f"{name}_low1_{i}", bn)
    if len(dims) > 2:
        low = hourglass_module(low, dims[1:], modules[1:], f"{name}_in", bn)
    else:
        for i in range(modules[1]):
            low = residual(low, nxt, 1, f"{name}_low2_{i}", bn)
    for i in range(modules[0] - 1):
        low = residual(low, nxt, 1, f"{name}_low3_{i}", bn)
    low = residual(low, curr, 1, f"{name}_low3_{modules[0] - 1}", bn)
    up2 = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_up2")(low)
    return layers.Add(name=f"{name}_merge")([up1, up2])


@keras.saving.register_keras_serializable(package="eccv20zoo")
class HourglassBackbone(ZooModel):
    """Stacked hourglass on (batch, H, W, 3) inputs.

    Args:
        dims: channels per recursion level; dims[0] is also the stem output width.
        modules: residuals per level (same length as dims).
        num_stacks: 2 for Hourglass-104, 1 for Hourglass-52.
        stem_channels: width of the 7x7 stem conv (128).
        cnv_dim: width of each stack's output conv (256).
        input_shape: (height, width, 3).
        bn_momentum, bn_epsilon: BatchNorm (PyTorch momentum 0.1 = Keras 0.9, eps 1e-5).
    """

    def __init__(
        self,
        dims: tuple[int, ...] = HG104_DIMS,
        modules: tuple[int, ...] = HG104_MODULES,
        num_stacks: int = 2,
        stem_channels: int = 128,
        cnv_dim: int = 256,
        input_shape: tuple[int | None, int | None, int] = (None, None, 3),
        bn_momentum: float = 0.9,
        bn_epsilon: float = 1e-5,
        **kwargs,
    ):
        if len(dims) != len(modules) or len(dims) < 2:
            raise ValueError(f"HourglassBackbone: dims {dims} and modules {modules} need the same length >= 2")
        bn = {"momentum": bn_momentum, "epsilon": bn_epsilon}
        inputs = keras.Input(shape=tuple(input_shape), name="images")
        x = conv_bn_relu(inputs, stem_channels, 7, 2, "stem", bn)
        inter = residual(x, dims[0], 2, "stem_res", bn)
        outputs = {}
        for s in range(num_stacks):
            kp = hourglass_module(inter, tuple(dims), tuple(modules), f"hg{s}", bn)
            cnv = conv_bn_relu(kp, cnv_dim, 3, 1, f"cnv{s}", bn)
            outputs["P2" if s == num_stacks - 1 else f"stack{s}"] = cnv
            if s < num_stacks - 1:
                a = layers.Conv2D(dims[0], 1, use_bias=False, name=f"inter{s}_conv")(inter)
                a = layers.BatchNormalization(name=f"inter{s}_bn", **bn)(a)
                b = layers.Conv2D(dims[0], 1, use_bias=False, name=f"cnv{s}_merge_conv")(cnv)
                b = layers.BatchNormalization(name=f"cnv{s}_merge_bn", **bn)(b)
                inter = layers.ReLU(name=f"inter{s}_relu")(layers.Add(name=f"inter{s}_add")([a, b]))
                inter = residual(inter, dims[0], 1, f"inter{s}_res", bn)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.pyramid_outputs = {"P2": outputs["P2"]}
