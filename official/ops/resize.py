"""Bilinear resizing with PyTorch's `F.interpolate(mode="bilinear", align_corners=True)` semantics.

TF2's `tf.image.resize` has no `align_corners` (only the TF1 `resize_bilinear` op had it), and
`keras.ops.image.resize` follows the half-pixel convention, so models converted from PyTorch code that
upsamples with align_corners=True (MSPN, RSN, ...) need this op. With align_corners the corner pixels
of input and output coincide: output index o of n_out samples the input at
    src = o * (n_in - 1) / (n_out - 1)          (src = 0 when n_out == 1)
and blends rows floor(src) and min(floor(src) + 1, n_in - 1) with weights (1 - frac, frac), as ATen's
`upsample_bilinear2d` does (separably: rows first, then columns; bilinear interpolation is separable,
so the order does not change the result beyond rounding).

Implemented as two gathers (`ops.take`) and a lerp per axis with index/weight constants computed from the
static sizes, so TF graphs (GatherV2, Mul, AddV2: stock ops for TF Serving and TFLite), XLA and JAX all
run it. Channels-last, (batch, height, width, channels). The spatial sizes of `x` must be static.
"""

from __future__ import annotations

import numpy as np
from keras import ops


def align_corners_taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(low index, high index, high weight) of each of the n_out samples along one axis.

    Float64 arithmetic, cast to float32 weights at the end; PyTorch computes the same source
    coordinate in float32, so weights agree to ~1e-7.
    """
    if n_in < 1 or n_out < 1:
        raise ValueError(f"resize_bilinear_align_corners: sizes must be >= 1, got {n_in} -> {n_out}")
    scale = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    src = np.arange(n_out, dtype=np.float64) * scale
    low = np.minimum(np.floor(src).astype(np.int32), n_in - 1)
    high = np.minimum(low + 1, n_in - 1).astype(np.int32)
    frac = (src - low).astype(np.float32)
    return low, high, frac


def _resize_axis(x, axis: int, n_out: int):
    n_in = int(x.shape[axis])
    if n_in == n_out:
        return x  # align_corners with equal sizes samples every pixel exactly: the identity
    low, high, frac = align_corners_taps(n_in, n_out)
    weight_shape = [1] * len(x.shape)
    weight_shape[axis] = n_out
    frac = ops.cast(np.reshape(frac, weight_shape), x.dtype)
    a = ops.take(x, low, axis=axis)
    if n_in == 1:
        return a
    b = ops.take(x, high, axis=axis)
    return a + (b - a) * frac


def resize_bilinear_align_corners(x, size: tuple[int, int]):
    """Resizes (batch, height, width, channels) `x` to (batch, size[0], size[1], channels).

    Equals `torch.nn.functional.interpolate(x_nchw, size, mode="bilinear", align_corners=True)`
    (transposed to channels-last) to float32 rounding. `x`'s height and width must be static.
    """
    height, width = int(size[0]), int(size[1])
    if len(x.shape) != 4:
        raise ValueError(f"resize_bilinear_align_corners: expected (batch, height, width, channels), got {x.shape}")
    if x.shape[1] is None or x.shape[2] is None:
        raise ValueError(f"resize_bilinear_align_corners: spatial sizes must be static, got {x.shape}")
    x = _resize_axis(x, 1, height)
    return _resize_axis(x, 2, width)


def _upsample_axis(x, axis: int, factor: int):
    """Half-pixel bilinear upsampling by an integer factor along `axis`, for static or dynamic sizes."""
    n = ops.shape(x)[axis]
    first = ops.take(x, ops.zeros((1,), "int32"), axis=axis)
    last = ops.take(x, ops.reshape(n - 1, (1,)), axis=axis)
    prev = ops.concatenate([first, ops.take(x, ops.arange(0, n - 1), axis=axis)], axis=axis)
    nxt = ops.concatenate([ops.take(x, ops.arange(1, n), axis=axis), last], axis=axis)
    phases = []
    for k in range(factor):
        offset = (k + 0.5) / factor - 0.5  # source offset of output phase k from input pixel i
        neighbour = prev if offset < 0 else nxt
        phases.append(x + (neighbour - x) * abs(offset))
    y = ops.stack(phases, axis=axis + 1)  # (..., n, factor, ...)
    shape = list(ops.shape(x))
    shape[axis] = n * factor
    return ops.reshape(y, shape)


def upsample_bilinear(x, factor: int):
    """(batch, H, W, C) -> (batch, factor H, factor W, C), bilinear with half-pixel centres: PyTorch's
    `F.interpolate(scale_factor=factor, mode="bilinear", align_corners=False)` and `tf.image.resize`. Unlike
    `keras.layers.UpSampling2D`, it traces with unknown spatial sizes (one graph for every frame size)."""
    if factor == 1:
        return x
    return _upsample_axis(_upsample_axis(x, 1, factor), 2, factor)
