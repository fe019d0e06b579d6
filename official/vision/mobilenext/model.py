"""MobileNeXt (Zhou et al., ECCV 2020): the sandglass block and the classifier / detection backbone.

Follows the official PyTorch code (mobilenext/codebase/models/mnext.py), not the paper's figure: the
code's hidden-width rule and its "transition" blocks without the first depthwise conv set the
parameter counts (3,535,416 at width 1.0), and released weights only load into that structure.
PyTorch conventions are kept so that converted weights give the same logits: BatchNorm epsilon 1e-5 and
momentum 0.9 (PyTorch 0.1), stride-2 3x3 convs pad one pixel on every side (Keras' "same" pads the
bottom/right only on even inputs), He-normal fan-out conv init and N(0, 0.01) classifier init.

Input: normalised float images (batch, height, width, 3); output: logits (batch, classes), or with
include_top=False the (batch, height/32, width/32, channels) features (pooled if `pooling` is set).
Imports Keras only (no TensorFlow), so it runs under KERAS_BACKEND=jax.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np
from keras import layers, ops

from official.core.base_model import ZooLayer, ZooModel
from official.layers.divisible import make_divisible

# He-normal over fan-out, N(0, sqrt(2 / (k * k * C_out))) as in the official `_initialize_weights`. Keras'
# fan-out of a depthwise kernel (k, k, C, 1) is k*k, so depthwise convs use fan-in (k * k * C) instead,
# which equals PyTorch's k * k * out_channels for a depthwise conv.
# A fresh instance per layer: an unseeded Keras 3 initializer fixes its seed when constructed, so one
# shared instance would give every same-shaped kernel the same initial values.


def conv_init() -> keras.initializers.Initializer:
    return keras.initializers.VarianceScaling(2.0, mode="fan_out", distribution="untruncated_normal")


def depthwise_init() -> keras.initializers.Initializer:
    return keras.initializers.VarianceScaling(2.0, mode="fan_in", distribution="untruncated_normal")


def dense_init() -> keras.initializers.Initializer:
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.01)


@dataclass(frozen=True)
class SandglassStage:
    """One row of the official `cfgs` table: reduction t, output channels c, repeats n, first stride s."""

    reduction: int
    channels: int
    repeats: int
    stride: int


# Official mnext.py `cfgs` (spec card, stage table); the stem conv (32 channels, stride 2) is separate and
# the 1280-channel block replaces MobileNetV2's last 1x1 conv (no conv before pooling).
STAGES: tuple[SandglassStage, ...] = (
    SandglassStage(2, 96, 1, 2),
    SandglassStage(6, 144, 1, 1),
    SandglassStage(6, 192, 3, 2),
    SandglassStage(6, 288, 3, 2),
    SandglassStage(6, 384, 4, 1),
    SandglassStage(6, 576, 4, 2),
    SandglassStage(6, 960, 3, 1),
    SandglassStage(6, 1280, 1, 1),
)


@dataclass(frozen=True)
class BlockPlan:
    """The resolved shape of one sandglass block, derived from a stage row and the width multiplier."""

    in_channels: int
    filters: int
    hidden_filters: int
    strides: int
    first_depthwise: bool
    last_depthwise: bool
    residual: bool


def hidden_width(in_channels: int, out_channels: int, reduction: int) -> int:
    """Bottleneck width of the official code: in // t, raised to ceil(out / 6) rounded to 16 if smaller."""
    hidden = in_channels // reduction
    if hidden < out_channels / 6.0:
        hidden = make_divisible(math.ceil(out_channels / 6.0), 16)
    return hidden


def stem_width(width: float) -> int:
    return make_divisible(32 * width, 4 if width == 0.1 else 8)


def stage_width(channels: int, width: float) -> int:
    """Stage output channels; the 1280 stage keeps 1280 below width 1.0 (official code)."""
    if channels == 1280 and width < 1.0:
        return 1280
    return make_divisible(channels * width, 4 if width == 0.1 else 8)


