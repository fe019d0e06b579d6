"""RSN building blocks as functional helpers: stem, Residual Steps Block, down/upsample modules, PRM.

Facts from the authors' code (caiyuanhao1998/RSN exps/RSN18.coco/network.py and exps/4XRSN18.coco/
network.py; own code, not a copy):
- every conv is `nn.Conv2d` with its default bias=True, followed by BatchNorm2d (eps 1e-5, momentum 0.1
  -> Keras momentum 0.9) except where noted; the bias counts in the 9,159,072 parameters of RSN-18;
- the stem is conv7x7/2 pad 3 + BN + ReLU and maxpool 3x3/2 pad 1; both use explicit symmetric
  ZeroPadding (Keras "same" pads bottom/right only on even inputs). Zero padding before the max pool
  equals PyTorch's -inf padding because its input is a ReLU output (>= 0);
- stride-2 layers of the downsample module are 1x1 convs (RSB conv1 and the shortcut), pad 0, which
  sample the same pixels in Keras "valid";
- initialisation: convs inside the downsample module (`ResNet_downsample_module`) get Kaiming-normal
  fan-out weights; the stem, upsample and PRM convs keep PyTorch's default U(+-1/sqrt(fan_in)) (weights
  and biases), and every bias keeps that default; BatchNorm gamma 1, beta 0.
Names follow the official module tree loosely (stage, level, block, conv), so a converter can map them.
"""

from __future__ import annotations

import math

import keras
from keras import layers

from official.core.base_model import ZooLayer
from official.ops.resize import resize_bilinear_align_corners

# Residual Steps Block branch width: b = C_in * 26 // 64 (network.py `Bottleneck.branch_ch`; mmpose
# calls 26 `expand_times` and 64 `res_top_channels`). Computed from the block's INPUT width.
BRANCH_EXPAND = 26
BRANCH_BASE = 64


def branch_width(in_channels: int) -> int:
    """Channels of each of the RSB's branches for a block whose input has `in_channels` channels."""
    return in_channels * BRANCH_EXPAND // BRANCH_BASE


def kaiming_fan_out() -> keras.initializers.Initializer:
    """`nn.init.kaiming_normal_(mode="fan_out", nonlinearity="relu")`: N(0, 2 / (k * k * C_out))."""
    return keras.initializers.VarianceScaling(2.0, mode="fan_out", distribution="untruncated_normal")


