"""PointNet++ converter (METHOD_CONTRACT item 8): a state dict with the official Pointnet2MSG key names and shapes
(fixtures/pointnet2_msg_keys.txt, read off yunlu-chen/PointMixup's pointnet2_msg_cls.py and etw_pytorch_utils:
SharedMLP layer{i}.conv / .normlayer.bn, Seq FC_layer.{0,2,4}.fc / .bn.bn) converts through tools.convert_checkpoint
(trainer checkpoint {"model_state": ...}); every tensor lands transposed where it belongs; strict errors name keys.
The torch functional forward of the official structure vs the converted model is .peer/pointnet2_parity.py (card)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from official.core.checkpoint_convert import ConversionError
from official.core.registry import create_model
from official.vision.pointnet2 import variants  # noqa: F401
from official.vision.pointnet2.convert import load_state_dict
from tools.convert_checkpoint import convert

KEYS = os.path.join(os.path.dirname(__file__), "fixtures", "pointnet2_msg_keys.txt")


def official_state(seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    state = {}
    for line in open(KEYS):
        if line.startswith("#") or not line.strip():
            continue
        key, shape = line.rstrip("\n").split("\t")
        shape = tuple(int(s) for s in shape.split(","))
        value = torch.rand(shape, generator=g) + 0.5 if key.endswith("running_var") else torch.randn(shape, generator=g)
        state[key] = value
        if key.endswith("running_var"):
            state[key.replace("running_var", "num_batches_tracked")] = torch.tensor(3)
    return state


def test_official_keys_convert_with_every_tensor_in_place(tmp_path):
    state = official_state()
    trainable = sum(v.numel() for k, v in state.items() if "running" not in k and "num_batches" not in k)
    assert trainable == 1_742_856  # the card's hand count, from the official key list alone
    src = str(tmp_path / "ckpt.pth.tar")
    torch.save({"model_state": state, "epoch": 3}, src)
    summary = convert("pytorch", "pointnet2_msg_modelnet40", src, str(tmp_path / "out"), checkpoint_key="model_state")
    assert summary["tensors"] == 117 and summary["skipped"] == 23  # num_batches_tracked of the 23 BNs
    model = create_model("pointnet2_msg_modelnet40")
    model.load_weights(os.path.join(str(tmp_path / "out"), "model.weights.h5"))
    mlp = model.get_layer("sa2").mlps[1]
    np.testing.assert_array_equal(np.asarray(mlp.convs[2].kernel), state["SA_modules.1.mlps.1.layer2.conv.weight"][:, :, 0, 0].numpy().T)
    np.testing.assert_array_equal(np.asarray(mlp.norms[0].moving_variance), state["SA_modules.1.mlps.1.layer0.normlayer.bn.running_var"].numpy())
    np.testing.assert_array_equal(np.asarray(model.get_layer("fc2").kernel), state["FC_layer.2.fc.weight"].numpy().T)
    np.testing.assert_array_equal(np.asarray(model.get_layer("logits").bias), state["FC_layer.4.fc.bias"].numpy())
    np.testing.assert_array_equal(np.asarray(model.get_layer("fc1_bn").gamma), state["FC_layer.0.bn.bn.weight"].numpy())


def test_strict_errors_name_the_key():
    model = create_model("pointnet2_msg_modelnet40")
    state = official_state()
    state.pop("SA_modules.2.mlps.0.layer1.conv.weight")
    with pytest.raises(ConversionError, match="SA_modules.2.mlps.0.layer1.conv.weight"):
        load_state_dict(model, state)
    state = official_state()
    state["mixupbias_layer.0.fc.weight"] = torch.zeros(64, 1)
    with pytest.raises(ConversionError, match="mixupbias_layer.0.fc.weight"):
        load_state_dict(model, state)
