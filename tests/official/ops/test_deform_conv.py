"""official/ops/deform_conv.py: DCNv2 modulated deformable convolution against independent references.

References (all on the same random inputs, offsets of scale 3 so many samples leave the image):
- a direct numpy loop over output pixels, groups and taps with per-corner bilinear interpolation,
  written from the DCNv2 CUDA kernel (`modulated_deformable_im2col_gpu_kernel`: offset channel 2k is
  dy of tap k = i*kw + j, 2k+1 its dx; a corner outside the image contributes 0);
- torch `grid_sample` (bilinear, zero padding, align_corners=True) for the sampling, torch for the
  contraction: an independent bilinear implementation;
- `torchvision.ops.deform_conv2d` (with mask) when torchvision is importable. The PyPI torchvision
  wheel for torch 2.13.0 is a CUDA build whose _C.so does not load with the venv's CPU torch, so this
  test is skipped here and the two references above carry the parity.
"""

from __future__ import annotations

import numpy as np
import pytest

from official.ops.deform_conv import DeformConv2D, deform_output_size, modulated_deform_conv2d

# (stride, padding, dilation, deformable groups)
CASES = [(1, 1, 1, 1), (2, 1, 1, 1), (1, 2, 2, 2), (2, 0, 1, 2)]


def _numpy_reference(x, off, mask, kernel, bias, s, p, d):
    bsz, h, w, c = x.shape
    kh, kw, _, o = kernel.shape
    taps = kh * kw
    ho, wo = off.shape[1:3]
    groups = off.shape[-1] // (2 * taps)
    cg = c // groups
    xd = x.astype(np.float64)

    def sample(b, y, xx, c0):
        val = np.zeros(cg)
        if not (-1 < y < h and -1 < xx < w):
            return val
        y0, x0 = int(np.floor(y)), int(np.floor(xx))
        ly, lx = y - y0, xx - x0
        for yc, xc, wt in (
            (y0, x0, (1 - ly) * (1 - lx)),
            (y0, x0 + 1, (1 - ly) * lx),
            (y0 + 1, x0, ly * (1 - lx)),
            (y0 + 1, x0 + 1, ly * lx),
        ):
            if 0 <= yc < h and 0 <= xc < w:
                val += wt * xd[b, yc, xc, c0 : c0 + cg]
        return val

    out = np.zeros((bsz, ho, wo, o))
    for b in range(bsz):
        for oy in range(ho):
            for ox in range(wo):
                col = np.zeros((kh, kw, c))
                for g in range(groups):
                    for i in range(kh):
                        for j in range(kw):
                            t = i * kw + j
                            dy = off[b, oy, ox, g * 2 * taps + 2 * t]
                            dx = off[b, oy, ox, g * 2 * taps + 2 * t + 1]
                            m = mask[b, oy, ox, g * taps + t]
                            col[i, j, g * cg : (g + 1) * cg] = m * sample(
                                b, oy * s - p + i * d + dy, ox * s - p + j * d + dx, g * cg
                            )
                out[b, oy, ox] = np.tensordot(col, kernel, axes=3) + bias
    return out


def _inputs(s, p, d, groups, seed=0, offset_scale=3.0, size=(7, 9)):
    rng = np.random.default_rng(seed)
    bsz, c, o = 2, 4, 5
    h, w = size
    ho, wo = deform_output_size(h, 3, s, p, d), deform_output_size(w, 3, s, p, d)
    x = rng.normal(size=(bsz, h, w, c)).astype(np.float32)
    off = (offset_scale * rng.normal(size=(bsz, ho, wo, 2 * 9 * groups))).astype(np.float32)
    mask = rng.uniform(size=(bsz, ho, wo, 9 * groups)).astype(np.float32)
    kernel = rng.normal(size=(3, 3, c, o)).astype(np.float32)
    bias = rng.normal(size=(o,)).astype(np.float32)
    return x, off, mask, kernel, bias


@pytest.mark.parametrize("s,p,d,groups", CASES)
def test_matches_numpy_loop(s, p, d, groups):
    x, off, mask, kernel, bias = _inputs(s, p, d, groups, seed=s + 10 * p + 100 * groups)
    got = np.asarray(modulated_deform_conv2d(x, off, mask, kernel, bias, s, p, d))
    want = _numpy_reference(x, off, mask, kernel, bias, s, p, d)
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) < 1e-5


def test_integer_offsets_at_the_border():
    """Samples exactly on -1, 0, H-1, H (and half-way outside): only in-image corners count."""
    x, off, mask, kernel, bias = _inputs(1, 1, 1, 1, seed=3)
    rng = np.random.default_rng(4)
    off = rng.choice(
        np.array([-9.0, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 7.0, 8.0, 9.0], np.float32), size=off.shape
    )
    got = np.asarray(modulated_deform_conv2d(x, off, mask, kernel, bias, 1, 1, 1))
    assert np.max(np.abs(got - _numpy_reference(x, off, mask, kernel, bias, 1, 1, 1))) < 1e-5