def torch_default(fan_in: int) -> keras.initializers.Initializer:
    """PyTorch's default conv weight and bias init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1.0 / math.sqrt(fan_in)
    return keras.initializers.RandomUniform(-bound, bound)


def conv_bn(
    x,
    filters: int,
    kernel: int,
    name: str,
    bn: dict,
    strides: int = 1,
    relu: bool = True,
    kaiming: bool = False,
    use_bn: bool = True,
):
    """`conv_bn_relu` of the official code: Conv2d (bias, PyTorch padding k // 2) [+ BN] [+ ReLU]."""
    fan_in = int(x.shape[-1]) * kernel * kernel
    if kernel > 1 and strides > 1:  # PyTorch pads k // 2 on every side
        x = layers.ZeroPadding2D(kernel // 2, name=f"{name}_pad")(x)
        padding = "valid"
    else:
        padding = "same"
    x = layers.Conv2D(
        filters,
        kernel,
        strides=strides,
        padding=padding,
        kernel_initializer=kaiming_fan_out() if kaiming else torch_default(fan_in),
        bias_initializer=torch_default(fan_in),
        name=f"{name}_conv",
    )(x)
    if use_bn:
        x = layers.BatchNormalization(name=f"{name}_bn", **bn)(x)
    return layers.ReLU(name=f"{name}_relu")(x) if relu else x


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ChannelSplit(ZooLayer):
    """Splits (..., splits * width) into `splits` tensors of (..., width) (torch.split on channels)."""

    def __init__(self, splits: int, **kwargs):
        super().__init__(**kwargs)
        self.splits = splits

    def call(self, x):
        width = x.shape[-1] // self.splits
        return [x[..., i * width : (i + 1) * width] for i in range(self.splits)]

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape[:-1]) + (input_shape[-1] // self.splits,)
        return [shape] * self.splits


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ResizeAlignCorners(ZooLayer):
    """Bilinear resize to a fixed (height, width) with align_corners=True (official/ops/resize.py)."""

    def __init__(self, size: tuple[int, int], **kwargs):
        super().__init__(**kwargs)
        self.size = (int(size[0]), int(size[1]))

    def call(self, x):
        return resize_bilinear_align_corners(x, self.size)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.size, input_shape[-1])


def residual_steps_block(x, filters: int, strides: int, name: str, bn: dict, num_steps: int = 4):
    """Residual Steps Block (code class `Bottleneck`, expansion 1), (B, H, W, C_in) -> (B, H/s, W/s, filters).

    b = branch_width(C_in); 1x1 conv (stride s) C_in -> num_steps * b + BN + ReLU, split into x_1..x_n.
    Branch i (1-based) applies i conv3x3 b->b + BN + ReLU; intra-level aggregation: the input of step j
    of branch i is (x_i if j == 1 else y_{i,j-1}) + (y_{i-1,j} if i > j else nothing), i.e.
    y11 = f(x1); y21 = f(x2 + y11), y22 = f(y21); y31 = f(x3 + y21), y32 = f(y31 + y22), y33 = f(y32); ...
    concat(y_11, y_22, ..., y_nn) -> 1x1 conv -> filters + BN (no ReLU); + shortcut (identity, or
    1x1 conv stride s + BN when the shape changes); ReLU.
    """
    in_channels = int(x.shape[-1])
    b = branch_width(in_channels)
    if b < 1:
        raise ValueError(f"{name}: input width {in_channels} gives branch width {b} (C_in * 26 // 64 < 1)")
    y = conv_bn(x, num_steps * b, 1, f"{name}_conv1", bn, strides=strides, kaiming=True)
    parts = ChannelSplit(num_steps, name=f"{name}_split")(y)
    steps: list[list] = []
    for i in range(num_steps):
        branch = []
        for j in range(i + 1):
            inp = parts[i] if j == 0 else branch[j - 1]
            if i > j:
                inp = layers.Add(name=f"{name}_sum{i + 1}_{j + 1}")([inp, steps[i - 1][j]])
            branch.append(conv_bn(inp, b, 3, f"{name}_conv2_{i + 1}_{j + 1}", bn, kaiming=True))
        steps.append(branch)
    y = layers.Concatenate(name=f"{name}_concat")([branch[-1] for branch in steps])
    y = conv_bn(y, filters, 1, f"{name}_conv3", bn, relu=False, kaiming=True)
    shortcut = x
    if strides != 1 or in_channels != filters:
        shortcut = conv_bn(x, filters, 1, f"{name}_down", bn, strides=strides, relu=False, kaiming=True)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.ReLU(name=f"{name}_relu")(y)


def stem(x, filters: int, bn: dict):
    """`ResNet_top`: conv7x7/2 pad 3 + BN + ReLU, maxpool 3x3/2 pad 1: (B, H, W, 3) -> (B, H/4, W/4, filters)."""
    x = conv_bn(x, filters, 7, "stem", bn, strides=2)
    x = layers.ZeroPadding2D(1, name="stem_pool_pad")(x)
    return layers.MaxPooling2D(3, strides=2, name="stem_pool")(x)


def downsample_module(x, widths, blocks, name: str, bn: dict, skip1=None, skip2=None, num_steps: int = 4):
    """`ResNet_downsample_module`: levels fine -> coarse, the first block of each level > 0 at stride 2.

    With the previous stage's skips (lists fine -> coarse) each level's output becomes
    level + skip1[l] + skip2[l] before it feeds the next level (cross-stage aggregation).
    Returns the level features fine -> coarse.
    """
    features = []
    for level, (width, count) in enumerate(zip(widths, blocks, strict=True)):
        for i in range(count):
            strides = 2 if level > 0 and i == 0 else 1
            x = residual_steps_block(x, width, strides, f"{name}_l{level}_b{i}", bn, num_steps)
        if skip1 is not None:
            x = layers.Add(name=f"{name}_l{level}_skips")([x, skip1[level], skip2[level]])
        features.append(x)
    return features


def prediction_head(x, num_keypoints: int, output_size: tuple[int, int], name: str, bn: dict):
    """Per-level heatmap head of `Upsample_unit`: 1x1 conv + BN + ReLU, 3x3 conv -> K + BN, bilinear resize
    (align_corners) to the output size. The resize runs in float32 (heatmaps are the loss's input)."""
    y = conv_bn(x, int(x.shape[-1]), 1, f"{name}_res1", bn)
    y = conv_bn(y, num_keypoints, 3, f"{name}_res2", bn, relu=False)
    return ResizeAlignCorners(output_size, dtype="float32", name=f"{name}_heatmap")(y)


def upsample_module(
    features,
    unit_channels: int,
    num_keypoints: int,
    output_size: tuple[int, int],
    name: str,
    bn: dict,
    gen_skip: bool,
    cross_channels: int | None,
):
    """`Upsample_module`: coarse -> fine over `features` (given fine -> coarse).

    Unit u: out = BN(conv1x1(level)) [+ BN(conv1x1(resize_align_corners(out_{u-1}, level size)))], ReLU;
    a heatmap from `prediction_head(out)`. With gen_skip (every stage but the last): skip1 =
    conv1x1+BN+ReLU(level) (C_l -> C_l) and skip2 = conv1x1+BN+ReLU(out) (unit_channels -> C_l) for the next
    stage; with cross_channels, conv1x1+BN+ReLU(finest out) -> cross_channels is the next stage's input.

    Returns (heatmaps coarse -> fine, skip1 fine -> coarse or None, skip2 likewise, cross or None).
    """
    heatmaps, skip1, skip2 = [], [], []
    out = cross = None
    levels = len(features)
    for u, level in enumerate(reversed(range(levels))):
        x = features[level]
        unit = f"{name}_u{u}"
        lateral = conv_bn(x, unit_channels, 1, f"{unit}_lateral", bn, relu=False)
        if u > 0:
            size = (int(x.shape[1]), int(x.shape[2]))
            up = ResizeAlignCorners(size, name=f"{unit}_upsample")(out)
            up = conv_bn(up, unit_channels, 1, f"{unit}_up", bn, relu=False)
            lateral = layers.Add(name=f"{unit}_add")([lateral, up])
        out = layers.ReLU(name=f"{unit}_relu")(lateral)
        heatmaps.append(prediction_head(out, num_keypoints, output_size, unit, bn))
        if gen_skip:
            skip1.append(conv_bn(x, int(x.shape[-1]), 1, f"{unit}_skip1", bn))
            skip2.append(conv_bn(out, int(x.shape[-1]), 1, f"{unit}_skip2", bn))
        if u == levels - 1 and cross_channels:
            cross = conv_bn(out, cross_channels, 1, f"{name}_cross", bn)
    if not gen_skip:
        return heatmaps, None, None, cross
    return heatmaps, skip1[::-1], skip2[::-1], cross


def pose_refine_machine(x, name: str, bn: dict):
    """Pose Refine Machine (exps/4XRSN18.coco/network.py `PRM`) on K-channel heatmaps (B, H, W, K).

    x' = conv3x3 + BN + ReLU (x); channel attention a_c = sigmoid(conv1x1+BN+ReLU(conv1x1+BN+ReLU(GAP(x'))));
    spatial attention a_s = sigmoid(depthwise9x9+BN+ReLU(conv1x1+BN+ReLU(x'))) (K channels, groups = K);
    output x' * (1 + a_c * a_s). Every conv has a bias (5,100 parameters for K = 17).
    """
    k = int(x.shape[-1])
    x1 = conv_bn(x, k, 3, f"{name}_conv1", bn)
    a_c = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_gap")(x1)
    a_c = conv_bn(a_c, k, 1, f"{name}_channel1", bn)
    a_c = conv_bn(a_c, k, 1, f"{name}_channel2", bn)
    a_c = layers.Activation("sigmoid", name=f"{name}_channel_sigmoid")(a_c)
    a_s = conv_bn(x1, k, 1, f"{name}_spatial1", bn)
    a_s = layers.DepthwiseConv2D(
        9,
        padding="same",
        depthwise_initializer=torch_default(81),
        bias_initializer=torch_default(81),
        name=f"{name}_spatial2_conv",
    )(a_s)
    a_s = layers.BatchNormalization(name=f"{name}_spatial2_bn", **bn)(a_s)
    a_s = layers.ReLU(name=f"{name}_spatial2_relu")(a_s)
    a_s = layers.Activation("sigmoid", name=f"{name}_spatial_sigmoid")(a_s)
    gate = layers.Multiply(name=f"{name}_attention")([a_c, a_s])
    refined = layers.Multiply(name=f"{name}_gate")([x1, gate])
    return layers.Add(name=f"{name}_out")([x1, refined])
