"""AdaIN, conditional AdaIN and SPADE/FADE against torch references (instance/batch norm, conv2d with the
Keras kernels transposed to OIHW), plus Sketch2Photo's check 4: after AdaIN the output carries the style
map's per-channel mean and standard deviation, and alpha = 0 returns the content."""

import keras
import numpy as np
import pytest
import torch
from torch.nn import functional as F

from official.layers import adaptive_norm


def _nchw(x):
    return torch.tensor(np.transpose(np.asarray(x, np.float64), (0, 3, 1, 2)))


def _nhwc(t):
    return np.transpose(t.detach().numpy(), (0, 2, 3, 1))


def _conv(layer, t, relu=False):
    kernel, bias = (np.asarray(w, np.float64) for w in layer.get_weights())
    out = F.conv2d(t, torch.tensor(np.transpose(kernel, (3, 2, 0, 1))), torch.tensor(bias), padding=kernel.shape[0] // 2)
    return F.relu(out) if relu else out


def test_adain_transfers_style_statistics_and_alpha_zero_is_identity():
    rng = np.random.default_rng(0)
    content = rng.normal(size=(2, 8, 8, 5)).astype(np.float32)
    style = (rng.normal(size=(2, 6, 6, 5)) * 3 + 1.5).astype(np.float32)
    out = np.asarray(adaptive_norm.adain(content, style))
    n_out, n_style = 64, 36
    np.testing.assert_allclose(out.mean((1, 2)), style.mean((1, 2)), atol=1e-4)
    # std with the unbiased variance + eps on both sides: equal up to the eps term
    out_std = np.sqrt(out.var((1, 2)) * n_out / (n_out - 1))
    np.testing.assert_allclose(out_std, np.sqrt(style.var((1, 2)) * n_style / (n_style - 1)), rtol=1e-4)
    np.testing.assert_allclose(np.asarray(adaptive_norm.adain(content, style, alpha=0.0)), content, atol=1e-6)
    half = np.asarray(adaptive_norm.adain(content, style, alpha=0.5))
    np.testing.assert_allclose(half, 0.5 * out + 0.5 * content, atol=1e-5)


def test_conditional_adain_equals_torch_instance_norm_and_linear():
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(2, 6, 6, 4)).astype(np.float32), rng.normal(size=(2, 16)).astype(np.float32)
    layer = adaptive_norm.ConditionalAdaIN()
    out = np.asarray(layer((x, w)))
    kernel, bias = layer.affine.get_weights()
    gamma, beta = np.split(w @ kernel + bias, 2, axis=-1)
    ref = F.instance_norm(_nchw(x), eps=1e-5) * (1 + torch.tensor(gamma)[:, :, None, None].double()) \
        + torch.tensor(beta)[:, :, None, None].double()
    np.testing.assert_allclose(out, _nhwc(ref), atol=1e-4)


@pytest.mark.parametrize("norm, hidden", [("instance", 0), ("batch", 0), ("batch", 8)])
def test_spatial_denorm_equals_torch(norm, hidden):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 8, 8, 4)).astype(np.float32)
    f = rng.normal(size=(3, 4, 4, 6)).astype(np.float32)  # half size: nearest-upsampled as SPADE's label map
    keras.utils.set_random_seed(0)
    layer = adaptive_norm.SpatialDenorm(norm=norm, hidden=hidden)
    out = np.asarray(layer((x, f), training=True))
    cond = _nchw(np.repeat(np.repeat(f, 2, axis=1), 2, axis=2))
    if hidden:
        cond = _conv(layer.shared, cond, relu=True)
    xt = _nchw(x)
    normalized = F.instance_norm(xt, eps=1e-5) if norm == "instance" else F.batch_norm(
        xt, None, None, training=True, eps=1e-5)
    ref = normalized * (1 + _conv(layer.gamma, cond)) + _conv(layer.beta, cond)
    np.testing.assert_allclose(out, _nhwc(ref), atol=1e-4)
    cond_channels = hidden or 6
    expected = 2 * (9 * cond_channels * 4 + 4) + (9 * 6 * hidden + hidden if hidden else 0)  # no norm affine
    assert sum(int(np.prod(v.shape)) for v in layer.trainable_weights) == expected


def test_spatial_denorm_config_round_trip_and_bad_norm():
    layer = adaptive_norm.SpatialDenorm(norm="instance", hidden=16, name="spade")
    clone = adaptive_norm.SpatialDenorm.from_config(layer.get_config())
    assert (clone.norm, clone.hidden, clone.name) == ("instance", 16, "spade")
    with pytest.raises(ValueError, match="norm: expected 'batch' or 'instance', got 'group'"):
        adaptive_norm.SpatialDenorm(norm="group")
