"""PyTorch -> Keras conversion with the authors' state-dict keys: a torch PointNetVAE written here from the spec
card's facts (random weights and BN statistics, eval mode) and the converted Keras model agree. Also checks the
T-Net's orientation (T p, not T^T p) and the BN / ReLU order against an independent implementation."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch

import research.three_d.limp  # noqa: F401  (registers the variants also before zoo_index lists the package)
from official.core import registry
from research.three_d.limp.convert import ConversionError, load_state_dict

nn = torch.nn


def _conv_bn_relu(a, b):
    return nn.Sequential(nn.Conv1d(a, b, 1), nn.BatchNorm1d(b), nn.ReLU())


class _TNet(nn.Module):
    def __init__(self, convs, fcs):
        super().__init__()
        sizes = (3, *convs)
        self.conv_layers = nn.ModuleList([_conv_bn_relu(sizes[i], sizes[i + 1]) for i in range(len(convs))])
        self.fc_layers = nn.ModuleList([nn.Sequential(nn.Linear(fcs[i], fcs[i + 1]), nn.ReLU())
                                        for i in range(len(fcs) - 1)] + [nn.Linear(fcs[-1], 9)])

    def forward(self, p):  # (B, 3, N) -> (B, 3, 3)
        for layer in self.conv_layers:
            p = layer(p)
        p = p.max(dim=2).values
        for layer in self.fc_layers:
            p = layer(p)
        return p.view(-1, 3, 3) + torch.eye(3)


class _PointNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        sizes = (3, *cfg["conv_sizes"], cfg["desc_size"])
        self.conv_layers = nn.ModuleList([_conv_bn_relu(sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1)])
        self.transformers = nn.ModuleList([_TNet(cfg["tnet_conv_sizes"], cfg["tnet_fc_sizes"])])
        fcs = (cfg["desc_size"], *cfg["fc_sizes"])
        self.fc_layers = nn.ModuleList(
            [nn.Sequential(nn.Linear(fcs[i], fcs[i + 1]), nn.BatchNorm1d(fcs[i + 1]), nn.ReLU())
             for i in range(len(fcs) - 1)] + [nn.Linear(fcs[-1], 2 * cfg["latent_size"])])

    def forward(self, x):  # (B, N, 3)
        p = x.permute(0, 2, 1)
        p = torch.bmm(self.transformers[0](p), p)
        for layer in self.conv_layers:
            p = layer(p)
        p = p.max(dim=2).values
        for layer in self.fc_layers:
            p = layer(p)
        return p


class _Vae(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.enc = nn.Module()
        self.enc.ptnet = _PointNet(cfg)
        h1, h2 = cfg["decoder_sizes"]
        self.dec = nn.Module()
        self.dec.fc1 = nn.Sequential(nn.Linear(cfg["latent_size"], h1), nn.LeakyReLU(), nn.Linear(h1, h2),
                                     nn.LeakyReLU(), nn.Linear(h2, 3 * cfg["num_points"]))


def test_torch_state_dict_converts_and_matches():
    keras.backend.clear_session()
    model = registry.create_model("limp_tiny")
    cfg = model.get_config()
    torch.manual_seed(0)
    ref = _Vae(cfg).eval()
    with torch.no_grad():
        for name, buf in ref.named_buffers():
            if name.endswith("running_mean"):
                buf.normal_(0.0, 0.1)
            elif name.endswith("running_var"):
                buf.uniform_(0.5, 1.5)
        for name, p in ref.named_parameters():
            if ".1.weight" in name and p.ndim == 1:  # BN gamma
                p.uniform_(0.5, 1.5)
            elif name.endswith("bias"):
                p.normal_(0.0, 0.1)
    state = ref.state_dict()
    load_state_dict(model, state)
    x = np.random.default_rng(0).normal(scale=0.5, size=(2, 194, 3)).astype(np.float32)
    with torch.no_grad():
        latent = ref.enc.ptnet(torch.from_numpy(x)).numpy()
        decoded = ref.dec.fc1(torch.from_numpy(latent[:, :32])).numpy().reshape(2, 194, 3)
    rec, mu, logvar = (np.asarray(t) for t in model(x, training=False))
    assert np.abs(latent).max() > 0.1
    np.testing.assert_allclose(mu, latent[:, :32], atol=1e-4)
    np.testing.assert_allclose(logvar, latent[:, 32:], atol=1e-4)
    np.testing.assert_allclose(rec, decoded, atol=1e-4)
    del state["dec.fc1.4.bias"]
    with pytest.raises(ConversionError, match="dec.fc1.4.bias"):
        load_state_dict(model, state)
