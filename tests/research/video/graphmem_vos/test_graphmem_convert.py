"""Official GraphMemVOS checkpoints -> GraphMemVOS (METHOD_CONTRACT item 8): a state dict with the key names and
shapes of models/graph_memory.py `graph_memory` (written out here from the module structure at the tiny widths,
saved the way the release is: {"net": state_dict, "epoch": ...}) converts through tools.convert_checkpoint's
dispatch and lands in the right Keras weights; a wrong shape, a missing or an unexpected key, a wrong mean / std
buffer or a missing checkpoint entry is a one-line error, and a failed conversion writes nothing.
The forward parity with the authors' whole network is benchmarks/graphmem_full_torch_parity.py
(benchmarks/results/graphmem_full_torch_parity.json)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

STEM, STAGES, KEY, VALUE, DEC = 16, ((1, 16), (1, 32), (1, 64)), 32, 64, 32  # graphmem_vos_tiny


def official_tiny_state() -> dict[str, np.ndarray]:
    """graph_memory()'s state_dict keys and torch shapes at the tiny widths, random values (each tensor distinct)."""
    shapes: dict[str, tuple] = {}

    def conv(key, cout, cin, k, bias=True):
        shapes[f"{key}.weight"] = (cout, cin, k, k)
        if bias:
            shapes[f"{key}.bias"] = (cout,)

    def bn(key, c):
        for p in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"{key}.{p}"] = (c,)
        shapes[f"{key}.num_batches_tracked"] = ()

    for enc in ("Encoder_M", "Encoder_Q"):
        if enc == "Encoder_M":
            conv("Encoder_M.conv1_m", STEM, 1, 7, bias=False)
            conv("Encoder_M.conv1_o", STEM, 1, 7, bias=False)
        conv(f"{enc}.conv1", STEM, 3, 7, bias=False)
        bn(f"{enc}.bn1", STEM)
        cin = STEM
        for s, (blocks, width) in enumerate(STAGES, start=2):  # torchvision Bottleneck, res2-4 = layer1-3
            for i in range(blocks):
                block = f"{enc}.res{s}.{i}"
                conv(f"{block}.conv1", width, cin, 1, bias=False), bn(f"{block}.bn1", width)
                conv(f"{block}.conv2", width, width, 3, bias=False), bn(f"{block}.bn2", width)
                conv(f"{block}.conv3", 4 * width, width, 1, bias=False), bn(f"{block}.bn3", 4 * width)
                if i == 0:
                    conv(f"{block}.downsample.0", 4 * width, cin, 1, bias=False), bn(f"{block}.downsample.1", 4 * width)
                cin = 4 * width
        shapes[f"{enc}.mean"] = shapes[f"{enc}.std"] = (1, 3, 1, 1)
    r2, r3, r4 = (4 * w for _, w in STAGES)
    for kv in ("KV_M_r4", "KV_Q_r4"):
        conv(f"{kv}.Key", KEY, r4, 3)
        conv(f"{kv}.Value", VALUE, r4, 3)
    conv("Memory.conv_fusion", VALUE, VALUE, 1)
    for gru in ("ConvGRU_h", "ConvGRU_m"):
        for gate in ("reset_gate", "update_gate", "out_gate"):
            conv(f"Memory.{gru}.{gate}", VALUE, 2 * VALUE, 1)
    shapes["Memory.linear_e.weight"] = (KEY, KEY)
    aspp = "Decoder.layer5"
    conv(f"{aspp}.conv", DEC, 2 * VALUE, 1), bn(f"{aspp}.bn_x", DEC)
    conv(f"{aspp}.conv2d_0", DEC, 2 * VALUE, 1), bn(f"{aspp}.bn_0", DEC)
    for i in (1, 2, 3):
        conv(f"{aspp}.conv2d_{i}", DEC, 2 * VALUE, 3), bn(f"{aspp}.bn_{i}", DEC)
    conv(f"{aspp}.bottleneck", DEC, 5 * DEC, 3)
    conv("Decoder.ResMM.conv1", DEC, DEC, 3), conv("Decoder.ResMM.conv2", DEC, DEC, 3)
    for rf, cin in (("RF3", r3), ("RF2", r2)):
        conv(f"Decoder.{rf}.convFS", DEC, cin, 3)
        for res in ("ResFS", "ResMM"):
            conv(f"Decoder.{rf}.{res}.conv1", DEC, DEC, 3), conv(f"Decoder.{rf}.{res}.conv2", DEC, DEC, 3)
    conv("Decoder.pred2", 2, DEC, 3)

    rng = np.random.default_rng(0)
    state = {k: rng.normal(size=s).astype("float32") for k, s in shapes.items()}
    for key in state:
        if key.endswith("running_var"):
            state[key] = np.abs(state[key]) + 0.5
        elif key.endswith("num_batches_tracked"):
            state[key] = np.array(100, "int64")
        elif key.endswith(".mean") and key.startswith("Encoder"):
            state[key] = np.array([0.485, 0.456, 0.406], "float32").reshape(1, 3, 1, 1)
        elif key.endswith(".std") and key.startswith("Encoder"):
            state[key] = np.array([0.229, 0.224, 0.225], "float32").reshape(1, 3, 1, 1)
    return state