def block_plan(width: float = 1.0, stages: tuple[SandglassStage, ...] = STAGES) -> list[BlockPlan]:
    """Every sandglass block of the network, with the official code's block kinds:

    - t == 2 (the first stage): full block (dw, pw, pw, dw) whose last depthwise carries the stride;
    - the first block of a stage with n == 1 and s == 1 (144, 1280): full block, no shortcut;
    - in != out otherwise (the first block of the other stages): "transition" block without the first
      depthwise; stride 2 keeps the last depthwise (stride 2), stride 1 drops it too (two 1x1 convs only);
    - in == out: full block with both depthwise convs at stride 1 and the identity shortcut.
    """
    plans = []
    in_channels = stem_width(width)
    for stage in stages:
        out_channels = stage_width(stage.channels, width)
        keep_full = stage.repeats == 1 and stage.stride == 1
        for i in range(stage.repeats):
            stride = stage.stride if i == 0 else 1
            hidden = hidden_width(in_channels, out_channels, stage.reduction)
            if stage.reduction == 2:
                plan = (True, True, False)
            elif in_channels != out_channels and not (keep_full and i == 0):
                plan = (False, stride == 2, False)
            else:
                if stride != 1:
                    raise ValueError(
                        f"width {width}: a {in_channels}->{out_channels} stride-{stride} stage has no block "
                        "kind in the official code (equal widths only repeat at stride 1)"
                    )
                plan = (True, True, not (keep_full and i == 0))
            plans.append(BlockPlan(in_channels, out_channels, hidden, stride, *plan))
            in_channels = out_channels
    return plans


def _bn(name: str, momentum: float, epsilon: float, fused: bool = False) -> layers.BatchNormalization | None:
    """The BatchNorm after a conv, or None in a fused copy (its conv then has the folded bias)."""
    return None if fused else layers.BatchNormalization(momentum=momentum, epsilon=epsilon, name=name)


def _norm(bn: layers.BatchNormalization | None, x, training):
    return x if bn is None else bn(x, training=training)


def fold_batchnorm(conv: layers.Layer, bn: layers.BatchNormalization, target: layers.Layer) -> None:
    """Writes conv followed by inference-mode bn into `target` (same conv with a bias), in float64:
    kernel * gamma / sqrt(var + eps) per output channel, bias beta - mean * gamma / sqrt(var + eps)."""
    kernel = np.asarray(keras.ops.convert_to_numpy(conv.kernel), np.float64)
    gamma, beta, mean, var = (
        np.asarray(keras.ops.convert_to_numpy(v), np.float64)
        for v in (bn.gamma, bn.beta, bn.moving_mean, bn.moving_variance)
    )
    scale = gamma / np.sqrt(var + bn.epsilon)
    if isinstance(conv, layers.DepthwiseConv2D):  # (kh, kw, channels, 1)
        kernel = kernel * scale[None, None, :, None]
    else:  # (kh, kw, in, out)
        kernel = kernel * scale
    bias = beta - mean * scale
    if conv.use_bias:
        bias = bias + scale * np.asarray(keras.ops.convert_to_numpy(conv.bias), np.float64)
    target.kernel.assign(kernel.astype("float32"))
    target.bias.assign(bias.astype("float32"))


