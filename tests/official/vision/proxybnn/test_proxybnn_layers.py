"""ProxyBNN binary conv: values against numpy references (spec card checks 1-3).

Check 1: with P = identity the layer equals a numpy binarised conv (alpha * sign weights, sign inputs)
and, bit for bit, an XNOR-popcount kernel on packed sign bits: out = alpha_o * (2 * popcount(xnor) - n).
Padding: with pad_value=0 (default, as PyTorch Bi-Real and larq's pad_values=0) a padded tap
contributes nothing, so the reference masks it out of the popcount and out of n; with pad_value=+1 the
padded taps are +1 bits and n = k*k*C_in everywhere.
Check 2: kernels take exactly +-alpha_o per output channel, alpha_o = mean |A P| (P random, not I).
Check 3: gradients w.r.t. A and P equal G P^T and A^T G, G = dL/dW_r from the STE in closed form.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from official.vision.proxybnn.layers import ProxyBinaryConv2D, approx_sign, sign, ste_sign


def _same_pads(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return out, (total // 2, total - total // 2)


def _patches(x, k, s, pad_value):
    """(n, oh, ow, k, k, c) patches of x padded TF-"same" with pad_value, and the validity mask."""
    n, h, w, c = x.shape
    oh, ph = _same_pads(h, k, s)
    ow, pw = _same_pads(w, k, s)
    xp = np.pad(x, [(0, 0), ph, pw, (0, 0)], constant_values=pad_value)
    valid = np.pad(np.ones_like(x, dtype=bool), [(0, 0), ph, pw, (0, 0)], constant_values=pad_value != 0)
    idx = np.arange(oh)[:, None] * s + np.arange(k)[None]
    jdx = np.arange(ow)[:, None] * s + np.arange(k)[None]
    cols = xp[:, idx[:, None, :, None], jdx[None, :, None, :], :]  # (n, oh, ow, k, k, c)
    mask = valid[:, idx[:, None, :, None], jdx[None, :, None, :], :]
    return cols, mask


def _np_sign(v):
    return np.where(v >= 0, 1.0, -1.0).astype(np.float32)


def numpy_binary_conv(x, kernel, stride, pad_value):
    """Float reference: sum over taps of sign(x) * alpha_o sign(W), in float64."""
    k = kernel.shape[0]
    alpha = np.abs(kernel).mean(axis=(0, 1, 2))
    cols, mask = _patches(_np_sign(x), k, stride, pad_value)
    cols = np.where(mask, cols, 0.0)
    return np.einsum("nhwijc,ijco->nhwo", cols.astype(np.float64), (alpha * _np_sign(kernel)).astype(np.float64))


def xnor_popcount_conv(x, kernel, alpha, stride, pad_value):
    """Bit reference: packed sign bits (1 = +1), out = alpha_o * (2 * popcount(~(x ^ w) & valid) - popcount(valid))."""
    k, _, c, cout = kernel.shape
    cols, mask = _patches(_np_sign(x), k, stride, pad_value)
    n, oh, ow = cols.shape[:3]
    xbits = np.packbits((cols > 0).reshape(n, oh, ow, -1), axis=-1)  # (n, oh, ow, bytes)
    vbits = np.packbits(mask.reshape(n, oh, ow, -1), axis=-1)
    wbits = np.packbits((kernel >= 0).reshape(-1, cout).T, axis=-1)  # (cout, bytes), same tap order
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)
    xnor = ~(xbits[..., None, :] ^ wbits) & vbits[..., None, :]  # (n, oh, ow, cout, bytes)
    pc = table[xnor].sum(-1)
    valid = table[vbits].sum(-1)[..., None]
    return np.float32(alpha) * (2 * pc - valid).astype(np.float32)


def _layer(cin, filters, stride=1, pad_value=0, proxy="spatial", size=6, seed=0):
    layer = ProxyBinaryConv2D(filters, 3, stride, proxy=proxy, pad_value=pad_value)
    layer.build((None, size, size, cin))
    rng = np.random.default_rng(seed)
    layer.a.assign(rng.normal(0, 0.5, layer.a.shape).astype("float32"))
    return layer


@pytest.mark.parametrize("stride,pad_value", [(1, 0), (2, 0), (1, 1), (2, -1)])
def test_identity_proxy_equals_binary_conv_and_xnor_popcount(stride, pad_value):
    layer = _layer(5, 4, stride, pad_value, size=7)
    x = np.random.default_rng(1).normal(size=(2, 7, 7, 5)).astype("float32")
    x[0, 0, 0, 0] = 0.0  # sign(0) = +1 on both sides
    got = np.asarray(layer(x))
    kernel = np.asarray(layer.latent_kernel())
    np.testing.assert_array_equal(kernel, np.asarray(layer.matrix_to_kernel(layer.a)))  # P = I: W_r = A
    np.testing.assert_allclose(got, numpy_binary_conv(x, kernel, stride, pad_value), rtol=1e-6, atol=1e-6)
    alpha = np.asarray(layer.alpha())
    np.testing.assert_array_equal(got, xnor_popcount_conv(x, kernel, alpha, stride, pad_value))  # bit-exact


def test_sign_of_zero_is_plus_one_and_ste_gradients():
    x = tf.constant([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5])
    np.testing.assert_array_equal(np.asarray(sign(x)), [-1, -1, -1, 1, 1, 1, 1])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y1, y2 = ste_sign(x), approx_sign(x)
    np.testing.assert_array_equal(np.asarray(y1), [-1, -1, -1, 1, 1, 1, 1])
    np.testing.assert_array_equal(tape.gradient(y1, x).numpy(), [0, 1, 1, 1, 1, 1, 0])  # |x| <= 1
    np.testing.assert_allclose(tape.gradient(y2, x).numpy(), [0, 0, 1, 2, 1, 0, 0])  # 2 - 2|x|


@pytest.mark.parametrize("proxy", ["spatial", "input"])
def test_kernel_takes_plus_minus_alpha_with_alpha_mean_abs_ap(proxy):
    layer = _layer(3, 4, proxy=proxy)
    rng = np.random.default_rng(2)
    layer.p.assign(np.eye(layer.p.shape[0]) + rng.normal(0, 0.3, layer.p.shape).astype("float32"))
    a, p = np.asarray(layer.a, np.float64), np.asarray(layer.p, np.float64)
    w_r = (a @ p).T.reshape(3, 3, 3, 4)  # the card's reshape(A P), channels-last
    alpha = np.abs(w_r).mean(axis=(0, 1, 2))
    w_b = np.asarray(layer.binary_kernel())
    for o in range(4):
        values = np.unique(w_b[..., o])
        assert len(values) == 2 and values[0] == -values[1]  # exactly {-alpha_o, +alpha_o}
        np.testing.assert_allclose(values[1], alpha[o], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(layer.alpha()), alpha, rtol=1e-6)
    np.testing.assert_array_equal(np.sign(w_b), _np_sign(w_r))


@pytest.mark.parametrize("proxy", ["spatial", "input"])
def test_gradients_of_a_and_p_are_g_pt_and_at_g(proxy):
    layer = _layer(3, 4, stride=1, proxy=proxy, size=5)
    rng = np.random.default_rng(3)
    layer.p.assign(np.eye(layer.p.shape[0]) + rng.normal(0, 0.2, layer.p.shape).astype("float32"))
    x = rng.normal(size=(2, 5, 5, 3)).astype("float32")
    t = rng.normal(size=(2, 5, 5, 4)).astype("float32")
    with tf.GradientTape() as tape:
        y = layer(x)
        loss = 0.5 * tf.reduce_sum(tf.square(y - t))  # toy quadratic loss: dL/dy = y - t
    grad_a, grad_p = tape.gradient(loss, [layer.a, layer.p])
    # G = dL/dW_r in closed form: y = alpha_o * sum_taps sign(x) sign(W_r); identity STE, alpha constant.
    dy = (np.asarray(y, np.float64) - t)
    alpha = np.asarray(layer.alpha(), np.float64)
    cols, mask = _patches(_np_sign(x), 3, 1, 0)
    cols = np.where(mask, cols, 0.0)
    g_kernel = np.einsum("nhwijc,nhwo->ijco", cols, dy) * alpha  # (3, 3, 3, 4)
    g = np.asarray(layer.kernel_to_matrix(g_kernel.astype("float32")), np.float64)
    a, p = np.asarray(layer.a, np.float64), np.asarray(layer.p, np.float64)
    # atol on the matrices' own scale (entries up to ~40): a float32 sum of terms of that size leaves an
    # absolute error of ~1e-6 in an entry that nearly cancels (-0.034 on an AMD EPYC host).
    for got, want in ((grad_a.numpy(), g @ p.T), (grad_p.numpy(), a.T @ g)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6 * np.abs(want).max())


def test_weight_clip_limits_the_weight_ste_and_frozen_p_gets_no_gradient():
    layer = ProxyBinaryConv2D(2, 3, weight_clip=True, proxy_trainable=False)
    layer.build((None, 4, 4, 1))
    a = np.full(layer.a.shape, 0.5, "float32")
    a[0] = 2.0  # row 0 (c_in 0, c_out 0) outside |W_r| <= 1: no gradient through it
    layer.a.assign(a)
    assert [v.name for v in layer.trainable_weights] == ["a"]
    x = np.random.default_rng(4).normal(size=(1, 4, 4, 1)).astype("float32")
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x))
    grad = tape.gradient(loss, layer.a).numpy()
    assert np.all(grad[0] == 0) and np.any(grad[1] != 0)