CONV, DENSE, SAME = "conv", "dense", "same"
# official key -> (Keras weight path, how the value is laid out); one or more per mapping rule
EXPECTED = {
    "Encoder_M.conv1_m.weight": ("encoder_m_conv1_m/kernel", CONV),
    "Encoder_M.conv1_o.weight": ("encoder_m_conv1_o/kernel", CONV),
    "Encoder_Q.conv1.weight": ("encoder_q_conv1/kernel", CONV),
    "Encoder_M.bn1.running_var": ("encoder_m_bn1/moving_variance", SAME),
    "Encoder_Q.bn1.weight": ("encoder_q_bn1/gamma", SAME),
    "Encoder_Q.res4.0.bn2.running_mean": ("encoder_q_layer3_0_2_bn/moving_mean", SAME),
    "Encoder_M.res4.0.bn3.running_var": ("encoder_m_layer3_0_3_bn/moving_variance", SAME),
    "Encoder_M.res3.0.downsample.0.weight": ("encoder_m_layer2_0_down_conv/kernel", CONV),
    "Encoder_Q.res2.0.downsample.1.bias": ("encoder_q_layer1_0_down_bn/beta", SAME),
    "Encoder_Q.res2.0.conv2.weight": ("encoder_q_layer1_0_2_conv/kernel", CONV),
    "KV_M_r4.Key.weight": ("kv_m_key/kernel", CONV),
    "KV_M_r4.Value.bias": ("kv_m_value/bias", SAME),
    "KV_Q_r4.Key.weight": ("kv_q_key/kernel", CONV),
    "KV_Q_r4.Value.weight": ("kv_q_value/kernel", CONV),
    "Memory.conv_fusion.weight": ("memory/conv_fusion/kernel", DENSE),
    "Memory.linear_e.weight": ("memory/linear_e/kernel", DENSE),
    "Memory.ConvGRU_h.update_gate.weight": ("memory/convgru_h/update_gate/kernel", DENSE),
    "Memory.ConvGRU_h.reset_gate.weight": ("memory/convgru_h/reset_gate/kernel", DENSE),
    "Memory.ConvGRU_m.out_gate.bias": ("memory/convgru_m/out_gate/bias", SAME),
    "Decoder.layer5.conv.weight": ("decoder_aspp_pool/kernel", CONV),
    "Decoder.layer5.bn_x.running_var": ("decoder_aspp_pool_bn/moving_variance", SAME),
    "Decoder.layer5.conv2d_3.weight": ("decoder_aspp_conv3/kernel", CONV),
    "Decoder.layer5.bn_1.running_mean": ("decoder_aspp_conv1_bn/moving_mean", SAME),
    "Decoder.layer5.bottleneck.weight": ("decoder_aspp_bottleneck/kernel", CONV),
    "Decoder.ResMM.conv2.bias": ("decoder_resmm_conv2/bias", SAME),
    "Decoder.RF3.convFS.weight": ("decoder_rf3_convfs/kernel", CONV),
    "Decoder.RF2.ResMM.conv2.weight": ("decoder_rf2_resmm_conv2/kernel", CONV),
    "Decoder.RF2.ResFS.conv1.weight": ("decoder_rf2_resfs_conv1/kernel", CONV),
    "Decoder.pred2.weight": ("decoder_pred/kernel", CONV),
}


def _laid_out(value: np.ndarray, kind: str) -> np.ndarray:
    if kind == CONV:
        return value.transpose(2, 3, 1, 0)  # OIHW -> HWIO
    if kind == DENSE:
        return value.reshape(value.shape[:2]).T  # (out, in[, 1, 1]) -> (in, out)
    return value


@pytest.fixture(scope="module")
def tiny_model():
    from official.core.registry import create_model

    return create_model("graphmem_vos_tiny")


