"""Modulated deformable convolution (DCNv2, Zhu et al., CVPR 2019) in keras.ops, channels-last.

Every output pixel p0 and kernel tap k = i * kw + j samples the input at

    p = p0 * stride - padding + (i, j) * dilation + (dy_k, dx_k)

by bilinear interpolation, multiplies the sample by the modulation mask m_k, and the (taps x channels)
samples are contracted with the kernel as in a plain convolution. Semantics follow the DCNv2 CUDA
kernel (`modulated_deformable_im2col_gpu_kernel` / `dmcn_im2col_bilinear`) and
`torchvision.ops.deform_conv2d`: each of the four bilinear corners that lies outside the image
contributes 0 (so a sample at or beyond -1 / size contributes nothing), the offset tensor holds
(dy, dx) pairs per tap, interleaved: channel 2k is dy of tap k, 2k + 1 its dx, one block of 2 * kh * kw
channels per deformable group; the mask holds kh * kw channels per group (already in [0, 1]: the
DCNv2 module applies the sigmoid before the op).

Cost: the op is built from stock gathers (the input is flattened to (B*H*W*G, C/G) rows and four
`take`s read the corners of every (pixel, tap) pair) followed by one (K*C, O) matmul, so it runs on
the TF and JAX backends and exports to a SavedModel without custom kernels. It materialises the
(B, Ho, Wo, kh*kw, C) sampled columns four times over (one per corner), so memory and time are about
kh*kw * 4 times a plain convolution's im2col, and much slower than the fused CUDA kernel. It is not
TFLite friendly: the data-dependent GatherV2 on large tensors runs on the CPU reference kernels and is
not delegated to GPU/NNAPI; for TFLite or speed use a plain 3x3 convolution in its place (the DLA-DCN
neck has an option for that).
"""

from __future__ import annotations

import math

import keras
from keras import ops

from official.core.base_model import ZooLayer


