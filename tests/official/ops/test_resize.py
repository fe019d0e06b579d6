"""resize_bilinear_align_corners equals a literal NumPy transcription of align_corners=True sampling and
PyTorch's F.interpolate(mode="bilinear", align_corners=True), eagerly and under XLA, with stock TF ops."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import torch

from official.ops.resize import align_corners_taps, resize_bilinear_align_corners

# (in_h, in_w) -> (out_h, out_w): RSN's 8x6 -> 64x48 and 16x12 -> 32x24, odd sizes, downsampling,
# one-pixel inputs and outputs, equal sizes (identity).
CASES = [
    ((8, 6), (64, 48)),
    ((16, 12), (32, 24)),
    ((5, 7), (11, 4)),
    ((9, 9), (3, 2)),
    ((1, 4), (5, 4)),
    ((4, 3), (1, 1)),
    ((6, 5), (6, 5)),
]


def reference(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Each output pixel (i, j) samples the input at (i * (H-1)/(h-1), j * (W-1)/(w-1)) bilinearly."""
    n, in_h, in_w, c = x.shape
    out_h, out_w = size
    out = np.zeros((n, out_h, out_w, c), np.float64)
    for i in range(out_h):
        y = i * (in_h - 1) / (out_h - 1) if out_h > 1 else 0.0
        y0 = min(int(np.floor(y)), in_h - 1)
        y1 = min(y0 + 1, in_h - 1)
        ly = y - y0
        for j in range(out_w):
            xx = j * (in_w - 1) / (out_w - 1) if out_w > 1 else 0.0
            x0 = min(int(np.floor(xx)), in_w - 1)
            x1 = min(x0 + 1, in_w - 1)
            lx = xx - x0
            out[:, i, j] = (
                (1 - ly) * (1 - lx) * x[:, y0, x0]
                + (1 - ly) * lx * x[:, y0, x1]
                + ly * (1 - lx) * x[:, y1, x0]
                + ly * lx * x[:, y1, x1]
            )
    return out


def _inputs(shape, seed=0):
    return np.random.default_rng(seed).normal(size=(2, *shape, 3)).astype(np.float32)


@pytest.mark.parametrize(("in_size", "out_size"), CASES)
def test_matches_numpy_and_torch(in_size, out_size):
    x = _inputs(in_size)
    got = np.asarray(resize_bilinear_align_corners(tf.constant(x), out_size))
    assert got.shape == (2, *out_size, 3)
    np.testing.assert_allclose(got, reference(x.astype(np.float64), out_size), atol=1e-5)
    torch_out = torch.nn.functional.interpolate(
        torch.from_numpy(x.transpose(0, 3, 1, 2)), size=out_size, mode="bilinear", align_corners=True
    )
    np.testing.assert_allclose(got, torch_out.numpy().transpose(0, 2, 3, 1), atol=1e-5)


def test_corners_are_kept_and_taps_are_in_range():
    x = _inputs((8, 6))
    got = np.asarray(resize_bilinear_align_corners(tf.constant(x), (64, 48)))
    for (i, j), (k, m) in {(0, 0): (0, 0), (0, -1): (0, -1), (-1, 0): (-1, 0), (-1, -1): (-1, -1)}.items():
        np.testing.assert_allclose(got[:, i, j], x[:, k, m], atol=1e-6)
    low, high, frac = align_corners_taps(8, 64)
    assert low.min() == 0 and high.max() == 7 and np.all(high - low <= 1)
    assert np.all((frac >= 0) & (frac < 1))
    # A linear ramp stays exactly linear (what the half-pixel convention would break at the borders).
    ramp = np.arange(6, dtype=np.float32)[None, None, :, None] * np.ones((1, 3, 1, 1), np.float32)
    out = np.asarray(resize_bilinear_align_corners(tf.constant(ramp), (3, 11)))
    np.testing.assert_allclose(out[0, 0, :, 0], np.linspace(0, 5, 11), atol=1e-6)


def test_xla_and_stock_ops():
    x = tf.constant(_inputs((8, 6)))
    fn = tf.function(lambda t: resize_bilinear_align_corners(t, (64, 48)), jit_compile=True)
    np.testing.assert_allclose(np.asarray(fn(x)), reference(x.numpy().astype(np.float64), (64, 48)), atol=1e-5)
    graph = tf.function(lambda t: resize_bilinear_align_corners(t, (64, 48))).get_concrete_function(x).graph
    ops = {node.op for node in graph.as_graph_def().node}
    # Gathers (Keras' take wraps negative indices: Less/SelectV2) and arithmetic only: stock TF / TFLite ops.
    stock = {"Placeholder", "Const", "GatherV2", "Sub", "Mul", "AddV2", "Identity", "Cast", "Less", "SelectV2",
             "StridedSlice", "Shape"}
    assert "GatherV2" in ops and ops <= stock, sorted(ops - stock)


def test_static_sizes_required():
    with pytest.raises(ValueError, match="static"):
        fn = tf.function(lambda t: resize_bilinear_align_corners(t, (4, 4)))
        fn.get_concrete_function(tf.TensorSpec((1, None, None, 3)))


def test_gradient_under_xla_is_the_transposed_interpolation():
    """d/dx sum(resize(x) * g) = A_h^T g A_w (the interpolation matrices, transposed): training and XLA."""
    x = tf.constant(_inputs((4, 3)))
    g = tf.constant(_inputs((9, 7), seed=1))

    @tf.function(jit_compile=True)
    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(resize_bilinear_align_corners(x, (9, 7)) * g)
        return tape.gradient(y, x)

    def matrix(n_in, n_out):
        m = np.zeros((n_out, n_in))
        for o in range(n_out):
            src = o * (n_in - 1) / (n_out - 1)
            lo = min(int(np.floor(src)), n_in - 1)
            m[o, lo] += 1 - (src - lo)
            m[o, min(lo + 1, n_in - 1)] += src - lo
        return m

    expected = np.einsum("oh,pw,nopc->nhwc", matrix(4, 9), matrix(3, 7), g.numpy().astype(np.float64))
    np.testing.assert_allclose(np.asarray(grad(x)), expected, atol=1e-5)
