"""COCO-FUNIT converter (contract item 8): a torch generator written from the spec card with imaginaire's
module names (so its state_dict has the official keys and shapes) is saved as a trainer checkpoint holding
the live generator and its average; tools.convert_checkpoint picks the average, and the Keras model with
the converted weights gives the torch module's output (atol 1e-4) on the same content / style images."""

from __future__ import annotations

import keras
import numpy as np
import torch
from torch import nn

import research.generative.coco_funit  # noqa: F401  (registration)
from official.core import registry
from tools import convert_checkpoint

torch.manual_seed(0)


class AdaNorm(nn.Module):
    def __init__(self, channels, cond):
        super().__init__()
        self.norm = nn.InstanceNorm2d(channels, affine=False)
        self.fc = nn.Linear(cond, 2 * channels)

    def forward(self, x, w):
        gamma, beta = self.fc(w).chunk(2, 1)
        return self.norm(x) * (1 + gamma[:, :, None, None]) + beta[:, :, None, None]


class ConvBlock(nn.Module):
    def __init__(self, cin, cout, k, s=1, p=None, norm="", act="relu", cond=0):
        super().__init__()
        self.layers = nn.ModuleDict({"conv": nn.Conv2d(cin, cout, k, s, k // 2 if p is None else p, padding_mode="reflect")})
        if norm == "instance":
            self.layers["norm"] = nn.InstanceNorm2d(cout, affine=True)
        elif norm == "adaptive":
            self.layers["norm"] = AdaNorm(cout, cond)
        self.norm, self.act = norm, act

    def forward(self, x, w=None):
        x = self.layers["conv"](x)
        if self.norm == "instance":
            x = self.layers["norm"](x)
        elif self.norm == "adaptive":
            x = self.layers["norm"](x, w)
        return torch.relu(x) if self.act == "relu" else torch.tanh(x)


class ResBlock(nn.Module):
    def __init__(self, c, norm, cond=0, k=3):
        super().__init__()
        self.conv_block_0 = ConvBlock(c, c, k, norm=norm, cond=cond)
        self.conv_block_1 = ConvBlock(c, c, k, norm=norm, cond=cond)

    def forward(self, x, w=None):
        return x + self.conv_block_1(self.conv_block_0(x, w), w)


class UpResBlock(nn.Module):
    def __init__(self, cin, cout, cond):
        super().__init__()
        self.conv_block_0 = ConvBlock(cin, cout, 5, norm="adaptive", cond=cond)
        self.conv_block_1 = ConvBlock(cout, cout, 5, norm="adaptive", cond=cond)
        self.conv_block_s = ConvBlock(cin, cout, 1, norm="adaptive", cond=cond)

    def forward(self, x, w):
        up = lambda t: nn.functional.interpolate(t, scale_factor=2, mode="nearest")  # noqa: E731
        return self.conv_block_s(up(x), w) + self.conv_block_1(up(self.conv_block_0(x, w)), w)


class Linear(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.layers = nn.ModuleDict({"linear": nn.Linear(cin, cout)})

    def forward(self, x):
        return torch.relu(self.layers["linear"](x))


def mlp(cin, hidden, cout):
    m = nn.Module()
    m.model = nn.Sequential(Linear(cin, hidden), Linear(hidden, cout))
    return m


class Translator(nn.Module):
    """COCOFUNITTranslator from the card: tiny widths (the coco_funit_tiny variant)."""

    def __init__(self, f=8, mlp_dims=16, style_dims=8, usb=16, res=1, down_c=2, down_s=3):
        super().__init__()
        enc = [ConvBlock(3, f, 7, norm="instance")]
        c = f
        for _ in range(down_c):
            enc.append(ConvBlock(c, 2 * c, 4, 2, 1, norm="instance"))
            c *= 2
        enc += [ResBlock(c, "instance") for _ in range(res)]
        self.content_encoder = nn.Module()
        self.content_encoder.model = nn.Sequential(*enc)
        sty, s = [ConvBlock(3, f, 7, norm="")], f
        for i in range(down_s):
            sty.append(ConvBlock(s, 2 * s if i < 2 else s, 4, 2, 1))
            s = 2 * s if i < 2 else s
        sty += [nn.AdaptiveAvgPool2d(1), nn.Conv2d(s, style_dims, 1)]
        self.style_encoder = nn.Module()
        self.style_encoder.model = nn.Sequential(*sty)
        self.mlp_content, self.mlp_style = mlp(c, mlp_dims, style_dims), mlp(style_dims + usb, mlp_dims, style_dims)
        self.mlp = mlp(style_dims, mlp_dims, mlp_dims)
        self.usb = nn.Parameter(torch.randn(1, usb))
        dec = [ResBlock(c, "adaptive", mlp_dims) for _ in range(res)]
        for _ in range(down_c):
            dec.append(UpResBlock(c, c // 2, mlp_dims))
            c //= 2
        dec.append(ConvBlock(c, 3, 7, act="tanh"))
        self.decoder = nn.Module()
        self.decoder.decoder = nn.ModuleList(dec)

    def forward(self, content, style):
        c = self.content_encoder.model(content)
        s = self.style_encoder.model(style).flatten(1)
        z_c = self.mlp_content.model(c.mean((2, 3)))
        z_s = self.mlp_style.model(torch.cat([s, self.usb.repeat(len(s), 1)], 1))
        w = self.mlp.model(z_s * z_c)
        x = c
        for block in self.decoder.decoder[:-1]:
            x = block(x, w)
        return self.decoder.decoder[-1](x)


def _randomise(module):
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.randn_like(p) * (0.1 if name.endswith("bias") or "norm" in name else 1.0 / np.sqrt(
                max(1, p[0].numel()))))


def test_official_keys_convert_and_match_torch(tmp_path):
    keras.backend.clear_session()
    live, average = Translator(), Translator()
    _randomise(live)
    _randomise(average)
    live_state = {f"module.module.generator.{k}": v for k, v in live.state_dict().items()}
    avg_state = {f"module.averaged_model.generator.{k}": v for k, v in average.state_dict().items()}
    assert "module.averaged_model.generator.decoder.decoder.1.conv_block_s.layers.norm.fc.weight" in avg_state
    src = str(tmp_path / "coco_funit.pt")
    torch.save({"net_G": {**avg_state, **live_state}}, src)  # the live copy last: a converter ignoring the average keeps it
    result = convert_checkpoint.convert("pytorch", "coco_funit_tiny", src, str(tmp_path / "out"), checkpoint_key="net_G")
    assert result["tensors"] == len(avg_state)
    model = registry.create_model("coco_funit_tiny")
    model.load_weights(result["outputs"]["model.weights.h5"])
    rng = np.random.default_rng(0)
    content, style = (rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32") for _ in range(2))
    with torch.no_grad():
        want = average(*(torch.from_numpy(x.transpose(0, 3, 1, 2)) for x in (content, style))).numpy().transpose(0, 2, 3, 1)
    got = np.asarray(model({"content": content, "style": style}))
    assert want.std() > 0.05
    np.testing.assert_allclose(got, want, atol=1e-4)