def _pair(value, what: str) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"modulated_deform_conv2d: {what} needs 1 or 2 ints, got {value}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def deform_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """Output length along one axis (PyTorch convolution arithmetic)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def modulated_deform_conv2d(x, offset, mask, kernel, bias=None, stride=1, padding=0, dilation=1):
    """DCNv2 modulated deformable convolution, channels-last.

    Args:
        x: (B, H, W, C) input.
        offset: (B, Ho, Wo, 2 * G * kh * kw) offsets in input pixels, (dy, dx) interleaved per tap,
            one block per deformable group G (G is inferred: offset channels / (2 * kh * kw)).
        mask: (B, Ho, Wo, G * kh * kw) modulation scalars (applied as given; DCNv2 passes sigmoid(.)).
            None means all ones (DCNv1).
        kernel: (kh, kw, C, O) Keras-layout kernel.
        bias: (O,) or None.
        stride, padding, dilation: ints or (h, w) pairs; padding is PyTorch's symmetric zero padding.

    Returns:
        (B, Ho, Wo, O).
    """
    sh, sw = _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    dh, dw = _pair(dilation, "dilation")
    kh, kw, cin, cout = (int(d) for d in kernel.shape)
    taps = kh * kw
    n_off = int(offset.shape[-1])
    if n_off % (2 * taps):
        raise ValueError(f"modulated_deform_conv2d: offset has {n_off} channels, not a multiple of 2*{taps}")
    groups = n_off // (2 * taps)
    if cin % groups:
        raise ValueError(f"modulated_deform_conv2d: {cin} input channels do not split into {groups} groups")
    cg = cin // groups

    shape = ops.shape(x)
    b, h, w = shape[0], shape[1], shape[2]
    oshape = ops.shape(offset)
    ho, wo = oshape[1], oshape[2]

    # Regular grid positions of every (output pixel, tap): (Ho, 1, 1, K) rows and (1, Wo, 1, K) cols.
    ti = ops.convert_to_tensor([(k // kw) * dh for k in range(taps)], dtype="float32")
    tj = ops.convert_to_tensor([(k % kw) * dw for k in range(taps)], dtype="float32")
    base_y = ops.cast(ops.arange(ho) * sh - ph, "float32")[:, None, None, None] + ti[None, None, None, :]
    base_x = ops.cast(ops.arange(wo) * sw - pw, "float32")[None, :, None, None] + tj[None, None, None, :]

    off = ops.reshape(ops.cast(offset, "float32"), (b, ho, wo, groups, taps, 2))
    py = base_y[None] + off[..., 0]  # (B, Ho, Wo, G, K)
    px = base_x[None] + off[..., 1]
    y0 = ops.floor(py)
    x0 = ops.floor(px)
    ly = py - y0
    lx = px - x0
    hy = 1.0 - ly
    hx = 1.0 - lx
    y0 = ops.cast(y0, "int32")
    x0 = ops.cast(x0, "int32")
    y1 = y0 + 1
    x1 = x0 + 1

    flat = ops.reshape(x, (-1, cg))  # rows ((b * H + y) * W + x) * G + g
    row_b = (ops.arange(b, dtype="int32") * h)[:, None, None, None, None]
    col_g = ops.arange(groups, dtype="int32")[None, None, None, :, None]
    h_max = h - 1
    w_max = w - 1

    def corner(yc, xc, weight):
        inside = (yc >= 0) & (yc <= h_max) & (xc >= 0) & (xc <= w_max)
        weight = ops.where(inside, weight, ops.zeros_like(weight))
        yc = ops.clip(yc, 0, h_max)
        xc = ops.clip(xc, 0, w_max)
        idx = ((row_b + yc) * w + xc) * groups + col_g  # (B, Ho, Wo, G, K)
        vals = ops.take(flat, idx, axis=0)  # (B, Ho, Wo, G, K, Cg)
        return vals * ops.cast(weight, vals.dtype)[..., None]

    cols = (
        corner(y0, x0, hy * hx) + corner(y0, x1, hy * lx) + corner(y1, x0, ly * hx) + corner(y1, x1, ly * lx)
    )
    if mask is not None:
        m = ops.reshape(mask, (b, ho, wo, groups, taps))
        cols = cols * ops.cast(m, cols.dtype)[..., None]
    # (B, Ho, Wo, G, K, Cg) -> (B, Ho, Wo, K, G*Cg) to match kernel rows (kh, kw, C) flattened.
    cols = ops.transpose(cols, (0, 1, 2, 4, 3, 5))
    cols = ops.reshape(cols, (b, ho, wo, taps * cin))
    out = ops.matmul(cols, ops.reshape(ops.cast(kernel, cols.dtype), (taps * cin, cout)))
    if bias is not None:
        out = out + ops.cast(bias, out.dtype)
    return out


@keras.saving.register_keras_serializable(package="eccv20zoo")
class DeformConv2D(ZooLayer):
    """DCNv2 layer (the `DCN` module of DCNv2 / CenterNet / KM3D), channels-last.

    Owns `conv_offset_mask` (a kh x kw conv, same stride and padding, with bias, 3 * G * kh * kw
    outputs, zero-initialised as DCNv2's `init_offset`, so a fresh layer is a plain convolution with
    mask 0.5) and the main kernel + bias (DCNv2 `reset_parameters`: U(+-1/sqrt(C*kh*kw)), zero bias).
    The offset conv's outputs split into thirds (o1, o2, mask logits); offset = concat(o1, o2) read as
    interleaved (dy, dx) per tap, mask = sigmoid(logits).

    Weights: offset_kernel (kh, kw, C, 3GK), offset_bias (3GK,), kernel (kh, kw, C, filters), bias
    (filters,) -- PyTorch's (O, C, kh, kw) tensors transposed (2, 3, 1, 0), channel order unchanged.

    Slow and not TFLite friendly: see the module docstring.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int] = 3,
        strides: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | None = None,
        dilation_rate: int | tuple[int, int] = 1,
        deformable_groups: int = 1,
        use_bias: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides, "strides")
        self.padding = (
            (self.kernel_size[0] // 2, self.kernel_size[1] // 2)
            if padding is None
            else _pair(padding, "padding")
        )
        self.dilation_rate = _pair(dilation_rate, "dilation_rate")
        self.deformable_groups = int(deformable_groups)
        self.use_bias = bool(use_bias)

    def build(self, input_shape):
        cin = int(input_shape[-1])
        if cin % self.deformable_groups:
            raise ValueError(
                f"DeformConv2D: {cin} channels do not split into {self.deformable_groups} groups"
            )
        kh, kw = self.kernel_size
        n_om = 3 * self.deformable_groups * kh * kw
        stdv = 1.0 / math.sqrt(cin * kh * kw)
        self.offset_kernel = self.add_weight(
            name="offset_kernel", shape=(kh, kw, cin, n_om), initializer="zeros"
        )
        self.offset_bias = self.add_weight(name="offset_bias", shape=(n_om,), initializer="zeros")
        self.kernel = self.add_weight(
            name="kernel",
            shape=(kh, kw, cin, self.filters),
            initializer=keras.initializers.RandomUniform(-stdv, stdv),
        )
        self.bias = (
            self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")
            if self.use_bias
            else None
        )

    def _offset_conv(self, x):
        ph, pw = self.padding
        if ph or pw:
            x = ops.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]])
        y = ops.conv(
            x, self.offset_kernel, strides=self.strides, padding="valid", dilation_rate=self.dilation_rate
        )
        return y + self.offset_bias

    def call(self, x):
        om = self._offset_conv(x)
        n = self.deformable_groups * self.kernel_size[0] * self.kernel_size[1]
        offset = om[..., : 2 * n]
        mask = ops.sigmoid(om[..., 2 * n :])
        return modulated_deform_conv2d(
            x, offset, mask, self.kernel, self.bias, self.strides, self.padding, self.dilation_rate
        )

    def compute_output_shape(self, input_shape):
        b, h, w, _ = input_shape
        size = [
            None if s is None else deform_output_size(int(s), k, st, p, d)
            for s, k, st, p, d in zip(
                (h, w), self.kernel_size, self.strides, self.padding, self.dilation_rate, strict=True
            )
        ]
        return (b, size[0], size[1], self.filters)
