"""official/vision/rsn/convert.py on state dicts with the official RSN key names and shapes.

The state dicts are generated here from the naming scheme of the authors' module (exps/RSN18.coco/
network.py: `top.conv`, `stage{s}.downsample.layer{l}.{b}.conv_bn_relu{1,2_i_j,3}` / `.downsample`,
`stage{s}.upsample.up{u}.{u_skip,up_conv,skip1,skip2,cross_conv,res_conv1,res_conv2}`, each a
conv_bn_relu with `.conv.{weight,bias}` and `.bn.{weight,bias,running_mean,running_var,
num_batches_tracked}`), for rsn_tiny's small configuration and for the full RSN-18. The converted
model's predictions are compared with a torch.nn.functional forward pass of the same state dict, written
from the spec's description of the network (not the authors' code).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import torch  # required (pyproject extra "convert"): a missing install fails, never skips

import official.vision.rsn  # noqa: F401  (registers the variants and serialisable classes)
from official.core import registry
from official.vision.rsn.convert import (
    ConversionError,
    convert_pytorch,
    infer_model_kwargs,
    load_state_dict,
)
from official.vision.rsn.model import RSN
from official.vision.rsn.variants import VARIANTS

F = torch.nn.functional
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
STEPS = 4


def _config(name: str) -> dict:
    """Official module shape parameters of a registered variant (the official RSN's defaults filled in)."""
    cfg = {"level_widths": (64, 128, 256, 512), "stem_width": 64, "unit_channels": 256, **VARIANTS[name]}
    return cfg


def official_state_dict(cfg: dict, keypoints: int = 17, seed: int = 0) -> dict[str, np.ndarray]:
    """Random tensors under the official key names, in the official module's registration order."""
    rng = np.random.default_rng(seed)
    sd: dict[str, np.ndarray] = {}

    def cbr(module: str, cin: int, cout: int, k: int) -> None:
        fan_in = cin * k * k
        sd[f"{module}.conv.weight"] = rng.normal(0, fan_in**-0.5, (cout, cin, k, k)).astype("float32")
        sd[f"{module}.conv.bias"] = rng.normal(0, 0.1, cout).astype("float32")
        sd[f"{module}.bn.weight"] = rng.uniform(0.5, 1.5, cout).astype("float32")
        sd[f"{module}.bn.bias"] = rng.normal(0, 0.1, cout).astype("float32")
        sd[f"{module}.bn.running_mean"] = rng.normal(0, 0.1, cout).astype("float32")
        sd[f"{module}.bn.running_var"] = rng.uniform(0.5, 1.5, cout).astype("float32")
        sd[f"{module}.bn.num_batches_tracked"] = np.array(96000, "int64")

    widths, unit, blocks = cfg["level_widths"], cfg["unit_channels"], cfg["blocks_per_level"]
    stages = cfg["num_stages"]
    cbr("top.conv", 3, cfg["stem_width"], 7)
    for s in range(stages):
        cin = cfg["stem_width"]
        for level, count in enumerate(blocks):
            for b in range(count):
                p = f"stage{s}.downsample.layer{level + 1}.{b}"
                branch = cin * 26 // 64
                cbr(f"{p}.conv_bn_relu1", cin, STEPS * branch, 1)
                for i in range(1, STEPS + 1):
                    for j in range(1, i + 1):
                        cbr(f"{p}.conv_bn_relu2_{i}_{j}", branch, branch, 3)
                cbr(f"{p}.conv_bn_relu3", STEPS * branch, widths[level], 1)
                if b == 0 and (level > 0 or cin != widths[level]):
                    cbr(f"{p}.downsample", cin, widths[level], 1)
                cin = widths[level]
        for u in range(len(widths)):
            p, width = f"stage{s}.upsample.up{u + 1}", widths[::-1][u]
            cbr(f"{p}.u_skip", width, unit, 1)
            if u > 0:
                cbr(f"{p}.up_conv", unit, unit, 1)
            if s < stages - 1:
                cbr(f"{p}.skip1", width, width, 1)
                cbr(f"{p}.skip2", unit, width, 1)
                if u == len(widths) - 1:
                    cbr(f"{p}.cross_conv", unit, cfg["stem_width"], 1)
            cbr(f"{p}.res_conv1", unit, unit, 1)
            cbr(f"{p}.res_conv2", unit, keypoints, 3)
    return sd


def official_forward(sd: dict[str, np.ndarray], cfg: dict, images: np.ndarray) -> list[list[np.ndarray]]:
    """Every prediction (stages x levels coarse -> fine, NHWC) of the official RSN, inference mode."""
    t = {k: torch.from_numpy(np.asarray(v)) for k, v in sd.items()}

    def cbr(x, module, stride=1, relu=True):
        w = t[f"{module}.conv.weight"]
        y = F.conv2d(x, w, t[f"{module}.conv.bias"], stride=stride, padding=w.shape[-1] // 2)
        bn = [t[f"{module}.bn.{n}"] for n in ("running_mean", "running_var", "weight", "bias")]
        y = F.batch_norm(y, *bn, False, 0.0, 1e-5)
        return F.relu(y) if relu else y

    def rsb(x, p, stride):
        out = cbr(x, f"{p}.conv_bn_relu1", stride)
        parts = torch.split(out, out.shape[1] // STEPS, 1)
        rows: list[list] = []
        for i in range(STEPS):  # y_ij = f((x_i if j == 0 else y_i,j-1) + (y_i-1,j if i > j))
            row: list = []
            for j in range(i + 1):
                inp = parts[i] if j == 0 else row[j - 1]
                inp = inp + rows[i - 1][j] if i > j else inp
                row.append(cbr(inp, f"{p}.conv_bn_relu2_{i + 1}_{j + 1}"))
            rows.append(row)
        out = cbr(torch.cat([row[-1] for row in rows], 1), f"{p}.conv_bn_relu3", relu=False)
        short = cbr(x, f"{p}.downsample", stride, relu=False) if f"{p}.downsample.conv.weight" in t else x
        return F.relu(out + short)

    def resize(x, size):
        return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=True)

    x = torch.from_numpy(images.transpose(0, 3, 1, 2))
    out_size = (images.shape[1] // 4, images.shape[2] // 4)
    with torch.no_grad():
        x = F.max_pool2d(cbr(x, "top.conv", 2), 3, 2, 1)
        skip1 = skip2 = None
        predictions = []
        levels = len(cfg["blocks_per_level"])
        for s in range(cfg["num_stages"]):
            features = []
            for level, count in enumerate(cfg["blocks_per_level"]):
                for b in range(count):
                    x = rsb(x, f"stage{s}.downsample.layer{level + 1}.{b}", 2 if level > 0 and b == 0 else 1)
                if skip1 is not None:
                    x = x + skip1[level] + skip2[level]
                features.append(x)
            maps, new1, new2, out = [], [], [], None
            for u in range(levels):
                feature, p = features[levels - 1 - u], f"stage{s}.upsample.up{u + 1}"
                y = cbr(feature, f"{p}.u_skip", relu=False)
                if u > 0:
                    y = y + cbr(resize(out, feature.shape[2:]), f"{p}.up_conv", relu=False)
                out = F.relu(y)
                res = cbr(cbr(out, f"{p}.res_conv1"), f"{p}.res_conv2", relu=False)
                maps.append(resize(res, out_size).numpy().transpose(0, 2, 3, 1))
                if f"{p}.skip1.conv.weight" in t:
                    new1.insert(0, cbr(feature, f"{p}.skip1"))
                    new2.insert(0, cbr(out, f"{p}.skip2"))
                if f"{p}.cross_conv.conv.weight" in t:
                    x = cbr(out, f"{p}.cross_conv")
            skip1, skip2 = new1, new2
            predictions.append(maps)
    return predictions


def keras_layout(value: np.ndarray) -> np.ndarray:
    return value.transpose(2, 3, 1, 0) if value.ndim == 4 else value


def _images(model, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(2, *model.input_shape[1:])).astype("float32")


@pytest.fixture(scope="module")
def tiny():
    """rsn_tiny (2 stages, 4 levels, narrow widths) filled from an official-layout state dict."""
    sd = official_state_dict(_config("rsn_tiny"))
    model = registry.create_model("rsn_tiny")
    report = load_state_dict(model, sd)
    return sd, model, report


def test_tiny_predictions_match_official_forward(tiny):
    sd, model, _ = tiny
    x = _images(model)
    reference = official_forward(sd, _config("rsn_tiny"), x)
    got = np.asarray(model(x, training=False)["stage_heatmaps"])
    assert got.shape[1:3] == (2, 4)
    for s, maps in enumerate(reference):
        for u, ref in enumerate(maps):
            np.testing.assert_allclose(
                got[:, s, u], ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max(), err_msg=f"{s},{u}"
            )


def test_every_tensor_lands_once_in_keras_layout(tiny):
    sd, model, report = tiny
    skipped = sorted(k for k in sd if k.endswith("num_batches_tracked"))
    assert report.skipped == skipped and len(report.assigned) == len(sd) - len(skipped) == len(model.weights)
    by_path = {v.path: v for v in model.weights}
    assert sorted(report.assigned.values()) == sorted(by_path)
    for key, path in report.assigned.items():
        np.testing.assert_array_equal(np.asarray(by_path[path]), keras_layout(sd[key]), err_msg=key)
    # Spot checks by layer name, independent of the converter's table.
    spots = {
        "top.conv.conv.weight": ("stem_conv", 0),
        "stage1.downsample.layer3.0.conv_bn_relu2_4_3.conv.weight": ("s1_down_l2_b0_conv2_4_3_conv", 0),
        "stage1.downsample.layer2.0.downsample.bn.running_var": ("s1_down_l1_b0_down_bn", 3),
        "stage0.upsample.up1.u_skip.bn.running_mean": ("s0_up_u0_lateral_bn", 2),
        "stage0.upsample.up4.cross_conv.conv.bias": ("s0_up_cross_conv", 1),
        "stage0.upsample.up2.skip2.conv.weight": ("s0_up_u1_skip2_conv", 0),
        "stage1.upsample.up4.res_conv2.conv.weight": ("s1_up_u3_res2_conv", 0),
    }
    for key, (layer, index) in spots.items():
        np.testing.assert_array_equal(model.get_layer(layer).get_weights()[index], keras_layout(sd[key]))


def _unchanged(model, before):
    for variable, value in zip(model.weights, before, strict=True):
        np.testing.assert_array_equal(np.asarray(variable), value, err_msg=variable.path)


def test_missing_key_is_named_on_one_line(tiny):
    sd, model, _ = tiny
    before = [np.asarray(v) for v in model.weights]
    broken = {k: np.zeros_like(v) for k, v in sd.items()}  # would change every weight if written
    del broken["stage1.upsample.up2.up_conv.bn.running_var"]
    del broken["stage1.upsample.up3.res_conv1.conv.weight"]
    with pytest.raises(ConversionError) as err:
        load_state_dict(model, broken)
    message = str(err.value)
    assert "'stage1.upsample.up2.up_conv.bn.running_var'" in message and "2 of" in message
    assert "\n" not in message
    _unchanged(model, before)  # nothing written before every check passed


def test_wrong_shape_names_key_and_shapes(tiny):
    sd, model, _ = tiny
    before = [np.asarray(v) for v in model.weights]
    key = "stage0.downsample.layer2.0.conv_bn_relu2_3_2.conv.weight"  # branch width 16 * 26 // 64 = 6
    assert sd[key].shape == (6, 6, 3, 3)
    broken = {**{k: np.zeros_like(v) for k, v in sd.items()}, key: np.zeros((6, 6, 1, 1), "float32")}
    with pytest.raises(ConversionError) as err:
        load_state_dict(model, broken)
    message = str(err.value)
    assert key in message and "(6, 6, 1, 1)" in message and "(6, 6, 3, 3)" in message and "\n" not in message
    _unchanged(model, before)


def test_unexpected_and_mmpose_keys_are_rejected(tiny):
    sd, model, _ = tiny
    extra = {**sd, "stage2.upsample.up1.u_skip.conv.bias": np.zeros(32, "float32")}
    with pytest.raises(ConversionError, match=r"'stage2\.upsample\.up1\.u_skip\.conv\.bias' has no place"):
        load_state_dict(model, extra)
    mmpose = {"backbone.top.top.0.conv.weight": sd["top.conv.conv.weight"]}
    with pytest.raises(ConversionError, match="mmpose"):
        load_state_dict(model, mmpose)


MICRO = dict(
    num_stages=1,
    blocks_per_level=(1, 2),
    level_widths=(16, 24),
    stem_width=8,
    unit_channels=16,
    input_shape=(32, 24, 3),
)


def test_two_level_micro_rsn_and_prm_models():
    """The table follows the constructor (2 levels, a level-0 shortcut since stem 8 != 16, 2 blocks);
    a model with the PRM, which the released module does not have, is refused naming a PRM weight."""
    sd = official_state_dict(MICRO, keypoints=5)
    assert "stage0.downsample.layer1.0.downsample.conv.weight" in sd
    model = RSN(num_keypoints=5, **MICRO)
    load_state_dict(model, sd)
    x = _images(model)
    reference = official_forward(sd, MICRO, x)[0]
    got = np.asarray(model(x, training=False)["stage_heatmaps"])
    for u, ref in enumerate(reference):
        np.testing.assert_allclose(got[:, 0, u], ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    with pytest.raises(ConversionError, match=r"have no official tensor, first s0_u1_prm_conv1_conv/kernel"):
        load_state_dict(RSN(num_keypoints=5, use_prm=True, **MICRO), sd)


def test_keypoint_count_is_read_from_the_checkpoint():
    sd = official_state_dict(_config("rsn_tiny"), keypoints=16)
    assert infer_model_kwargs(sd) == {"num_keypoints": 16}


def test_dataparallel_prefix_into_an_existing_folder(tiny, tmp_path):
    """A raw DistributedDataParallel state dict ("module." prefix, no wrapper) converts; into an existing
    folder the three files are replaced and other files are kept; model.weights.h5 holds the weights."""
    sd, model, _ = tiny
    torch.save({f"module.{k}": torch.from_numpy(v) for k, v in sd.items()}, tmp_path / "ddp.pth")
    dst = tmp_path / "out"
    dst.mkdir()
    (dst / "model.keras").write_text("stale")
    (dst / "notes.txt").write_text("kept")
    result = convert_pytorch(str(tmp_path / "ddp.pth"), str(dst), "rsn_tiny")
    assert result["tensors"] == len(model.weights) and result["skipped"] == len(sd) - len(model.weights)
    assert sorted(os.listdir(dst)) == ["conversion.json", "model.keras", "model.weights.h5", "notes.txt"]
    assert sorted(os.listdir(tmp_path)) == ["ddp.pth", "out"]  # no temp folder left
    expected = [np.asarray(v) for v in model.weights]
    for variable in model.weights:
        variable.assign(np.zeros(variable.shape, variable.dtype))
    model.load_weights(str(dst / "model.weights.h5"))
    _unchanged(model, expected)
    mapping = json.loads((dst / "conversion.json").read_text())
    assert (
        mapping["model"] == "rsn_tiny" and mapping["assigned"]["top.conv.conv.weight"] == "stem_conv/kernel"
    )


def test_cli_converts_a_full_size_rsn18_trainer_checkpoint(tmp_path):
    """`python -m tools.convert_checkpoint` on the authors' trainer file layout ({"model": state dict,
    "optimizer", "iteration"}) of a full-size RSN-18; the saved model.keras reproduces the official forward
    pass at 256x192."""
    cfg = _config("rsn_18")
    sd = official_state_dict(cfg, seed=1)
    assert sum(v.size for k, v in sd.items() if ".running_" not in k and "num_batches" not in k) == 9_159_072
    tensors = {k: torch.from_numpy(v) for k, v in sd.items()}
    optimizer = {"state": {}, "param_groups": [{"lr": 5e-4, "params": list(range(690))}]}
    torch.save({"model": tensors, "optimizer": optimizer, "iteration": 96000}, tmp_path / "iter-96000.pth")
    cmd = [sys.executable, "-m", "tools.convert_checkpoint", "--from=pytorch", "--model=rsn_18"]
    cmd += [f"--src={tmp_path / 'iter-96000.pth'}", f"--dst={tmp_path / 'out'}"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "converted 690 tensors (115 skipped)" in proc.stdout  # 115 conv + BN modules
    assert sorted(os.listdir(tmp_path / "out")) == ["conversion.json", "model.keras", "model.weights.h5"]
    assert sorted(os.listdir(tmp_path)) == ["iter-96000.pth", "out"]
    model = keras.saving.load_model(str(tmp_path / "out" / "model.keras"))
    x = _images(model)[:1]
    ref = official_forward(sd, cfg, x)[-1][-1]
    got = np.asarray(model(x, training=False)["heatmaps"])
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
