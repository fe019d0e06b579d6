"""DSA official weights (METHOD_CONTRACT 8): a state dict with the official key names and shapes of
`cifar10_resnet20_dsconv_masked_plan1_bn` (models/resnet_cifar10.py, models/op.py), random values and
random 0/1 masks shared within each official group, saved as the released `{"net": ..., "acc", "epoch"}`
with torch.save, goes through tools.convert_checkpoint; the dense (masks folded) and the physically pruned
Keras models give the logits of a torch.nn.functional forward written here from the official layer
semantics: MaskedConvBNReLU = conv -> BN (eval) -> x mask (-> ReLU); block = relu(op_2(op_1(x)) + skip);
stem, three stages, AvgPool2d(8), Linear."""

from __future__ import annotations

import json
import os

import keras
import numpy as np
import pytest
import torch

F = torch.nn.functional

from official.core.checkpoint_convert import ConversionError  # noqa: E402
from tools import convert_checkpoint  # noqa: E402

N = 3  # ResNet-20
WIDTHS = (16, 32, 64)


def official_modules(n: int = N):
    """(prefix, c_in, c_out, kernel, stride, padding, relu) of every MaskedConvBNReLU, and the official
    groups (stem + stage 1's op_2; per later stage its skip_op + op_2s; every op_1 alone)."""
    mods = [("stem", 3, 16, 3, 1, 1, True)]
    stream = ["stem"]
    groups = [stream]
    c_in = 16
    for s, c in enumerate(WIDTHS, start=1):
        for b in range(n):
            stride = 2 if (b == 0 and s > 1) else 1
            p = f"layer{s}.{b}"
            if stride == 2:
                stream = []
                groups.append(stream)
            mods += [(f"{p}.op_1", c_in, c, 3, stride, 1, True), (f"{p}.op_2", c, c, 3, 1, 1, False)]
            groups.append([f"{p}.op_1"])
            stream.append(f"{p}.op_2")
            if c_in != c:
                mods.append((f"{p}.skip_op", c_in, c, 1, stride, 0, False))
                stream.append(f"{p}.skip_op")
            c_in = c
    return mods, groups


def official_state(seed: int = 0):
    rng = np.random.default_rng(seed)
    mods, groups = official_modules()
    t = lambda a: torch.tensor(np.asarray(a, np.float32))  # noqa: E731
    sd = {}
    for p, ci, co, k, *_ in mods:
        sd[f"{p}.conv.weight"] = t(rng.normal(0, np.sqrt(2.0 / (ci * k * k)), (co, ci, k, k)))
        sd[f"{p}.bn.weight"] = t(rng.uniform(0.5, 1.5, co))
        sd[f"{p}.bn.bias"] = t(rng.normal(0, 0.3, co))
        sd[f"{p}.bn.running_mean"] = t(rng.normal(0, 0.3, co))
        sd[f"{p}.bn.running_var"] = t(rng.uniform(0.5, 2.0, co))
        sd[f"{p}.bn.num_batches_tracked"] = torch.tensor(7)
        sd[f"{p}.invsigmoid_keep_ratio"] = t([rng.normal()])
        sd[f"{p}.invsp_beta_1"] = t([0.5413])
        sd[f"{p}.invsp_beta_2"] = t([rng.normal()])
        sd[f"{p}.temperature"] = t([0.001])
    width = {p: co for p, _, co, *_ in mods}
    for members in groups:  # one mask per group, as PrimalComponent.decide_mask sets it on every member
        c = width[members[0]]
        mask = (rng.uniform(size=c) < 0.6).astype(np.float32)
        mask[rng.integers(c)] = 1.0
        for p in members:
            sd[f"{p}.mask"] = t(mask)
    sd["classifier.0.weight"] = t(rng.normal(0, 0.3, (10, 64)))
    sd["classifier.0.bias"] = t(rng.normal(0, 0.3, 10))
    return sd, mods


def official_forward(sd, mods, x):
    """The official masked network in eval mode, from its layer semantics."""
    spec = {p: (s, pad, relu) for p, _, _, _, s, pad, relu in mods}

    def unit(h, p):
        stride, pad, relu = spec[p]
        h = F.conv2d(h, sd[f"{p}.conv.weight"], stride=stride, padding=pad)
        h = F.batch_norm(h, sd[f"{p}.bn.running_mean"], sd[f"{p}.bn.running_var"], sd[f"{p}.bn.weight"],
                         sd[f"{p}.bn.bias"], training=False, eps=1e-5)
        h = h * sd[f"{p}.mask"].reshape(1, -1, 1, 1)
        return F.relu(h) if relu else h

    h = unit(x, "stem")
    for s in range(1, 4):
        for b in range(N):
            p = f"layer{s}.{b}"
            out = unit(unit(h, f"{p}.op_1"), f"{p}.op_2")
            h = F.relu(out + (unit(h, f"{p}.skip_op") if f"{p}.skip_op" in spec else h))
    h = F.avg_pool2d(h, 8).flatten(1)
    return F.linear(h, sd["classifier.0.weight"], sd["classifier.0.bias"]).numpy()


