"""The official FCN4 side checkpoint -> fcn4_side, and loading converted weights into a SideTuneNet.

A state dict with the official key names and shapes (tlkit FCN4: conv1-3 = conv + GroupNorm, conv5 =
conv) is converted and compared with a forward written here from torch.nn.functional; the stub
unpickler reads a checkpoint that pickles a class from a module that does not exist here.
"""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
import torch

from official.core import registry
from official.core.checkpoint_convert import ConversionError, read_pytorch_checkpoint
from official.training.side_tuning.method import load_sides
from official.vision.side_tuning.convert import convert_pytorch, load_state_dict
from official.vision.side_tuning.model import SideTuneNet

F = torch.nn.functional

SHAPES = {"conv1": (16, 3), "conv2": (16, 16), "conv3": (32, 16), "conv5": (64, 32)}


def _state(seed=0):
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for name, (o, i) in SHAPES.items():
        sd[f"{name}.0.weight"] = torch.randn(o, i, 3, 3, generator=g) * 0.3
        if name != "conv5":
            sd[f"{name}.1.weight"] = 1 + 0.2 * torch.randn(o, generator=g)
            sd[f"{name}.1.bias"] = 0.2 * torch.randn(o, generator=g)
    return sd


def _torch_fcn4(sd, x):
    y = torch.from_numpy(x.transpose(0, 3, 1, 2))
    for name, (stride, pad) in {"conv1": (1, 1), "conv2": (2, 0), "conv3": (2, 0), "conv5": (1, 0)}.items():
        y = F.conv2d(y, sd[f"{name}.0.weight"], stride=stride, padding=pad)
        if name != "conv5":
            y = F.group_norm(y, 2, sd[f"{name}.1.weight"], sd[f"{name}.1.bias"], eps=1e-5)
        y = F.relu(y)
    return y.mean(dim=(2, 3)).numpy()


def test_official_fcn4_keys_convert_to_the_same_features(tmp_path):
    sd = _state()
    model = registry.create_model("fcn4_side")
    report = load_state_dict(model, sd)
    assert len(report.assigned) == 10
    x = np.random.default_rng(0).normal(size=(3, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(model(x)), _torch_fcn4(sd, x), atol=2e-5)
    with pytest.raises(ConversionError, match="conv5.0.weight"):
        load_state_dict(registry.create_model("fcn4_side"), {k: v for k, v in sd.items() if k != "conv5.0.weight"})


def test_a_pickled_module_of_missing_code_loads_with_allow_pickle_and_fills_every_side(tmp_path, monkeypatch):
    # The official file pickles the authors' model object, whose module (`feature_selector`) is not
    # importable here: write one such file through a module that exists only while saving.
    authors = types.ModuleType("feature_selector")
    authors.FeatureSelector = type("FeatureSelector", (), {"__module__": "feature_selector"})
    monkeypatch.setitem(sys.modules, "feature_selector", authors)
    path = tmp_path / "fcn4-cifar.pth"
    state = {f"module.{k}": v for k, v in _state(1).items()}
    torch.save({"state_dict": state, "model": authors.FeatureSelector(), "epoch": 3}, str(path),
               _use_new_zipfile_serialization=False)
    monkeypatch.delitem(sys.modules, "feature_selector")
    with pytest.raises(ConversionError):
        read_pytorch_checkpoint(str(path))  # weights-only refuses the pickled object
    out = convert_pytorch(str(path), str(tmp_path / "conv"), "fcn4_side", allow_pickle=True)
    assert out["tensors"] == 10
    net = SideTuneNet(base="resnet20_cifar", num_tasks=2, classes_per_task=3)
    load_sides(net, str(tmp_path / "conv" / "model.weights.h5"))
    import keras

    x = np.random.default_rng(2).normal(size=(2, 32, 32, 3)).astype("float32")
    for k in range(2):
        side = keras.Model(net.images_input, net.get_layer(f"side{k}_pool").output)
        np.testing.assert_allclose(np.asarray(side(x)), _torch_fcn4(_state(1), x), atol=2e-5)
