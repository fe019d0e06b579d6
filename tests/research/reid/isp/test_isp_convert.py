"""ISP converter: a torch.save'd state dict with the official key names and shapes (Baseline layout:
base.*, bottleneck_*, classifier_*, num_batches_tracked, zero BNNeck shifts, DataParallel prefix) goes
through `tools.convert_checkpoint` into a model with the same outputs; wrong checkpoints are one-line
errors. The W32 key set itself equals the official one (test_isp_model)."""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest
import torch

from official.core import registry
from official.core.checkpoint_convert import ConversionError, torch_shape
from research.reid.isp import convert as isp_convert
from tests import helpers
from tools.convert_checkpoint import convert

KW = dict(num_classes=5)


def _official_state(model, seed=0, prefix=""):
    """The tiny model's weights as the official module would hold them (torch layouts)."""
    helpers.randomise_weights(model, seed)
    state = {}
    for key, var, transform in isp_convert.weight_map(model):
        value = np.asarray(var)
        if transform is isp_convert.torch_conv:
            value = np.transpose(value, (3, 2, 0, 1))
        elif transform is np.transpose:
            value = value.T
        assert value.shape == torch_shape(tuple(var.shape)) or transform is np.transpose
        state[prefix + key] = torch.from_numpy(np.ascontiguousarray(value))
        if key.endswith("running_var"):
            state[prefix + key.replace("running_var", "num_batches_tracked")] = torch.tensor(7)
    for b in ("part", "global", "fore"):
        state[f"{prefix}bottleneck_{b}.bias"] = torch.zeros(model.get_layer(f"bottleneck_{b}").gamma.shape[0])
    return state


def test_convert_official_state_dict(tmp_path):
    keras.backend.clear_session()
    source = registry.create_model("isp_hrnet_tiny", **KW)
    src = os.path.join(tmp_path, "isp.pth")
    torch.save(_official_state(source, prefix="module."), src)
    x = np.random.default_rng(0).normal(size=(2, 64, 32, 3)).astype(np.float32)
    want = source(x, training=False)
    out = convert("pytorch", "isp_hrnet_tiny", src, os.path.join(tmp_path, "out"))
    assert out["skipped"] > 3  # num_batches_tracked + the three frozen shifts
    converted = keras.saving.load_model(out["outputs"]["model.keras"])
    assert converted.get_layer("classifier_global").kernel.shape == (16, 5)  # num_classes read from the file
    got = converted(x, training=False)
    for key in ("features", "part_logits", "feature_map"):
        np.testing.assert_allclose(np.asarray(got[key]), np.asarray(want[key]), atol=1e-5)


def test_wrong_checkpoints_are_one_line_errors(tmp_path):
    keras.backend.clear_session()
    model = registry.create_model("isp_hrnet_tiny", **KW)
    state = {k: v.numpy() for k, v in _official_state(model).items()}
    bad = dict(state)
    bad["bottleneck_fore.bias"] = np.ones_like(bad["bottleneck_fore.bias"])
    with pytest.raises(ConversionError, match="bottleneck_fore.bias' is not zero"):
        isp_convert.load_state_dict(model, bad)
    missing = {k: v for k, v in state.items() if k != "base.cls_head.0.weight"}
    with pytest.raises(ConversionError, match="checkpoint has no 'base.cls_head.0.weight'"):
        isp_convert.load_state_dict(model, missing)
    extra = {**state, "base.final_layer.0.weight": np.zeros((2048, 1024, 1, 1))}
    with pytest.raises(ConversionError, match="'base.final_layer.0.weight' has no place"):
        isp_convert.load_state_dict(model, extra)
