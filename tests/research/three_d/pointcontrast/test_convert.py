"""The official-checkpoint converter: a state dict with the official names through tools.convert_checkpoint,
and the converted kernels against PyTorch dense convolutions read the MinkowskiEngine way (card check 8).

MinkowskiEngine cannot be installed here; its kernel semantics (out[p] = sum_k in[p + offset_k] K[k],
offsets x-fastest, odd kernels centred, even kernels 0..k-1 from the output, transposed kernels through
the swapped map) are what a dense torch.nn.functional.conv3d / conv_transpose3d with the kernel
reshaped to (out, in, x, y, z) computes on a fully occupied grid.
"""

from __future__ import annotations

import numpy as np
import torch

from official.core import registry
from official.ops import voxel_ops
from research.three_d.pointcontrast import convert
from tools import convert_checkpoint

BITS = 5


def _official_state_dict(model, rng) -> dict:
    """Random tensors under the official key names and ME shapes (bias (1, C)), as the .pth holds them."""
    state = {}
    for key, variable, _ in convert.weight_map(model):
        shape = (1, variable.shape[0]) if key == "final.bias" else tuple(variable.shape)
        value = rng.uniform(0.5, 1.5, shape) if key.endswith("running_var") else rng.normal(0, 0.3, shape)
        state[key] = torch.tensor(value, dtype=torch.float32)
        if key.endswith("running_var"):
            state[key.replace("running_var", "num_batches_tracked")] = torch.tensor(7)
    return {"state_dict": {f"module.{k}": v for k, v in state.items()}, "curr_iter": 60000}


def _torch_weight(kernel: np.ndarray) -> torch.Tensor:
    """ME (k^3, in, out), x fastest -> torch (out, in, x, y, z)."""
    k = round(kernel.shape[0] ** (1 / 3))
    return torch.tensor(kernel.reshape(k, k, k, *kernel.shape[1:]).transpose(4, 3, 2, 1, 0).copy())


def _grid(size):
    c = np.stack(np.meshgrid(*[np.arange(size)] * 3, indexing="ij"), -1).reshape(-1, 3).astype(np.int32)
    return c, np.zeros(len(c), np.int32), np.ones(len(c), bool)


def _dense(coords, values, size):
    out = np.zeros((1, values.shape[1], size, size, size), np.float32)
    out[0][:, coords[:, 0], coords[:, 1], coords[:, 2]] = values.T
    return torch.tensor(out)


def test_convert_official_state_dict_and_dense_torch_parity(tmp_path):
    rng = np.random.default_rng(0)
    model = registry.create_model("pointcontrast_res16unet_test")
    ckpt = _official_state_dict(model, rng)
    src = str(tmp_path / "checkpoint.pth")
    torch.save(ckpt, src)
    summary = convert_checkpoint.convert("pytorch", "pointcontrast_res16unet_test", src, str(tmp_path / "out"))
    assert summary["tensors"] == len(convert.weight_map(model)) and summary["skipped"] > 0
    import keras

    converted = keras.saving.load_model(str(tmp_path / "out" / "model.keras"))
    state = {k[len("module."):]: v.numpy() for k, v in ckpt["state_dict"].items()}
    np.testing.assert_array_equal(np.asarray(converted.final.bias), state["final.bias"][0])
    np.testing.assert_array_equal(np.asarray(converted.bn0.moving_variance), state["bn0.bn.running_var"])

    size = 4
    coords, batch, mask = _grid(size)
    table = voxel_ops.key_table(voxel_ops.linear_keys(coords, batch, mask, BITS))
    x = rng.normal(size=(len(coords), 3)).astype(np.float32)
    # conv0p1s1: 3^3, stride 1 (SAME)
    got = np.asarray(converted.conv0(x, voxel_ops.conv_kernel_map(table, coords, batch, mask, 3, 1, BITS)))
    want = torch.nn.functional.conv3d(_dense(coords, x, size), _torch_weight(state["conv0p1s1.kernel"]), padding=1)
    np.testing.assert_allclose(got, want[0].numpy()[:, coords[:, 0], coords[:, 1], coords[:, 2]].T, atol=1e-5)
    # conv1p1s2: 2^3, stride 2
    h = rng.normal(size=(len(coords), 4)).astype(np.float32)
    cc, cb, cm = (np.asarray(t) for t in voxel_ops.downsample(coords, batch, mask, 2, BITS))
    got = np.asarray(converted.down_convs[0](h, voxel_ops.conv_kernel_map(table, cc, cb, cm, 2, 2, BITS)))[cm]
    want = torch.nn.functional.conv3d(_dense(coords, h, size), _torch_weight(state["conv1p1s2.kernel"]), stride=2)
    c = cc[cm]
    np.testing.assert_allclose(got, want[0].numpy()[:, c[:, 0], c[:, 1], c[:, 2]].T, atol=1e-5)
    # convtr7p2s2: 2^3 transposed, stride 2 (torch weight (in, out, ...))
    kernel = state["convtr7p2s2.kernel"]
    coarse_x = rng.normal(size=(len(cc), kernel.shape[1])).astype(np.float32)
    coarse = voxel_ops.key_table(voxel_ops.linear_keys(cc, cb, cm, BITS))
    got = np.asarray(converted.up_convs[3](coarse_x, voxel_ops.transposed_kernel_map(coarse, coords, batch, mask, 2, 2, BITS)))
    weight = _torch_weight(kernel).transpose(0, 1)
    want = torch.nn.functional.conv_transpose3d(_dense(c, coarse_x[cm], size // 2), weight, stride=2)
    np.testing.assert_allclose(got, want[0].numpy()[:, coords[:, 0], coords[:, 1], coords[:, 2]].T, atol=1e-5)