def test_official_checkpoint_converts_through_the_cli(tmp_path, tiny_model):
    import torch

    from research.video.graphmem_vos import convert
    from tools import convert_checkpoint

    state = official_tiny_state()
    assert convert.infer_model_kwargs(state) == {"stem_width": STEM, "stages": STAGES, "key_dim": KEY,
                                                 "value_dim": VALUE, "decoder_dim": DEC}
    src = str(tmp_path / "main_runfile_graph_memory.pth.tar")
    # the release's layout: {"net": ..., "epoch": ...}; "module." as nn.DataParallel's state_dict() would add
    torch.save({"net": {f"module.{k}": torch.from_numpy(v) for k, v in state.items()}, "epoch": 3}, src)
    summary = convert_checkpoint.convert("pytorch", "graphmem_vos_tiny", src, str(tmp_path / "out"))
    weights = [k for k in state if not k.endswith(("num_batches_tracked", "Encoder_M.mean", "Encoder_M.std",
                                                   "Encoder_Q.mean", "Encoder_Q.std"))]
    assert summary["tensors"] == len(weights) == len(tiny_model.weights)
    with open(tmp_path / "out" / "conversion.json") as f:
        report = json.load(f)
    assert sorted(report["constants_checked"]) == ["Encoder_M.mean", "Encoder_M.std", "Encoder_Q.mean", "Encoder_Q.std"]
    assert set(report["skipped"]) == set(state) - set(weights)
    assert report["unused_by_release_forward"] == sorted(
        k for k in weights if k.startswith(("Memory.conv_fusion.", "Memory.ConvGRU_m.", "Memory.linear_e.")))
    for key, (path, _) in EXPECTED.items():
        assert report["assigned"][key] == path, key
    tiny_model.load_weights(os.path.join(tmp_path, "out", "model.weights.h5"))
    got = {w.path: np.asarray(w) for w in tiny_model.weights}
    for key, (path, kind) in EXPECTED.items():
        np.testing.assert_array_equal(got[path], _laid_out(state[key], kind), err_msg=key)
    w = state["Encoder_M.conv1_m.weight"]  # (out 16, in 1, 7, 7): kernel[kh, kw, in, out] = w[out, in, kh, kw]
    assert got["encoder_m_conv1_m/kernel"][1, 5, 0, 3] == w[3, 0, 1, 5] != w[3, 0, 5, 1]


def test_wrong_shape_missing_and_unexpected_keys_are_one_line_errors(tmp_path, tiny_model):
    import torch

    from official.core.checkpoint_convert import ConversionError
    from research.video.graphmem_vos import convert
    from tools import convert_checkpoint

    state = official_tiny_state()
    cases = []
    bad = dict(state, **{"Decoder.pred2.weight": np.zeros((3, DEC, 3, 3), "float32")})
    cases.append((bad, r"'Decoder\.pred2\.weight' has shape \(3, 32, 3, 3\), the model expects \(2, 32, 3, 3\)"))
    bad = {k: v for k, v in state.items() if k != "Encoder_Q.res3.0.bn1.running_var"}
    cases.append((bad, r"checkpoint has no 'Encoder_Q\.res3\.0\.bn1\.running_var'"))
    bad = dict(state, **{"Encoder_Q.fc.weight": np.zeros((10, 256), "float32")})
    cases.append((bad, r"'Encoder_Q\.fc\.weight' has no place in the model"))
    bad = dict(state, **{"Encoder_M.std": np.ones((1, 3, 1, 1), "float32")})
    cases.append((bad, r"'Encoder_M\.std' is \[1\.0, 1\.0, 1\.0\]"))
    before = [np.asarray(w).copy() for w in tiny_model.weights[:3]]
    for bad, message in cases:
        with pytest.raises(ConversionError, match=message) as err:
            convert.load_state_dict(tiny_model, bad)
        assert "\n" not in str(err.value)
    for old, w in zip(before, tiny_model.weights[:3], strict=True):  # nothing written by a failed conversion
        np.testing.assert_array_equal(old, np.asarray(w))
    src = str(tmp_path / "bad.pth")  # through the CLI entry point the message starts with the file
    torch.save({"net": {k: torch.from_numpy(v) for k, v in state.items()}, "epoch": 1}, src)
    with pytest.raises(ConversionError, match=rf"^{src}: checkpoint has no entry 'model' \(entries: net, epoch\)$"):
        convert_checkpoint.convert("pytorch", "graphmem_vos_tiny", src, str(tmp_path / "out"), checkpoint_key="model")
    assert not os.path.exists(tmp_path / "out")