def _torch_grid_sample_reference(x, off, mask, kernel, bias, s, p, d):
    import torch  # required (pyproject extra "convert"): a missing install fails, never skips

    fn = torch.nn.functional
    bsz, h, w, c = x.shape
    kh, kw, _, o = kernel.shape
    ho, wo = off.shape[1:3]
    xt = torch.from_numpy(x).double().permute(0, 3, 1, 2)  # (B, C, H, W)
    offt = torch.from_numpy(off).double().reshape(bsz, ho, wo, kh * kw, 2)
    cols = []
    for i in range(kh):
        for j in range(kw):
            t = i * kw + j
            py = (torch.arange(ho).double() * s - p + i * d)[None, :, None] + offt[..., t, 0]
            px = (torch.arange(wo).double() * s - p + j * d)[None, None, :] + offt[..., t, 1]
            grid = torch.stack([2 * px / (w - 1) - 1, 2 * py / (h - 1) - 1], dim=-1)
            sampled = fn.grid_sample(xt, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
            cols.append(sampled * torch.from_numpy(mask[..., t]).double()[:, None])
    cols = torch.stack(cols, dim=1)  # (B, K, C, Ho, Wo)
    weight = torch.from_numpy(kernel).double().reshape(kh * kw, c, o)
    out = torch.einsum("bkchw,kco->bhwo", cols, weight) + torch.from_numpy(bias).double()
    return out.numpy()


@pytest.mark.parametrize("s,p,d", [(1, 1, 1), (2, 1, 1), (1, 2, 2)])
def test_matches_torch_grid_sample(s, p, d):
    x, off, mask, kernel, bias = _inputs(s, p, d, 1, seed=7 + s + d)
    want = _torch_grid_sample_reference(x, off, mask, kernel, bias, s, p, d)
    got = np.asarray(modulated_deform_conv2d(x, off, mask, kernel, bias, s, p, d))
    assert np.max(np.abs(got - want)) < 1e-5


@pytest.mark.parametrize("s", [1, 2])
def test_matches_torchvision(s):
    try:
        import torch
        from torchvision.ops import deform_conv2d
    except Exception as err:  # absent, or a CUDA wheel that cannot load next to the CPU torch
        pytest.skip(f"torchvision unavailable: {type(err).__name__}: {err}")
    x, off, mask, kernel, bias = _inputs(s, 1, 1, 1, seed=20 + s)
    want = (
        deform_conv2d(
            torch.from_numpy(x).permute(0, 3, 1, 2),
            torch.from_numpy(off).permute(0, 3, 1, 2),
            torch.from_numpy(kernel).permute(3, 2, 0, 1),
            torch.from_numpy(bias),
            stride=s,
            padding=1,
            mask=torch.from_numpy(mask).permute(0, 3, 1, 2),
        )
        .permute(0, 2, 3, 1)
        .numpy()
    )
    got = np.asarray(modulated_deform_conv2d(x, off, mask, kernel, bias, s, 1, 1))
    assert np.max(np.abs(got - want)) < 1e-5


def test_layer_fresh_is_half_a_plain_conv_and_round_trips():
    """Zero-initialised offsets/mask logits (DCNv2 init_offset): a plain 3x3 conv times sigmoid(0) = 0.5."""
    import keras
    from keras import ops

    keras.utils.set_random_seed(0)
    layer = DeformConv2D(6, strides=2, name="dcn")
    x = np.random.default_rng(0).normal(size=(2, 9, 11, 4)).astype(np.float32)
    y = np.asarray(layer(x))
    assert y.shape == (2, 5, 6, 6) == layer.compute_output_shape(x.shape)
    assert [v.path.split("/")[-1] for v in layer.weights] == [
        "offset_kernel",
        "offset_bias",
        "kernel",
        "bias",
    ]
    assert tuple(layer.offset_kernel.shape) == (3, 3, 4, 27)
    layer.bias.assign(np.arange(6, dtype=np.float32))
    y = np.asarray(layer(x))
    plain = ops.conv(ops.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), layer.kernel, strides=2, padding="valid")
    assert np.max(np.abs(y - (0.5 * np.asarray(plain) + np.arange(6)))) < 1e-5

    # Non-zero offset weights: the layer is the op on (o1, o2 -> offset, sigmoid(o3) -> mask).
    rng = np.random.default_rng(1)
    layer.offset_kernel.assign(0.3 * rng.normal(size=(3, 3, 4, 27)).astype(np.float32))
    layer.offset_bias.assign(rng.normal(size=(27,)).astype(np.float32))
    om = np.asarray(layer._offset_conv(x))
    want = _numpy_reference(
        x, om[..., :18], 1 / (1 + np.exp(-om[..., 18:])), np.asarray(layer.kernel), np.arange(6.0), 2, 1, 1
    )
    assert np.max(np.abs(np.asarray(layer(x)) - want)) < 1e-5

    clone = DeformConv2D.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    clone.build(x.shape)
    clone.set_weights(layer.get_weights())
    assert np.max(np.abs(np.asarray(clone(x)) - np.asarray(layer(x)))) < 1e-6


