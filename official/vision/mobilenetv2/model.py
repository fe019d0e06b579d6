"""MobileNetV2 (Sandler et al., CVPR 2018) as a Keras functional-subclass model.

The zoo's first model, the reference for how a model folder looks. Layer widths follow
keras.applications.MobileNetV2 (3,538,984 parameters at width 1.0 with 1000 classes); BatchNorm momentum
defaults to 0.9 (PyTorch's 0.1) because keras.applications' 0.999 leaves the eval statistics unsettled on
short runs (measured on digits: chance-level val top-1 after 10 epochs with 0.999, 93.6% with 0.9).
Input: normalised float images (batch, height, width, 3); output: logits (batch, classes).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers

from official.core.base_model import ZooModel
from official.layers.divisible import make_divisible


@dataclass(frozen=True)
class InvertedResidualStage:
    """One row of the paper's Table 2: expansion t, output channels c, repeats n, first stride s."""

    expansion: int
    channels: int
    repeats: int
    stride: int


# Sandler et al., Table 2 (the stem conv and the final 1x1 conv are built separately).
STAGES: tuple[InvertedResidualStage, ...] = (
    InvertedResidualStage(1, 16, 1, 1),
    InvertedResidualStage(6, 24, 2, 2),
    InvertedResidualStage(6, 32, 3, 2),
    InvertedResidualStage(6, 64, 4, 2),
    InvertedResidualStage(6, 96, 3, 1),
    InvertedResidualStage(6, 160, 3, 2),
    InvertedResidualStage(6, 320, 1, 1),
)


def _bn(name: str, momentum: float, epsilon: float) -> layers.Layer:
    return layers.BatchNormalization(momentum=momentum, epsilon=epsilon, name=name)


def inverted_residual(x, expansion: int, out_channels: int, stride: int, name: str, bn: dict):
    """expand 1x1 (ReLU6) -> depthwise 3x3 (ReLU6) -> linear project 1x1, identity add when shapes match."""
    in_channels = x.shape[-1]
    y = x
    if expansion != 1:
        y = layers.Conv2D(in_channels * expansion, 1, use_bias=False, name=f"{name}_expand")(y)
        y = _bn(f"{name}_expand_bn", **bn)(y)
        y = layers.ReLU(6.0, name=f"{name}_expand_relu")(y)
    y = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=f"{name}_depthwise")(y)
    y = _bn(f"{name}_depthwise_bn", **bn)(y)
    y = layers.ReLU(6.0, name=f"{name}_depthwise_relu")(y)
    y = layers.Conv2D(out_channels, 1, use_bias=False, name=f"{name}_project")(y)
    y = _bn(f"{name}_project_bn", **bn)(y)
    if stride == 1 and in_channels == out_channels:
        y = layers.Add(name=f"{name}_add")([x, y])
    return y


@keras.saving.register_keras_serializable(package="eccv20zoo")
class MobileNetV2(ZooModel):
    """MobileNetV2 classifier / backbone.

    Args:
        width: width multiplier (alpha); 1.0 and 0.35 are registered.
        classes: classifier outputs when include_top.
        input_shape: (height, width, 3).
        include_top: add pooling + dropout + Dense(classes) logits.
        pooling: "avg" | "max" | None, applied when include_top is False.
        dropout: dropout rate before the classifier.
        bn_momentum: BatchNorm moving-average momentum (Keras convention: 0.9 = PyTorch 0.1).
        bn_epsilon: BatchNorm epsilon (keras.applications uses 1e-3).
    """

    def __init__(
        self,
        width: float = 1.0,
        classes: int = 1000,
        input_shape: tuple[int, int, int] = (224, 224, 3),
        include_top: bool = True,
        pooling: str | None = "avg",
        dropout: float = 0.0,
        bn_momentum: float = 0.9,
        bn_epsilon: float = 1e-3,
        **kwargs,
    ):
        bn = {"momentum": bn_momentum, "epsilon": bn_epsilon}
        inputs = keras.Input(shape=tuple(input_shape), name="images")
        x = layers.Conv2D(make_divisible(32 * width), 3, strides=2, padding="same", use_bias=False, name="stem_conv")(
            inputs
        )
        x = _bn("stem_bn", **bn)(x)
        x = layers.ReLU(6.0, name="stem_relu")(x)
        block = 0
        for stage in STAGES:
            out_channels = make_divisible(int(stage.channels * width))
            for i in range(stage.repeats):
                stride = stage.stride if i == 0 else 1
                x = inverted_residual(x, stage.expansion, out_channels, stride, f"block{block}", bn)
                block += 1
        last = make_divisible(1280 * width) if width > 1.0 else 1280
        x = layers.Conv2D(last, 1, use_bias=False, name="head_conv")(x)
        x = _bn("head_bn", **bn)(x)
        x = layers.ReLU(6.0, name="head_relu")(x)
        if include_top:
            x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
            if dropout > 0:
                x = layers.Dropout(dropout, name="dropout")(x)
            x = layers.Dense(classes, name="logits", dtype="float32")(x)
        elif pooling == "avg":
            x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        elif pooling == "max":
            x = layers.GlobalMaxPooling2D(name="max_pool")(x)
        super().__init__(inputs=inputs, outputs=x, **kwargs)
