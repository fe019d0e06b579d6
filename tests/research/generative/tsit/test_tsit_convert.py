"""The TSIT converter on a state dict with the official key names and shapes: a torch module written from the
spec card (streams of StreamResnetBlocks, FADE blocks named head_0 ... up_3, FAdaIN, torch spectral_norm
with its weight_orig/u/v, BatchNorm running statistics), converted into the Keras generator, gives the same
image in eval mode; a missing key is a one-line error naming it."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import spectral_norm

from official.core.checkpoint_convert import ConversionError
from research.generative.tsit import convert
from research.generative.tsit.model import DECODER_NAMES, TSITGenerator, stream_widths

NGF, LEVELS, SIZE = 4, 3, 16


def _sn(fin, fout, k, bias=True):
    return spectral_norm(nn.Conv2d(fin, fout, k, padding=k // 2, bias=bias))


class StreamBlock(nn.Module):
    def __init__(self, fin, fout):
        super().__init__()
        self.learned = fin != fout
        self.conv_0, self.conv_1 = _sn(fin, fin, 3), _sn(fin, fout, 3)
        if self.learned:
            self.conv_s = _sn(fin, fout, 1, bias=False)

    def forward(self, x):
        act, norm = (lambda t: F.leaky_relu(t, 0.2)), F.instance_norm
        xs = act(norm(self.conv_s(x))) if self.learned else x
        return xs + act(norm(self.conv_1(act(norm(self.conv_0(x))))))


class Stream(nn.Module):
    def __init__(self, fin, widths):
        super().__init__()
        for k, w in enumerate(widths):
            setattr(self, f"res_{k}", StreamBlock(fin, w))
            fin = w

    def forward(self, x):
        feats = []
        for k in range(LEVELS):
            x = getattr(self, f"res_{k}")(F.interpolate(x, scale_factor=0.5) if k else x)
            feats.append(x)
        return feats


class FADE(nn.Module):
    def __init__(self, channels, feat):
        super().__init__()
        self.param_free_norm = nn.BatchNorm2d(channels, affine=False)
        self.mlp_gamma, self.mlp_beta = nn.Conv2d(feat, channels, 3, padding=1), nn.Conv2d(feat, channels, 3, padding=1)

    def forward(self, x, f):
        return self.param_free_norm(x) * (1 + self.mlp_gamma(f)) + self.mlp_beta(f)


class FADEBlock(nn.Module):
    def __init__(self, fin, fout):
        super().__init__()
        self.learned = fin != fout
        self.conv_0, self.conv_1 = _sn(fin, fin, 3), _sn(fin, fout, 3)
        self.norm_0, self.norm_1 = FADE(fin, fin), FADE(fin, fin)
        if self.learned:
            self.conv_s, self.norm_s = _sn(fin, fout, 1, bias=False), FADE(fin, fin)

    def forward(self, x, f):
        xs = self.conv_s(self.norm_s(x, f)) if self.learned else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, f), 0.2))
        return xs + self.conv_1(F.leaky_relu(self.norm_1(dx, f), 0.2))


def _adain(x, s):
    def stats(t):
        n, c = t.shape[:2]
        flat = t.reshape(n, c, -1)
        return flat.mean(-1)[..., None, None], (flat.var(-1) + 1e-5).sqrt()[..., None, None]
    (mx, sx), (ms, ss) = stats(x), stats(s)
    return (x - mx) / sx * ss + ms


class TorchTSIT(nn.Module):
    def __init__(self):
        super().__init__()
        widths = stream_widths(NGF, LEVELS)
        self.widths = widths
        self.content_stream, self.style_stream = Stream(3, widths), Stream(3, widths)
        self.fc = nn.Conv2d(3, widths[-1], 3, padding=1)
        for k in range(LEVELS - 1, 0, -1):
            setattr(self, DECODER_NAMES[k], FADEBlock(widths[k], widths[k - 1]))
        self.conv_img = nn.Conv2d(widths[0], 3, 3, padding=1)

    def forward(self, content, style, noise):
        ft, sft = self.content_stream(content), self.style_stream(style)
        x = self.fc(noise)
        for k in range(LEVELS - 1, 0, -1):
            if k < LEVELS - 1:
                x = F.interpolate(x, scale_factor=2)
            x = getattr(self, DECODER_NAMES[k])(_adain(x, sft[k]), ft[k])
        return torch.tanh(self.conv_img(F.leaky_relu(F.interpolate(x, scale_factor=2), 0.2)))


def _torch_model():
    torch.manual_seed(0)
    net = TorchTSIT()
    with torch.no_grad():
        for name, module in net.named_modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
            if isinstance(module, nn.Conv2d) and name.endswith(("mlp_gamma", "mlp_beta")):
                module.weight.mul_(0.3)
    return net.eval()


def test_official_keys_convert_to_the_same_output():
    net = _torch_model()
    keras.backend.clear_session()
    model = TSITGenerator(ngf=NGF, levels=LEVELS, image_size=(SIZE, SIZE))
    report = convert.load_state_dict(model, net.state_dict())
    assert "head_0.conv_0.weight" not in report.assigned  # levels 3: the blocks are up_2, up_3
    assert report.assigned["up_2.norm_s.param_free_norm.running_var"].endswith("moving_variance")
    rng = np.random.default_rng(0)
    c, s = (rng.uniform(-1, 1, (2, SIZE, SIZE, 3)).astype(np.float32) for _ in range(2))
    n = rng.standard_normal((2, 4, 4, 3)).astype(np.float32)
    with torch.no_grad():
        want = net(*(torch.from_numpy(a).permute(0, 3, 1, 2) for a in (c, s, n))).permute(0, 2, 3, 1).numpy()
    got = np.asarray(model({"content": c, "style": s, "noise": n}, training=False))
    assert np.abs(want).max() > 1e-2
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_a_missing_key_is_named():
    state = _torch_model().state_dict()
    del state["style_stream.res_1.conv_s.weight_orig"], state["style_stream.res_1.conv_s.weight_u"], \
        state["style_stream.res_1.conv_s.weight_v"]
    keras.backend.clear_session()
    with pytest.raises(ConversionError, match="style_stream.res_1.conv_s.weight"):
        convert.load_state_dict(TSITGenerator(ngf=NGF, levels=LEVELS, image_size=(SIZE, SIZE)), state)
