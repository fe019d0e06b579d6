"""Official MemDPC checkpoints -> MemDpc (METHOD_CONTRACT item 8): a state dict with the authors' key names and
shapes (torch modules under MemDPC_BD's attribute names, tiny widths) converts through tools.convert_checkpoint's
dispatch; the converted encoder equals a torch forward of resnet_2d3d's blocks. The parity with the authors' own
module is benchmarks/memdpc_torch_parity.py (benchmarks/results/memdpc_torch_parity.json)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

nn = torch.nn

WIDTHS, MEM = (8, 16, 32, 32), 64  # memdpc_tiny


class Block(nn.Module):
    """BasicBlock2d / 3d under the official attribute names."""

    def __init__(self, inp, planes, stride, kind, final):
        super().__init__()
        k, p = ((1, 3, 3), (0, 1, 1)) if kind == "2d" else (3, 1)
        s = (1, stride, stride) if kind == "2d" else stride
        self.conv1, self.bn1 = nn.Conv3d(inp, planes, k, s, p, bias=False), nn.BatchNorm3d(planes)
        self.conv2, self.bn2 = nn.Conv3d(planes, planes, k, 1, p, bias=False), nn.BatchNorm3d(planes)
        self.downsample = (nn.Sequential(nn.Conv3d(inp, planes, 1, s, bias=False), nn.BatchNorm3d(planes))
                           if stride != 1 or inp != planes else None)
        self.final = final

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        y = y + (self.downsample(x) if self.downsample is not None else x)
        return y if self.final else torch.relu(y)


def official_like_net() -> nn.Module:
    torch.manual_seed(0)
    bb = nn.Module()
    bb.conv1, bb.bn1 = nn.Conv3d(3, 64, (1, 7, 7), (1, 2, 2), (0, 3, 3), bias=False), nn.BatchNorm3d(64)
    inp = 64
    for s, (w, kind, stride) in enumerate(zip(WIDTHS, ("2d", "2d", "3d", "3d"), (1, 2, 2, 2), strict=True), 1):
        setattr(bb, f"layer{s}", nn.Sequential(Block(inp, w, stride, kind, s == 4)))
        inp = w
    net = nn.Module()
    net.backbone = bb
    for agg in ("agg_f", "agg_b"):
        cell = nn.Module()
        for g in ("reset_gate", "update_gate", "out_gate"):
            setattr(cell, g, nn.Conv2d(64, 32, 1))
        gru = nn.Module()
        gru.ConvGRUCell_00 = cell
        gru.cell_list = nn.ModuleList([cell])  # convrnn.ConvGRU registers the cell under both names
        setattr(net, agg, gru)
    net.mb = nn.Parameter(torch.randn(MEM, 32))
    net.network_pred = nn.Sequential(nn.Conv2d(32, 32, 1), nn.ReLU(), nn.Conv2d(32, MEM, 1))
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm3d):
                m.running_mean.uniform_(-0.2, 0.2), m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5), m.bias.uniform_(-0.2, 0.2)
    return net.eval()


def backbone_forward(bb, block):
    x = torch.relu(bb.bn1(bb.conv1(block)))
    x = nn.functional.max_pool3d(x, (1, 3, 3), (1, 2, 2), (0, 1, 1))
    for s in range(1, 5):
        x = getattr(bb, f"layer{s}")(x)
    return x


def test_converted_checkpoint_matches_torch_encoder(tmp_path):
    import keras

    from official.core.checkpoint_convert import ConversionError
    from official.core.registry import create_model
    from research.video.memdpc import convert
    from tools import convert_checkpoint

    net = official_like_net()
    state = {"module." + k: v for k, v in net.state_dict().items()}  # DataParallel prefix, as main.py saves
    assert "module.agg_f.cell_list.0.reset_gate.weight" in state and "module.backbone.layer4.0.downsample.1.running_var" in state
    src = str(tmp_path / "memdpc.pth.tar")
    torch.save({"epoch": 1, "state_dict": state}, src)
    summary = convert_checkpoint.convert("pytorch", "memdpc_tiny", src, str(tmp_path / "out"))
    assert summary["tensors"] == len([k for k in state if "cell_list" not in k and "num_batches" not in k])
    model = keras.models.load_model(os.path.join(tmp_path, "out", "model.keras"))
    clip = np.random.default_rng(0).normal(size=(1, 8, 5, 64, 64, 3)).astype("float32")
    feats = np.asarray(model(clip, training=False)["features"])
    with torch.no_grad():
        block = torch.from_numpy(clip[0]).permute(0, 4, 1, 2, 3)  # (N, 3, SL, H, W)
        ref = backbone_forward(net.backbone, block).mean(2).permute(0, 2, 3, 1).numpy()  # avg_pool over 2 frames
    np.testing.assert_allclose(feats[0], ref, atol=1e-4)
    mem = model.get_layer("memdpc").predictor
    np.testing.assert_array_equal(np.asarray(mem.memory), net.mb.detach().numpy())
    bad = dict(state)
    bad["module.agg_f.cell_list.0.reset_gate.bias"] = bad["module.agg_f.cell_list.0.reset_gate.bias"] + 1
    with pytest.raises(ConversionError, match="differs"):
        convert.load_state_dict(model, bad)
    with pytest.raises(ConversionError, match="has no 'final_bn.weight'"):
        convert.load_state_dict(create_model("memdpc_tiny_lc"), state)  # pretext dict into the LC model
