"""Binary convolutions of ProxyBNN (He et al., ECCV 2020): the training layer with latent A and proxy P,
and the plain inference layer that holds only the binary kernel.

No official code exists; what is below follows the spec card (`shared/specs/proxybnn.md`), whose choices
beyond the abstract are reconstructed (marked "reconstructed" here and in the model card):

- sign(0) := +1 everywhere (weights and activations), so training, export and the XNOR reference agree.
- Activations: x_b = sign(x) with the clipped straight-through estimator (gradient 1 for |x| <= 1, else 0),
  or Bi-Real's piecewise-polynomial approximation (gradient 2 - 2|x| for |x| <= 1) (reconstructed: the
  paper's choice is unknown).
- Weights: W_r = reshape(A P); alpha_o = mean |W_r[..., o]| per output channel, held constant in the
  backward pass (as larq's magnitude-aware sign; reconstructed); W_b = alpha * sign(W_r) with an identity
  straight-through gradient (optionally clipped at |W_r| <= 1). The chain rule then gives
  dL/dA = G P^T and dL/dP = A^T G for G = dL/dW_r.
- The conv is computed as conv(x_b, sign(W_r)) * alpha: sums of +-1 are exact integers in float32, so the
  output is bit-identical to alpha_o * (2 * popcount(xnor) - n) of an XNOR-popcount kernel.
- Padding: "same" convolutions pad the binary input with `pad_value`: 0 (default; PyTorch Bi-Real and
  larq's default `pad_values=0`: padded taps contribute nothing) or +1 / -1 (a purely binary conv).
"""

from __future__ import annotations

import math

import keras
from keras import ops

from official.core.base_model import ZooLayer

PROXY_AXES = ("spatial", "input")
ACTIVATION_GRADS = ("ste", "approx")


def sign(x):
    """sign with sign(0) = +1 (values in {-1, +1}, x's dtype); no gradient (use the STE wrappers below)."""
    return ops.where(x >= 0, ops.ones_like(x), -ops.ones_like(x))


@ops.custom_gradient
def ste_sign(x):
    """sign(x) forward; straight-through gradient clipped to |x| <= 1 (BNN practice, larq's ste_sign)."""

    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        return upstream * ops.cast(ops.abs(x) <= 1.0, upstream.dtype)

    return sign(x), grad


@ops.custom_gradient
def approx_sign(x):
    """sign(x) forward; Bi-Real's polynomial gradient 2 - 2|x| for |x| <= 1, else 0."""

    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        return upstream * ops.maximum(2.0 - 2.0 * ops.abs(x), 0.0)

    return sign(x), grad


@ops.custom_gradient
def _identity_sign(w):
    """sign(w) forward, identity gradient (the weights' straight-through estimator)."""

    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        return upstream

    return sign(w), grad


def weight_sign(w, clip: bool = False):
    """sign(w) forward; identity gradient, or (clip) gradient only where |w| <= 1."""
    return ste_sign(w) if clip else _identity_sign(w)


def binarize_activations(x, grad: str = "ste"):
    if grad not in ACTIVATION_GRADS:
        raise ValueError(f"activation_grad must be one of {ACTIVATION_GRADS}, got {grad!r}")
    return ste_sign(x) if grad == "ste" else approx_sign(x)


