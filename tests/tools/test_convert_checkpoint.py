"""tools.convert_checkpoint on an official-layout MobileNeXt-1.0 state dict with random values.

The state dict is built here from the official key names and shapes (mnext.py `MXNet`: stem
`features.0.{0,1}`, blocks `features.{i+1}.conv.{j}` with ReLU6 slots counted, `classifier.1`), saved as a
timm-style .pth, converted by the CLI, and checked two ways: every tensor equals its Keras weight in Keras
layout, and the Keras logits equal a torch.nn.functional forward pass of the same state dict.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch  # required (pyproject extra "convert"): a missing install fails, never skips

F = torch.nn.functional

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# MobileNeXt-1.0 as coded (spec card stage table): (in, hidden, out, stride, kind) for the 20 blocks.
# kind: full = dw-pw-pw-dw without shortcut, res = the same with identity, trans2 = pw-pw-dw/2, trans1 = pw-pw.
BLOCKS = (
    [(32, 16, 96, 2, "full"), (96, 32, 144, 1, "full"), (144, 32, 192, 2, "trans2")]
    + [(192, 32, 192, 1, "res")] * 2
    + [(192, 48, 288, 2, "trans2")]
    + [(288, 48, 288, 1, "res")] * 2
    + [(288, 64, 384, 1, "trans1")]
    + [(384, 64, 384, 1, "res")] * 3
    + [(384, 96, 576, 2, "trans2")]
    + [(576, 96, 576, 1, "res")] * 3
    + [(576, 160, 960, 1, "trans1")]
    + [(960, 160, 960, 1, "res")] * 2
    + [(960, 208, 1280, 1, "full")]
)
# nn.Sequential index of each conv/bn in a block of each kind ("relu" slots skipped).
SEQUENCES = {
    "full": [
        (0, "dw_in"),
        (1, "bn_in"),
        (3, "reduce"),
        (4, "bn_h"),
        (5, "expand"),
        (6, "bn_out"),
        (8, "dw_out"),
        (9, "bn_out"),
    ],
    "trans2": [(0, "reduce"), (1, "bn_h"), (2, "expand"), (3, "bn_out"), (5, "dw_out"), (6, "bn_out")],
    "trans1": [(0, "reduce"), (1, "bn_h"), (2, "expand"), (3, "bn_out")],
}
SEQUENCES["res"] = SEQUENCES["full"]


def official_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)

    def normal(*shape, std):
        return torch.randn(*shape, generator=g) * std

    def bn(prefix, c):
        return {
            f"{prefix}.weight": 0.5 + torch.rand(c, generator=g),
            f"{prefix}.bias": normal(c, std=0.1),
            f"{prefix}.running_mean": normal(c, std=0.1),
            f"{prefix}.running_var": 0.5 + torch.rand(c, generator=g),
            f"{prefix}.num_batches_tracked": torch.tensor(1000),
        }

    sd = {"features.0.0.weight": normal(32, 3, 3, 3, std=(1 / 27) ** 0.5), **bn("features.0.1", 32)}
    for i, (cin, hidden, cout, _, kind) in enumerate(BLOCKS):
        for j, part in SEQUENCES[kind]:
            key = f"features.{i + 1}.conv.{j}"
            if part == "dw_in":
                sd[f"{key}.weight"] = normal(cin, 1, 3, 3, std=1 / 3)
            elif part == "dw_out":
                sd[f"{key}.weight"] = normal(cout, 1, 3, 3, std=1 / 3)
            elif part == "reduce":
                sd[f"{key}.weight"] = normal(hidden, cin, 1, 1, std=cin**-0.5)
            elif part == "expand":
                sd[f"{key}.weight"] = normal(cout, hidden, 1, 1, std=hidden**-0.5)
            else:
                sd.update(bn(key, {"bn_in": cin, "bn_h": hidden, "bn_out": cout}[part]))
    sd["classifier.1.weight"] = normal(1000, 1280, std=0.05)
    sd["classifier.1.bias"] = normal(1000, std=0.1)
    return sd


def torch_forward(sd: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The official forward pass (inference BN, ReLU6 placement of the code) written with torch.nn.functional."""

    def bn(t, prefix):
        return F.batch_norm(
            t,
            sd[f"{prefix}.running_mean"],
            sd[f"{prefix}.running_var"],
            sd[f"{prefix}.weight"],
            sd[f"{prefix}.bias"],
            False,
            0.0,
            1e-5,
        )

    x = F.relu6(bn(F.conv2d(x, sd["features.0.0.weight"], stride=2, padding=1), "features.0.1"))
    for i, (_, _, _, stride, kind) in enumerate(BLOCKS):
        p = f"features.{i + 1}.conv"
        y = x
        if kind in ("full", "res"):
            y = F.relu6(bn(F.conv2d(y, sd[f"{p}.0.weight"], padding=1, groups=y.shape[1]), f"{p}.1"))
            y = bn(F.conv2d(y, sd[f"{p}.3.weight"]), f"{p}.4")
            y = F.relu6(bn(F.conv2d(y, sd[f"{p}.5.weight"]), f"{p}.6"))
            y = bn(F.conv2d(y, sd[f"{p}.8.weight"], stride=stride, padding=1, groups=y.shape[1]), f"{p}.9")
        else:
            y = bn(F.conv2d(y, sd[f"{p}.0.weight"]), f"{p}.1")
            y = F.relu6(bn(F.conv2d(y, sd[f"{p}.2.weight"]), f"{p}.3"))
            if kind == "trans2":
                y = bn(F.conv2d(y, sd[f"{p}.5.weight"], stride=2, padding=1, groups=y.shape[1]), f"{p}.6")
        x = y + x if kind == "res" else y
    x = x.mean(dim=(2, 3))
    return F.linear(x, sd["classifier.1.weight"], sd["classifier.1.bias"])