@keras.saving.register_keras_serializable(package="eccv20zoo")
class SandglassBlock(ZooLayer):
    """Sandglass block: [dw3x3 BN ReLU6] -> pw1x1 BN (linear) -> pw1x1 BN ReLU6 -> [dw3x3/s BN] (+ x).

    The shortcut joins the wide tensors; nothing follows the addition. With `identity_divisor` d > 1 the
    shortcut only feeds the first C // d channels (the paper's identity tensor multiplier 1/d), written as
    a concat of slices so that XLA and TFLite see plain ops.

    Args:
        filters: output channels N.
        hidden_filters: bottleneck width of the linear 1x1 conv.
        strides: stride of the last depthwise conv (1 or 2).
        first_depthwise: keep the leading depthwise conv (False for transition blocks).
        last_depthwise: keep the trailing depthwise conv (False for stride-1 transition blocks).
        residual: add the identity shortcut (needs input channels == filters and stride 1).
        identity_divisor: the shortcut covers the first C // identity_divisor channels.
        bn_momentum, bn_epsilon: BatchNorm settings (Keras convention).
        fused_bn: no BatchNorm layers; every conv has a bias instead (the inference copy made by
            `MobileNeXt.fuse_batchnorm`).
    """

    def __init__(
        self,
        filters: int,
        hidden_filters: int,
        strides: int = 1,
        first_depthwise: bool = True,
        last_depthwise: bool = True,
        residual: bool = False,
        identity_divisor: int = 1,
        bn_momentum: float = 0.9,
        bn_epsilon: float = 1e-5,
        fused_bn: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if strides not in (1, 2):
            raise ValueError(f"{self.name}: strides must be 1 or 2, got {strides}")
        if strides == 2 and not last_depthwise:
            raise ValueError(f"{self.name}: stride 2 needs the last depthwise conv")
        if residual and strides != 1:
            raise ValueError(f"{self.name}: a residual block must have stride 1")
        if identity_divisor < 1:
            raise ValueError(f"{self.name}: identity_divisor must be >= 1, got {identity_divisor}")
        self.filters = filters
        self.hidden_filters = hidden_filters
        self.strides = strides
        self.first_depthwise = first_depthwise
        self.last_depthwise = last_depthwise
        self.residual = residual
        self.identity_divisor = identity_divisor
        bn = {"momentum": bn_momentum, "epsilon": bn_epsilon, "fused": fused_bn}
        self.dw1 = self.dw1_bn = self.dw2 = self.dw2_bn = None
        if first_depthwise:
            self.dw1 = layers.DepthwiseConv2D(
                3, padding="same", use_bias=fused_bn, depthwise_initializer=depthwise_init(), name="dw1"
            )
            self.dw1_bn = _bn("dw1_bn", **bn)
        self.reduce = layers.Conv2D(
            hidden_filters, 1, use_bias=fused_bn, kernel_initializer=conv_init(), name="reduce"
        )
        self.reduce_bn = _bn("reduce_bn", **bn)
        self.expand = layers.Conv2D(filters, 1, use_bias=fused_bn, kernel_initializer=conv_init(), name="expand")
        self.expand_bn = _bn("expand_bn", **bn)
        if last_depthwise:
            # PyTorch pads 1 on every side; Keras "same" would pad bottom/right only at stride 2.
            self.dw2 = layers.DepthwiseConv2D(
                3,
                strides=strides,
                padding="same" if strides == 1 else "valid",
                use_bias=fused_bn,
                depthwise_initializer=depthwise_init(),
                name="dw2",
            )
            self.dw2_bn = _bn("dw2_bn", **bn)

    def build(self, input_shape):
        channels = input_shape[-1]
        if self.residual and channels != self.filters:
            raise ValueError(f"{self.name}: residual needs {self.filters} input channels, got {channels}")
        shape = tuple(input_shape)
        hidden_shape = shape[:-1] + (self.hidden_filters,)
        out_shape = shape[:-1] + (self.filters,)
        pad = 2 if self.strides == 2 else 0  # the explicit symmetric padding of call()
        for conv, bn, conv_shape, bn_shape in (
            (self.dw1, self.dw1_bn, shape, shape),
            (self.reduce, self.reduce_bn, shape, hidden_shape),
            (self.expand, self.expand_bn, hidden_shape, out_shape),
            (self.dw2, self.dw2_bn, tuple(None if d is None else d + pad for d in out_shape[:-1]) + (self.filters,),
             self.compute_output_shape(input_shape)),
        ):
            if conv is not None:
                conv.build(conv_shape)
                if bn is not None:
                    bn.build(bn_shape)
        self.built = True

    def call(self, inputs, training=None):
        x = inputs
        if self.dw1 is not None:
            x = ops.relu6(_norm(self.dw1_bn, self.dw1(x), training))
        x = _norm(self.reduce_bn, self.reduce(x), training)  # linear bottleneck: no activation
        x = ops.relu6(_norm(self.expand_bn, self.expand(x), training))
        if self.dw2 is not None:
            if self.strides == 2:
                x = ops.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
            x = _norm(self.dw2_bn, self.dw2(x), training)  # no activation after the last depthwise
        if not self.residual:
            return x
        if self.identity_divisor == 1:
            return x + inputs
        k = self.filters // self.identity_divisor
        return ops.concatenate([x[..., :k] + inputs[..., :k], x[..., k:]], axis=-1)

    def compute_output_shape(self, input_shape):
        def down(size):
            return None if size is None else (size - 1) // self.strides + 1

        return (input_shape[0], down(input_shape[1]), down(input_shape[2]), self.filters)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class MobileNeXt(ZooModel):
    """MobileNeXt classifier / backbone (functional graph built in __init__).

    `pyramid_outputs` maps "P2".."P5" to the output of the last block at stride 4, 8, 16 and 32
    (width 1.0, 224 input: block 1 (56x56x144), block 4 (28x28x192), block 11 (14x14x384) and
    block 19 (7x7x1280)); `feature_pyramid()` wraps them as a model for detectors.

    Args:
        width: width multiplier; 1.4, 1.0, 0.75, 0.5 and 0.35 are registered.
        identity_divisor: shortcut on the first C // d channels (1 = full identity, the released model).
        classes: classifier outputs when include_top.
        input_shape: (height, width, 3).
        include_top: global average pool + dropout + Dense(classes) logits.
        pooling: None | "avg" | "max", applied to the features when include_top is False.
        dropout: dropout rate before the classifier (official 0.2).
        bn_momentum: BatchNorm moving-average momentum (Keras convention: 0.9 = PyTorch 0.1).
        bn_epsilon: BatchNorm epsilon (PyTorch's 1e-5, needed for converted weights).
        fused_bn: build without BatchNorm layers, every conv with a bias: the inference copy that
            `fuse_batchnorm()` fills (not for training).
    """

    def __init__(
        self,
        width: float = 1.0,
        identity_divisor: int = 1,
        classes: int = 1000,
        input_shape: tuple[int, int, int] = (224, 224, 3),
        include_top: bool = True,
        pooling: str | None = None,
        dropout: float = 0.2,
        bn_momentum: float = 0.9,
        bn_epsilon: float = 1e-5,
        fused_bn: bool = False,
        **kwargs,
    ):
        if pooling not in (None, "avg", "max"):
            raise ValueError(f"pooling must be None, 'avg' or 'max', got {pooling!r}")
        bn = {"momentum": bn_momentum, "epsilon": bn_epsilon}
        inputs = keras.Input(shape=tuple(input_shape), name="images")
        x = layers.ZeroPadding2D(1, name="stem_pad")(inputs)
        x = layers.Conv2D(
            stem_width(width), 3, strides=2, use_bias=fused_bn, kernel_initializer=conv_init(), name="stem_conv"
        )(x)
        if not fused_bn:
            x = _bn("stem_bn", **bn)(x)
        x = layers.ReLU(6.0, name="stem_relu")(x)
        stride, pyramid = 2, {}
        for i, plan in enumerate(block_plan(width)):
            x = SandglassBlock(
                plan.filters,
                plan.hidden_filters,
                strides=plan.strides,
                first_depthwise=plan.first_depthwise,
                last_depthwise=plan.last_depthwise,
                residual=plan.residual,
                identity_divisor=identity_divisor,
                name=f"block{i}",
                fused_bn=fused_bn,
                **{f"bn_{k}": v for k, v in bn.items()},
            )(x)
            stride *= plan.strides
            pyramid[f"P{int(math.log2(stride))}"] = x  # the last block at each stride wins
        if include_top:
            x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
            if dropout > 0:
                x = layers.Dropout(dropout, name="dropout")(x)
            x = layers.Dense(
                classes,
                kernel_initializer=dense_init(),
                bias_initializer="zeros",
                dtype="float32",
                name="logits",
            )(x)
        elif pooling == "avg":
            x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        elif pooling == "max":
            x = layers.GlobalMaxPooling2D(name="max_pool")(x)
        super().__init__(inputs=inputs, outputs=x, **kwargs)
        self.pyramid_outputs = {k: pyramid[k] for k in ("P2", "P3", "P4", "P5") if k in pyramid}

    @property
    def blocks(self) -> list[SandglassBlock]:
        """The sandglass blocks in order (20 for the official table)."""
        return [layer for layer in self.layers if isinstance(layer, SandglassBlock)]

    def fuse_batchnorm(self) -> MobileNeXt:
        """An inference copy with every BatchNorm folded into the conv before it (`fused_bn=True`).

        The same function in exact arithmetic (float32: logits within ~1e-5 of this model's); on a GPU
        the conv + bias + activation can then run as one fused kernel where conv, BN and activation were
        separate passes over memory. Dropout is inactive at inference, so the copy is for inference only.
        """
        if self.constructor_args["fused_bn"]:
            return self
        args = dict(self.constructor_args, fused_bn=True)
        fused = type(self)(**args, name=f"{self.name}_fused")
        fold_batchnorm(self.get_layer("stem_conv"), self.get_layer("stem_bn"), fused.get_layer("stem_conv"))
        for block, target in zip(self.blocks, fused.blocks, strict=True):
            for conv in ("dw1", "reduce", "expand", "dw2"):
                if getattr(block, conv) is not None:
                    fold_batchnorm(getattr(block, conv), getattr(block, f"{conv}_bn"), getattr(target, conv))
        for layer in self.layers:  # the classifier, whatever else carries weights outside the blocks
            if layer.weights and not isinstance(layer, (SandglassBlock, layers.BatchNormalization)) \
                    and layer.name != "stem_conv":
                fused.get_layer(layer.name).set_weights(layer.get_weights())
        return fused

    def feature_pyramid(self) -> keras.Model:
        """A model sharing these weights whose outputs are {"P2": stride 4, ..., "P5": stride 32}."""
        return keras.Model(self.input, dict(self.pyramid_outputs), name=f"{self.name}_pyramid")