def test_gradients_reach_offsets_and_input():
    import tensorflow as tf

    x, off, mask, kernel, bias = (tf.constant(a) for a in _inputs(1, 1, 1, 1, seed=5))
    with tf.GradientTape() as tape:
        tape.watch([x, off, mask])
        loss = tf.reduce_sum(modulated_deform_conv2d(x, off, mask, kernel, bias, 1, 1, 1) ** 2)
    grads = tape.gradient(loss, [x, off, mask])
    for g in grads:
        assert g is not None and np.all(np.isfinite(g.numpy())) and np.max(np.abs(g.numpy())) > 0


_JAX_SCRIPT = """
import json, sys
import numpy as np
import keras
assert keras.backend.backend() == "jax", keras.backend.backend()
from official.ops.deform_conv import DeformConv2D, modulated_deform_conv2d
data = dict(np.load(sys.argv[1]))
out = {}
for s in (1, 2):
    args = [data[f"{k}{s}"] for k in ("x", "off", "mask", "kernel", "bias")]
    out[f"op{s}"] = np.asarray(modulated_deform_conv2d(*args, s, 1, 1))
layer = DeformConv2D.from_config(json.loads(sys.argv[2]))
layer.build(data["lx"].shape)
layer.set_weights([data[f"w{i}"] for i in range(4)])
out["layer"] = np.asarray(layer(data["lx"]))
np.savez(sys.argv[3], **out)
assert "tensorflow" not in sys.modules
"""


@pytest.mark.jax
def test_jax_matches_tf(tmp_path):
    """The op (stride 1 and 2, samples outside the image) and the layer give TF's numbers under JAX."""
    import json

    from tests import helpers

    data, want = {}, {}
    for s in (1, 2):
        arrays = _inputs(s, 1, 1, 1, seed=30 + s)
        data.update(
            {f"{k}{s}": a for k, a in zip(("x", "off", "mask", "kernel", "bias"), arrays, strict=True)}
        )
        want[f"op{s}"] = np.asarray(modulated_deform_conv2d(*arrays, s, 1, 1))
    layer = DeformConv2D(5, strides=2, deformable_groups=2, name="dcn")
    data["lx"] = np.random.default_rng(2).normal(size=(2, 9, 11, 4)).astype(np.float32)
    layer.build(data["lx"].shape)
    helpers.randomise_weights(layer, seed=1)
    data.update({f"w{i}": w for i, w in enumerate(layer.get_weights())})
    want["layer"] = np.asarray(layer(data["lx"]))
    np.savez(tmp_path / "in.npz", **data)
    argv = [str(tmp_path / "in.npz"), json.dumps(layer.get_config()), str(tmp_path / "out.npz")]
    helpers.run_in_jax_worker(_JAX_SCRIPT, argv, timeout=300)
    with np.load(tmp_path / "out.npz") as got:
        for key, value in want.items():
            assert np.max(np.abs(got[key] - value)) < 1e-5, key


def test_saved_model_export_uses_stock_ops(tmp_path):
    """A model with a DCN exports to a SavedModel (no custom ops) that reproduces it, batch size free."""
    import keras
    import tensorflow as tf

    from tests import helpers

    keras.backend.clear_session()
    inputs = keras.Input((None, None, 4))
    model = keras.Model(inputs, DeformConv2D(3, strides=2, name="dcn")(inputs))
    helpers.randomise_weights(model, seed=2)
    x = np.random.default_rng(3).normal(size=(2, 9, 12, 4)).astype(np.float32)
    helpers.check_saved_model_round_trip(model, tmp_path, x, atol=1e-5)
    loaded = tf.saved_model.load(str(tmp_path / "saved_model"))
    graph = loaded.serve.get_concrete_function(tf.TensorSpec((None, None, None, 4))).graph.as_graph_def()
    ops = {n.op for n in graph.node} | {n.op for f in graph.library.function for n in f.node_def}
    assert "GatherV2" in ops and not any(op.startswith("Deform") for op in ops)