def keras_layout(key: str, value: np.ndarray) -> np.ndarray:
    if value.ndim == 4 and value.shape[1] == 1 and value.shape[2] == 3:  # depthwise (C, 1, 3, 3)
        return value.transpose(2, 3, 0, 1)
    if value.ndim == 4:
        return value.transpose(2, 3, 1, 0)
    if value.ndim == 2:
        return value.T
    return value


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("convert")
    sd = official_state_dict()
    assert sum(v.numel() for k, v in sd.items() if "running" not in k and "num_batches" not in k) == 3_535_416
    # timm-style checkpoint: weights under "state_dict", DataParallel "module." prefix.
    torch.save({"epoch": 209, "state_dict": {f"module.{k}": v for k, v in sd.items()}}, tmp / "model.pth")
    cmd = [sys.executable, "-m", "tools.convert_checkpoint", "--from=pytorch", "--model=mobilenext_100"]
    cmd += [f"--src={tmp / 'model.pth'}", f"--dst={tmp / 'out'}"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return sd, tmp / "out"


def test_every_tensor_landed(converted):
    from official.core import registry

    sd, out = converted
    mapping = json.loads((out / "conversion.json").read_text())
    assert mapping["tensors"] == 372 and len(mapping["skipped"]) == 74  # 74 BN layers' num_batches_tracked
    model = registry.create_model("mobilenext_100")
    model.load_weights(str(out / "model.weights.h5"))
    by_path = {v.path: v for v in model.weights}
    assert set(mapping["assigned"].values()) == set(by_path)
    for key, value in sd.items():
        if key.endswith("num_batches_tracked"):
            continue
        variable = by_path[mapping["assigned"][key]]
        np.testing.assert_array_equal(np.asarray(variable), keras_layout(key, value.numpy()), err_msg=key)


def test_converted_logits_match_torch(converted):
    import keras

    import official.vision.mobilenext  # noqa: F401  (registers the serialisable classes)

    sd, out = converted
    model = keras.saving.load_model(str(out / "model.keras"))
    x = np.random.default_rng(0).normal(size=(2, 224, 224, 3)).astype("float32")
    with torch.no_grad():
        ref = torch_forward(sd, torch.from_numpy(x.transpose(0, 3, 1, 2))).numpy()
    got = np.asarray(model(x, training=False))
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())


def test_mismatched_checkpoints_are_named():
    from official.core import registry
    from official.vision.mobilenext.convert import ConversionError, load_state_dict

    sd = {k: v.numpy() for k, v in official_state_dict().items()}
    model = registry.create_model("mobilenext_100")
    missing = dict(sd)
    del missing["features.9.conv.3.weight"]
    with pytest.raises(ConversionError, match=r"features\.9\.conv\.3\.weight"):
        load_state_dict(model, missing)
    extra = {**sd, "features.21.conv.0.weight": np.zeros((1,), "float32")}
    with pytest.raises(ConversionError, match=r"features\.21\.conv\.0\.weight"):
        load_state_dict(model, extra)
    bad = {**sd, "classifier.1.bias": np.zeros((10,), "float32")}
    with pytest.raises(ConversionError, match=r"classifier\.1\.bias"):
        load_state_dict(model, bad)
    with pytest.raises(ConversionError, match="shape"):  # a 1.0 checkpoint into a 0.35 model
        load_state_dict(registry.create_model("mobilenext_035"), sd)
