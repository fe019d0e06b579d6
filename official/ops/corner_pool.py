"""Directional corner pooling (CornerNet / CPN) as log2 doubling steps of shift-and-maximum.

TopPool(x)[i] = max(x[i:]) along the height axis: every location sees the maximum of everything
below it, so a top-left corner, which usually lies outside the object, still sees the object's top
boundary. Left/Bottom/Right are the analogues. The official code uses custom CUDA kernels; here each
pool is ceil(log2(n)) rounds of `y = max(y, shift(y, 2^k))`, plain slices + concat + maximum, which
XLA and TFLite compile as they are. The shift pads with the element itself (max(y, y) = y), so no
-inf constant is needed and the result equals a reverse cumulative max exactly.
On TensorFlow `corner_pool` runs the C++ kernel of official/ops/kernels where `official.ops.native`
allows it (CPU, no XLA, not exporting); `composite_corner_pool` is the keras.ops form everywhere else.
Both give the same values and, on TensorFlow, the same gradient: each output's gradient goes to the
nearest index attaining its max (tf.maximum sends ties to its first argument, the nearer window half).
JAX's maximum splits a tie's gradient equally instead, so with ties JAX gradients differ.
Layout: channels-last (batch, height, width, channels).
"""

from __future__ import annotations

import math

import keras
from keras import ops

from official.ops import native

DIRECTIONS = ("top", "bottom", "left", "right")

# direction -> (axis of an NHWC tensor, True when the max runs towards higher indices)
_AXIS = {"top": (1, True), "bottom": (1, False), "left": (2, True), "right": (2, False)}


def _slice(x, axis: int, start: int, stop: int):
    index = [slice(None)] * len(x.shape)
    index[axis] = slice(start, stop)
    return x[tuple(index)]


def corner_pool(x, direction: str):
    """Cumulative max of `x` (batch, height, width, channels) in one direction.

    top:    out[:, i] = max(x[:, i:])   (max over the rows at and below i)
    bottom: out[:, i] = max(x[:, :i+1]) (rows at and above i)
    left:   out[:, :, j] = max(x[:, :, j:])   (columns at and right of j)
    right:  out[:, :, j] = max(x[:, :, :j+1]) (columns at and left of j)
    """
    if direction not in _AXIS:
        raise ValueError(f"corner_pool: direction must be one of {DIRECTIONS}, got {direction!r}")
    if native.kernel_applies(x):
        return native.corner_pool(x, direction)
    return composite_corner_pool(x, direction)


def composite_corner_pool(x, direction: str):
    """`corner_pool` as log2(n) rounds of shift-and-maximum in keras.ops (any backend, XLA, TFLite)."""
    if direction not in _AXIS:
        raise ValueError(f"corner_pool: direction must be one of {DIRECTIONS}, got {direction!r}")
    axis, forward = _AXIS[direction]
    n = x.shape[axis]
    if n is None:
        raise ValueError(f"corner_pool: axis {axis} of {tuple(x.shape)} must have a static size")
    y = x
    for k in range(math.ceil(math.log2(n)) if n > 1 else 0):
        s = 1 << k
        if forward:  # y[i] <- max(y[i], y[i+s]); the last s rows compare with themselves
            shifted = ops.concatenate([_slice(y, axis, s, n), _slice(y, axis, n - s, n)], axis=axis)
        else:  # y[i] <- max(y[i], y[i-s]); the first s rows compare with themselves
            shifted = ops.concatenate([_slice(y, axis, 0, s), _slice(y, axis, 0, n - s)], axis=axis)
        y = ops.maximum(y, shifted)
    return y


@keras.saving.register_keras_serializable(package="eccv20zoo")
class CornerPool(keras.layers.Layer):
    """`corner_pool` as a layer (no weights)."""

    def __init__(self, direction: str, **kwargs):
        super().__init__(**kwargs)
        if direction not in _AXIS:
            raise ValueError(f"CornerPool: direction must be one of {DIRECTIONS}, got {direction!r}")
        self.direction = direction

    def call(self, x):
        return corner_pool(x, self.direction)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "direction": self.direction}
