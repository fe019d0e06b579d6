"""Candidate operations of the search space and the DARTS mixed operation (keras.ops only).

The ops follow DARTS (Liu et al. 2019, quark0/darts `operations.py`; facts, not code): separable convs
are two stacked ReLU -> depthwise -> pointwise -> BN units, dilated convs one ReLU -> depthwise (dilation
2) -> pointwise -> BN unit, a strided skip is a factorized reduce (two offset 1x1/2 convs, concatenated),
`zero` outputs zeros. BatchNorm has no affine parameters during the search (`affine=False`), as DARTS.
Keras refuses a conv with both a stride and a dilation, so a strided dilated conv runs at stride 1 and
keeps every second row and column (PyTorch's symmetric padding gives the same samples).

`MixedOp` is the continuous relaxation of one edge: sum_k w_k * op_k(x) with w = softmax(alpha) given
by the caller. `zero` contributes nothing, so a one-hot w reproduces op k exactly.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import BuiltByFirstCall, ZooLayer
from research.three_d.partaware_pose.genotypes import PRIMITIVES, check_primitives

BN = {"momentum": 0.9, "epsilon": 1e-5}  # PyTorch BatchNorm2d defaults (momentum 0.1)


def batch_norm(affine: bool, name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(center=affine, scale=affine, name=name, **BN)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ReLUConvBN(BuiltByFirstCall, ZooLayer):
    """ReLU -> k x k conv (no bias) -> BN: the cells' input preprocessing (k = 1)."""

    def __init__(self, channels: int, kernel: int = 1, stride: int = 1, affine: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.conv = layers.Conv2D(channels, kernel, stride, padding="same", use_bias=False, name="conv")
        self.bn = batch_norm(affine, "bn")

    def call(self, x, training=None):
        return self.bn(self.conv(ops.relu(x)), training=training)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class SepConv(BuiltByFirstCall, ZooLayer):
    """DARTS SepConv: (ReLU, depthwise k x k / stride, pointwise, BN) then the same at stride 1."""

    def __init__(self, channels: int, kernel: int, stride: int = 1, affine: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.dw1 = layers.DepthwiseConv2D(kernel, stride, padding="same", use_bias=False, name="dw1")
        self.pw1 = layers.Conv2D(channels, 1, use_bias=False, name="pw1")
        self.bn1 = batch_norm(affine, "bn1")
        self.dw2 = layers.DepthwiseConv2D(kernel, 1, padding="same", use_bias=False, name="dw2")
        self.pw2 = layers.Conv2D(channels, 1, use_bias=False, name="pw2")
        self.bn2 = batch_norm(affine, "bn2")

    def call(self, x, training=None):
        x = self.bn1(self.pw1(self.dw1(ops.relu(x))), training=training)
        return self.bn2(self.pw2(self.dw2(ops.relu(x))), training=training)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class DilConv(BuiltByFirstCall, ZooLayer):
    """DARTS DilConv: ReLU, depthwise k x k with dilation 2, pointwise, BN (stride: every 2nd pixel)."""

    def __init__(self, channels: int, kernel: int, stride: int = 1, affine: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.stride = stride
        self.dw = layers.DepthwiseConv2D(kernel, 1, padding="same", dilation_rate=2, use_bias=False, name="dw")
        self.pw = layers.Conv2D(channels, 1, use_bias=False, name="pw")
        self.bn = batch_norm(affine, "bn")

    def call(self, x, training=None):
        x = self.dw(ops.relu(x))
        if self.stride > 1:
            x = x[:, :: self.stride, :: self.stride, :]
        return self.bn(self.pw(x), training=training)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class FactorizedReduce(BuiltByFirstCall, ZooLayer):
    """ReLU, two 1x1/2 convs (on x and on x shifted by one pixel) to channels/2 each, concat, BN."""

    def __init__(self, channels: int, affine: bool = True, **kwargs):
        super().__init__(**kwargs)
        if channels % 2:
            raise ValueError(f"FactorizedReduce: channels must be even, got {channels}")
        self.conv1 = layers.Conv2D(channels // 2, 1, 2, use_bias=False, name="conv1")
        self.conv2 = layers.Conv2D(channels // 2, 1, 2, use_bias=False, name="conv2")
        self.bn = batch_norm(affine, "bn")

    def call(self, x, training=None):
        x = ops.relu(x)
        shifted = ops.pad(x[:, 1:, 1:, :], [[0, 0], [0, 1], [0, 1], [0, 0]])
        return self.bn(ops.concatenate([self.conv1(x), self.conv2(shifted)], axis=-1), training=training)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class Pool(BuiltByFirstCall, ZooLayer):
    """3x3 max or average pool ('same'; the average excludes padding, as count_include_pad=False)."""

    def __init__(self, kind: str, stride: int = 1, **kwargs):
        super().__init__(**kwargs)
        cls = layers.MaxPooling2D if kind == "max" else layers.AveragePooling2D
        self.pool = cls(3, stride, padding="same", name="pool")

    def call(self, x, training=None):
        return self.pool(x)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class Identity(ZooLayer):
    def call(self, x, training=None):
        return x


def candidate_op(op: str, channels: int, stride: int, affine: bool, name: str) -> keras.layers.Layer:
    """The layer of candidate `op` (not `zero`) mapping channels -> channels at `stride`."""
    if op == "skip_connect":
        return Identity(name=name) if stride == 1 else FactorizedReduce(channels, affine, name=name)
    if op in ("max_pool_3x3", "avg_pool_3x3"):
        return Pool(op[:3], stride, name=name)
    if op.startswith("sep_conv_"):
        return SepConv(channels, int(op[-1]), stride, affine, name=name)
    if op.startswith("dil_conv_"):
        return DilConv(channels, int(op[-1]), stride, affine, name=name)
    raise ValueError(f"candidate_op: unknown op {op!r} (choices: {', '.join(PRIMITIVES[1:])})")


@keras.saving.register_keras_serializable(package="eccv20zoo")
class MixedOp(BuiltByFirstCall, ZooLayer):
    """One search edge: sum over the candidate ops of w_k * op_k(x); w (len(primitives),) comes from the caller."""

    def __init__(self, channels: int, stride: int = 1, affine: bool = False, primitives: tuple = PRIMITIVES,
                 **kwargs):
        super().__init__(**kwargs)
        ops_ = check_primitives(primitives)[1:]
        self.candidates = [candidate_op(op, channels, stride, affine, name=op) for op in ops_]

    def call(self, x, weights, training=None):
        out = None
        for k, op in enumerate(self.candidates, start=1):  # k = 0 is `zero`: it adds nothing
            term = weights[k] * op(x, training=training)
            out = term if out is None else out + term
        return out
