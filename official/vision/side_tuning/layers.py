"""Side-Tuning's building blocks: the FCN4 side network and the merge operators.

FCN4 (the official iCIFAR side, `tlkit` FCN4 with bias-free convs): 3->16 k3 s1 p1, 16->16 k3 s2,
16->32 k3 s2, 32->64 k3 s1 (no padding after the first), GroupNorm(2) + ReLU after the first three,
ReLU after the last; 32x32 -> (5, 5, 64) -> global average pool -> 64. 25,904 parameters.
Merges: `AlphaBlend` is alpha * base + (1 - alpha) * side with alpha = sigmoid(a), a learned scalar
starting at 0 (alpha 0.5) or held fixed; `DenseBlend` is the lifelong variant, a softmax over one logit
per input (base, earlier sides, current side) giving a convex combination.
"""

from __future__ import annotations

import math

import keras
from keras import layers, ops


def fcn4(inputs, name: str = "fcn4"):
    """The FCN4 side network on (batch, 32, 32, 3) -> pooled (batch, 64)."""
    specs = ((16, 1, "same"), (16, 2, "valid"), (32, 2, "valid"), (64, 1, "valid"))
    x = inputs
    for i, (filters, stride, padding) in enumerate(specs):
        x = layers.Conv2D(filters, 3, strides=stride, padding=padding, use_bias=False, name=f"{name}_conv{i + 1}")(x)
        if i < 3:
            x = layers.GroupNormalization(groups=2, epsilon=1e-5, name=f"{name}_gn{i + 1}")(x)
        x = layers.ReLU(name=f"{name}_relu{i + 1}")(x)
    return layers.GlobalAveragePooling2D(name=f"{name}_pool")(x)


def logit(alpha: float) -> float:
    """The blend logit a with sigmoid(a) = alpha (alpha of exactly 0 or 1 maps to -/+ 30)."""
    alpha = min(max(alpha, 1e-13), 1.0 - 1e-13)
    return math.log(alpha / (1.0 - alpha))


@keras.saving.register_keras_serializable(package="eccv20zoo")
class AlphaBlend(layers.Layer):
    """alpha * base + (1 - alpha) * side, alpha = sigmoid(a); `trainable_alpha=False` holds a fixed."""

    def __init__(self, initial_alpha: float = 0.5, trainable_alpha: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.initial_alpha = float(initial_alpha)
        self.trainable_alpha = bool(trainable_alpha)
        self.a = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(logit(self.initial_alpha)),
            trainable=self.trainable_alpha, name="alpha_logit",
        )

    def alpha(self):
        return ops.sigmoid(self.a)

    def call(self, inputs):
        base, side = inputs
        alpha = ops.cast(self.alpha(), base.dtype)
        if not self.trainable_alpha and self.initial_alpha in (0.0, 1.0):
            return base if self.initial_alpha == 1.0 else side  # exactly the one network
        return alpha * base + (1.0 - alpha) * side

    def get_config(self):
        return {**super().get_config(), "initial_alpha": self.initial_alpha, "trainable_alpha": self.trainable_alpha}


@keras.saving.register_keras_serializable(package="eccv20zoo")
class DenseBlend(layers.Layer):
    """sum_i w_i x_i with w = softmax(logits), one learned logit per input (all 0 at the start)."""

    def build(self, input_shape):
        self.logits = self.add_weight(shape=(len(input_shape),), initializer="zeros", name="merge_logits")

    def weights_softmax(self):
        return ops.softmax(self.logits)

    def call(self, inputs):
        w = ops.cast(self.weights_softmax(), inputs[0].dtype)
        return sum(w[i] * x for i, x in enumerate(inputs))