def test_official_dsa_checkpoint_converts_to_dense_and_pruned_models(tmp_path):
    sd, mods = official_state()
    src = str(tmp_path / "ckpt.t7")
    torch.save({"net": sd, "acc": 91.0, "epoch": 300}, src)
    result = convert_checkpoint.convert("pytorch", "resnet20_cifar_dsconv", src, str(tmp_path / "out"))
    assert result["skipped"] == len(mods)  # num_batches_tracked
    x = np.random.default_rng(1).normal(size=(2, 32, 32, 3)).astype(np.float32)
    expected = official_forward(sd, mods, torch.tensor(x.transpose(0, 3, 1, 2)))
    dense = keras.saving.load_model(result["outputs"]["model.keras"])
    pruned = keras.saving.load_model(result["outputs"]["pruned.keras"])
    np.testing.assert_allclose(np.asarray(dense(x, training=False)), expected, atol=1e-4)
    np.testing.assert_allclose(np.asarray(pruned(x, training=False)), expected, atol=1e-4)
    # the pruned convs keep exactly the masked channels: filters = mask sum, inputs = the previous kept
    kept = {p: int(sd[f"{p}.mask"].sum()) for p, *_ in mods}
    conv = pruned.get_layer("resnet_layer2_0_down_conv")
    assert conv.kernel.shape == (1, 1, kept["layer1.2.op_2"], kept["layer2.0.skip_op"])
    assert pruned.get_layer("resnet_layer3_1_1_conv").kernel.shape == (3, 3, kept["layer3.0.op_2"], kept["layer3.1.op_1"])
    assert pruned.get_layer("logits").kernel.shape == (kept["layer3.2.op_2"], 10)
    with open(result["outputs"]["conversion.json"], encoding="utf-8") as f:
        report = json.load(f)
    assert len(report["groups"]) == 12 and all(g["masks_agree"] for g in report["groups"])
    stage2 = next(g for g in report["groups"] if "layer2.0.skip_op" in g["members"])
    assert sorted(stage2["members"]) == sorted(["layer2.0.skip_op", "layer2.0.op_2", "layer2.1.op_2", "layer2.2.op_2"])
    theta = float(sd["layer2.0.skip_op.invsigmoid_keep_ratio"][0])  # the group's primal (first in topological order)
    assert stage2["alpha"] == pytest.approx(1 / (1 + np.exp(-theta)), rel=1e-6)
    assert report["madds"]["pruned"] < report["madds"]["dense"]
    assert os.path.isfile(result["outputs"]["model.weights.h5"])


def test_missing_mask_is_a_one_line_error(tmp_path):
    sd, _ = official_state()
    del sd["layer2.1.op_1.mask"]
    src = str(tmp_path / "ckpt.t7")
    torch.save({"net": sd}, src)
    with pytest.raises(ConversionError, match=r"no 'layer2\.1\.op_1\.mask'"):
        convert_checkpoint.convert("pytorch", "resnet20_cifar_dsconv", src, str(tmp_path / "out"))
    assert not os.path.exists(tmp_path / "out")


def test_pickled_module_checkpoint_reads_through_stubs(tmp_path, monkeypatch):
    """A checkpoint pickling the authors' module itself (their classes not importable here): with
    --allow_pickle the stub unpickler stands in for the classes and the tensors come from the module tree,
    named as in its state_dict (persistent buffers such as `mask` included)."""
    import sys
    import types

    from official.training.dsa.convert import read_state_dict

    fake = types.ModuleType("dsa_authors_models")

    class Unit(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3, bias=False)
            self.bn = torch.nn.BatchNorm2d(4)
            self.register_buffer("mask", torch.tensor([1.0, 0.0, 1.0, 1.0]))
            self.register_buffer("scratch", torch.ones(2), persistent=False)
            self.invsigmoid_keep_ratio = torch.nn.Parameter(torch.tensor([5.0]))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = Unit()
            self.classifier = torch.nn.Sequential(torch.nn.Linear(4, 2))

    for cls in (Unit, Net):
        cls.__module__, cls.__qualname__ = fake.__name__, cls.__name__
        setattr(fake, cls.__name__, cls)
    monkeypatch.setitem(sys.modules, fake.__name__, fake)
    net = Net()
    src = str(tmp_path / "ckpt.t7")
    torch.save({"net": net, "acc": 1.0}, src)
    monkeypatch.delitem(sys.modules, fake.__name__)
    got = read_state_dict(src, allow_pickle=True)
    want = {k: v.numpy() for k, v in net.state_dict().items()}
    assert sorted(got) == sorted(want) and "stem.mask" in got and "stem.scratch" not in got
    for key, value in want.items():
        np.testing.assert_array_equal(got[key], value)
    with pytest.raises(ConversionError, match="allow_pickle"):
        read_state_dict(src)