def _pad(x, kernel_size: int, stride: int, pad_value: float):
    """Explicit TF-"same" padding of an NHWC tensor with a constant (the binary conv then runs "valid")."""
    pads = []
    for size in (x.shape[1], x.shape[2]):
        if size is None:
            raise ValueError("binary conv with pad_value != 0 needs a static spatial size")
        out = math.ceil(size / stride)
        total = max((out - 1) * stride + kernel_size - size, 0)
        pads.append((total // 2, total - total // 2))
    return ops.pad(x, [(0, 0), pads[0], pads[1], (0, 0)], constant_values=pad_value)


def _binary_conv(x_b, kernel, stride: int, kernel_size: int, pad_value: float):
    if pad_value == 0:
        return ops.conv(x_b, kernel, strides=stride, padding="same")
    return ops.conv(_pad(x_b, kernel_size, stride, pad_value), kernel, strides=stride, padding="valid")


def _check(kernel_size, pad_value):
    if pad_value not in (0, 1, -1):
        raise ValueError(f"pad_value must be 0, 1 or -1, got {pad_value!r}")
    if kernel_size < 1:
        raise ValueError(f"kernel_size must be >= 1, got {kernel_size}")


class _BinaryConvShape:
    """Output shape and multiply-accumulates (`tools.profile` counts them; binary ones are XNOR-popcounts)."""

    def compute_output_shape(self, input_shape):
        def out(n):
            return None if n is None else math.ceil(n / self.strides)

        return (input_shape[0], out(input_shape[1]), out(input_shape[2]), self.filters)

    def call_madds(self, in_shape, out_shape) -> int:
        """MACs of one example: H_out * W_out * C_out * k * k * C_in."""
        return math.prod(out_shape) * self.kernel_size * self.kernel_size * int(in_shape[-1])


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ProxyBinaryConv2D(_BinaryConvShape, ZooLayer):
    """Binary conv whose latent weights are W_r = reshape(A P) (ProxyBNN's training layer, no bias).

    Args:
        filters: output channels C_out.
        kernel_size: k (square kernel).
        strides: stride of the conv.
        proxy: "spatial" (default): A (C_in*C_out, k*k), P (k*k, k*k), one P per layer; "input":
            A (C_out, k*k*C_in), P (k*k*C_in, k*k*C_in) (the card's two options; reconstructed).
        proxy_trainable: False freezes P at its initial identity (the plain BNN baseline).
        binary_activations: sign the input (1/1 bits); False keeps real inputs (1/32).
        activation_grad: "ste" (clipped STE) or "approx" (Bi-Real's polynomial).
        weight_clip: clip the weights' STE to |W_r| <= 1.
        pad_value: 0, +1 or -1: what "same" padding puts around the binary input.

    Input (batch, height, width, C_in) -> (batch, ceil(height/s), ceil(width/s), filters).
    """

    def __init__(self, filters: int, kernel_size: int = 3, strides: int = 1, proxy: str = "spatial",
                 proxy_trainable: bool = True, binary_activations: bool = True, activation_grad: str = "ste",
                 weight_clip: bool = False, pad_value: int = 0, **kwargs):
        super().__init__(**kwargs)
        if proxy not in PROXY_AXES:
            raise ValueError(f"proxy must be one of {PROXY_AXES}, got {proxy!r}")
        _check(kernel_size, pad_value)
        self.filters, self.kernel_size, self.strides = filters, kernel_size, strides
        self.proxy, self.proxy_trainable = proxy, proxy_trainable
        self.binary_activations, self.activation_grad = binary_activations, activation_grad
        self.weight_clip, self.pad_value = weight_clip, pad_value

    def _matrix_shape(self, cin: int) -> tuple[int, int]:
        kk = self.kernel_size * self.kernel_size
        return (cin * self.filters, kk) if self.proxy == "spatial" else (self.filters, kk * cin)

    def build(self, input_shape):
        cin = int(input_shape[-1])
        self.kernel_shape = (self.kernel_size, self.kernel_size, cin, self.filters)
        rows, cols = self._matrix_shape(cin)
        he = keras.initializers.HeNormal()

        def init_a(shape, dtype=None):  # He-normal over the conv's fan-in, laid out as A (P = I: W_r = A)
            return self.kernel_to_matrix(he(self.kernel_shape, dtype=dtype))

        self.a = self.add_weight(name="a", shape=(rows, cols), initializer=init_a)
        self.p = self.add_weight(name="p", shape=(cols, cols), initializer="identity",
                                 trainable=self.proxy_trainable)

    def kernel_to_matrix(self, kernel):
        """(k, k, C_in, C_out) kernel -> the (rows, cols) matrix layout of A (inverse of matrix_to_kernel)."""
        k, _, cin, cout = self.kernel_shape
        if self.proxy == "spatial":  # rows (c_in, c_out), columns the k*k taps
            return ops.transpose(ops.reshape(kernel, (k * k, cin * cout)))
        return ops.transpose(ops.reshape(kernel, (k * k * cin, cout)))  # rows c_out, columns (ky, kx, c_in)

    def matrix_to_kernel(self, matrix):
        return ops.reshape(ops.transpose(matrix), self.kernel_shape)

    def latent_kernel(self):
        """W_r = reshape(A P), shape (k, k, C_in, C_out)."""
        return self.matrix_to_kernel(ops.matmul(self.a, self.p))

    def alpha(self, w_r=None):
        """alpha_o = mean |W_r[..., o]| (constant in the backward pass), shape (C_out,)."""
        w_r = self.latent_kernel() if w_r is None else w_r
        return ops.stop_gradient(ops.mean(ops.abs(w_r), axis=(0, 1, 2)))

    def binary_kernel(self):
        """W_b = alpha * sign(W_r): exactly the two values +-alpha_o in output channel o."""
        w_r = self.latent_kernel()
        return self.alpha(w_r) * sign(w_r)

    def call(self, inputs):
        w_r = self.latent_kernel()
        x = binarize_activations(inputs, self.activation_grad) if self.binary_activations else inputs
        y = _binary_conv(x, weight_sign(w_r, self.weight_clip), self.strides, self.kernel_size, self.pad_value)
        return y * self.alpha(w_r)



@keras.saving.register_keras_serializable(package="eccv20zoo")
class BinaryConv2D(_BinaryConvShape, ZooLayer):
    """Inference binary conv: holds only the kernel W_b (+-alpha_o per output channel), no A, no P.

    Same arguments and output as ProxyBinaryConv2D (sign on the input, the same padding), with
    a plain Conv2D's parameter count (k*k*C_in*C_out). The kernel is a fixed weight set by `fold.py`.
    """

    def __init__(self, filters: int, kernel_size: int = 3, strides: int = 1, binary_activations: bool = True,
                 pad_value: int = 0, **kwargs):
        super().__init__(**kwargs)
        _check(kernel_size, pad_value)
        self.filters, self.kernel_size, self.strides = filters, kernel_size, strides
        self.binary_activations, self.pad_value = binary_activations, pad_value

    def build(self, input_shape):
        shape = (self.kernel_size, self.kernel_size, int(input_shape[-1]), self.filters)
        self.kernel = self.add_weight(name="kernel", shape=shape, initializer="zeros")

    def call(self, inputs):
        x = sign(inputs) if self.binary_activations else inputs
        return _binary_conv(x, self.kernel, self.strides, self.kernel_size, self.pad_value)

