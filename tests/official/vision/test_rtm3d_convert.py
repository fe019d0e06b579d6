"""RTM3D converter: a PoseResNet-layout PyTorch state dict (msra_resnet.py key names and shapes, written
here as a small torch module) converts into rtm3d_tiny-shaped Keras weights and both give the same head
maps; a DLASeg-layout state dict (pose_dla_dcn.py key names and shapes, derived from the zoo's layer
names, plus the unused modules the official network carries) fills every weight of rtm3d_dla34; wrong
checkpoints are one-line errors. The full-size checks against the authors' modules themselves (ResNet:
max |diff| 1.5e-7; DLA-34 with a DCNv2 stand-in: 2.5e-7) run outside the repo and are in the model card."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch  # required (pyproject extra "convert"): a missing install fails, never skips
from torch import nn

from official.core.checkpoint_convert import ConversionError
from official.vision.rtm3d import convert  # noqa: E402
from official.vision.rtm3d.model import RTM3D, head_channels  # noqa: E402

ARGS = dict(head_conv=8, resnet_blocks=(1, 1, 1, 1), resnet_widths=(8, 16, 16, 32), stem_width=8,
            deconv_filters=(16, 16, 16), input_shape=(64, 128, 3))  # fmt: skip


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class TorchPoseResNet(nn.Module):
    """The msra_resnet.py layout (module names, padding, deconv 4/2/1) at small widths; BGR input."""

    def __init__(self):
        super().__init__()
        w = ARGS["resnet_widths"]
        self.conv1 = nn.Conv2d(3, ARGS["stem_width"], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(ARGS["stem_width"])
        cin = ARGS["stem_width"]
        for s, width in enumerate(w, start=1):
            setattr(self, f"layer{s}", nn.Sequential(Block(cin, width, 1 if s == 1 else 2)))
            cin = width
        layers = []
        for f in ARGS["deconv_filters"]:
            layers += [nn.ConvTranspose2d(cin, f, 4, 2, 1, 0, bias=False), nn.BatchNorm2d(f), nn.ReLU()]
            cin = f
        self.deconv_layers = nn.Sequential(*layers)
        for head, n in head_channels(3).items():
            setattr(
                self,
                head,
                nn.Sequential(
                    nn.Conv2d(cin, ARGS["head_conv"], 3, padding=1),
                    nn.ReLU(),
                    nn.Conv2d(ARGS["head_conv"], n, 1),
                ),
            )

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        for s in range(1, 5):
            x = getattr(self, f"layer{s}")(x)
        x = self.deconv_layers(x)
        return {h: getattr(self, h)(x) for h in head_channels(3)}


def _reference():
    torch.manual_seed(0)
    net = TorchPoseResNet()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
    return net.eval()


def test_converted_weights_reproduce_the_torch_layout():
    net = _reference()
    model = RTM3D(**ARGS)
    report = convert.load_state_dict(model, net.state_dict())
    assert len(report.assigned) == len(model.weights)
    rgb = np.random.default_rng(0).uniform(0, 255, (2, 64, 128, 3)).astype(np.float32)
    bgr = rgb[..., ::-1] / 255.0
    x = (bgr - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)
    with torch.no_grad():
        want = net(torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))))
    got = model(rgb, training=False)
    for head, value in want.items():
        np.testing.assert_allclose(
            np.asarray(got[head]), value.numpy().transpose(0, 2, 3, 1), atol=2e-5, err_msg=head
        )


def test_wrong_checkpoints_are_one_line_errors():
    state = _reference().state_dict()
    model = RTM3D(**ARGS)
    with pytest.raises(ConversionError, match="hm.2.bias"):
        convert.load_state_dict(model, {k: v for k, v in state.items() if k != "hm.2.bias"})
    with pytest.raises(ConversionError, match="extra.weight"):
        convert.load_state_dict(model, {**state, "extra.weight": torch.zeros(1)})
    with pytest.raises(ConversionError, match="DLA-34"):
        convert.load_state_dict(model, {"base.base_layer.0.weight": torch.zeros(1)})
    assert convert.infer_model_kwargs(state) == {"num_classes": 3, "head_conv": 8}


# --- DLA-34 (pose_dla_dcn.py `DLASeg`) ------------------------------------------------------------------
# The official key of every Keras layer of rtm3d_dla34 is derived here from the layer's name alone (not
# from convert.py's map), and the tensor from the Keras weight by the inverse of the layout transform.

DLA_OFFICIAL_PARAMS = 20_552_912  # pose_dla_dcn.py DLASeg, KM3D's nine heads, head_conv 256
DLA_UNUSED = {"base.level3.project": 128, "base.level4.project": 256}  # created, never called
_BN_KEYS = {
    "gamma": "weight",
    "beta": "bias",
    "moving_mean": "running_mean",
    "moving_variance": "running_var",
}


def _official_module(name: str, heads) -> str:
    """pose_dla_dcn.py module path of a zoo layer name."""
    for head in heads:
        if name in (f"{head}_conv1", f"{head}_conv2"):
            return f"{head}.{0 if name.endswith('1') else 2}"
    if name.startswith("neck_"):
        ida, kind, k, part = re.fullmatch(
            r"neck_(?:dla_ida(\d)|ida)_(proj|node|up)(\d)(_dcn|_bn)?", name
        ).groups()
        prefix = f"dla_up.ida_{ida}" if ida is not None else "ida_up"
        return f"{prefix}.{kind}_{k}" + {"_dcn": ".conv", "_bn": ".actf.0", None: ""}[part]
    *path, role, kind = name.split("_")
    index = {"conv": 0, "bn": 1}[kind]
    if name.startswith("base_"):
        return f"base.base_layer.{index}"
    if role in ("level0", "level1"):
        return f"base.{role}.{index}"
    if role in ("1", "2"):
        return f"base.{'.'.join(path)}.{kind}{role}"
    if role == "root":
        return f"base.{'.'.join(path)}.root.{kind}"
    assert role == "project", name
    return f"base.{'.'.join(path)}.project.{index}"


def _official_tensor(layer, weight, value: np.ndarray) -> tuple[str, np.ndarray]:
    """(suffix of the official key, the tensor in PyTorch layout) of one Keras weight."""
    kind = weight.path.split("/")[-1]
    if kind in _BN_KEYS:
        return _BN_KEYS[kind], value
    if type(layer).__name__ == "DepthwiseUpsample":
        return "weight", value.transpose(2, 3, 0, 1)  # (k, k, C, 1) -> (C, 1, k, k)
    torch_layout = value.transpose(3, 2, 0, 1) if value.ndim == 4 else value
    if layer.name == "base_conv":
        torch_layout = torch_layout[:, ::-1]  # the official network reads BGR
    return {"kernel": "weight", "bias": "bias", "offset_kernel": "conv_offset_mask.weight",
            "offset_bias": "conv_offset_mask.bias"}[kind], torch_layout  # fmt: skip


@pytest.fixture(scope="module")
def dla():
    """rtm3d_dla34 at 64 x 192, random Keras values per weight, and the official state dict holding them."""
    model = RTM3D(backbone="dla34", head_conv=256, input_shape=(64, 192, 3))
    heads = head_channels(3)
    rng = np.random.default_rng(0)
    values, state = {}, {}
    for layer in model.layers:
        for weight in layer.weights:
            value = rng.standard_normal(tuple(weight.shape)).astype(np.float32)
            values[weight.path] = value
            suffix, tensor = _official_tensor(layer, weight, value)
            state[f"{_official_module(layer.name, heads)}.{suffix}"] = np.ascontiguousarray(tensor)
            if suffix == "running_var":
                state[f"{_official_module(layer.name, heads)}.num_batches_tracked"] = np.array(7)
    for module, ch in DLA_UNUSED.items():
        state[f"{module}.0.weight"] = np.zeros((ch, ch // 2, 1, 1), np.float32)
        for key in ("weight", "bias", "running_mean", "running_var"):
            state[f"{module}.1.{key}"] = np.zeros(ch, np.float32)
        state[f"{module}.1.num_batches_tracked"] = np.array(0)
    state["base.fc.weight"] = np.zeros((1000, 512, 1, 1), np.float32)  # pretrained=True's ImageNet classifier
    state["base.fc.bias"] = np.zeros(1000, np.float32)
    return model, values, state


def test_dla34_official_layout_fills_every_weight(dla):
    model, values, state = dla
    params = sum(
        v.size for k, v in state.items() if not k.endswith("num_batches_tracked") and ".fc." not in k
    )
    bn_stats = sum(v.size for k, v in state.items() if k.endswith(("running_mean", "running_var")))
    assert params - bn_stats == DLA_OFFICIAL_PARAMS  # the shapes are the official architecture's
    report = convert.load_state_dict(model, state)
    assert len(report.assigned) == len(model.weights) == len(set(report.assigned.values()))
    skipped = set(report.skipped)
    assert {k for k in state if k.startswith(tuple(DLA_UNUSED)) or ".fc." in k} <= skipped
    assert all(k.endswith("num_batches_tracked") or k.startswith((*DLA_UNUSED, "base.fc.")) for k in skipped)
    for weight in model.weights:
        np.testing.assert_array_equal(np.asarray(weight), values[weight.path], err_msg=weight.path)
    assert convert.infer_model_kwargs(state) == {"num_classes": 3, "head_conv": 256}


def test_dla34_wrong_checkpoints_are_one_line_errors(dla):
    model, _, state = dla
    cases = [
        ({k: v for k, v in state.items() if k != "dla_up.ida_2.up_3.weight"}, "dla_up.ida_2.up_3.weight"),
        (
            {**state, "ida_up.proj_3.conv.weight": np.zeros((64, 256, 3, 3), np.float32)},
            "ida_up.proj_3.conv.weight",
        ),
        ({**state, "dla_up.ida_0.node_1.conv.bias": np.zeros(3, np.float32)}, r"shape \(3,\)"),
        (_reference().state_dict(), "ResNet"),
    ]
    for broken, match in cases:
        with pytest.raises(ConversionError, match=match) as err:
            convert.load_state_dict(model, broken)
        assert "\n" not in str(err.value)
    with pytest.raises(ConversionError, match="deformable=True"):
        convert.load_state_dict(
            RTM3D(backbone="dla34", head_conv=8, deformable=False, input_shape=(64, 64, 3)), state
        )
