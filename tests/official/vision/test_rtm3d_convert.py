"""RTM3D converter: a PoseResNet-layout PyTorch state dict (msra_resnet.py key names and shapes, written
here as a small torch module) converts into rtm3d_tiny-shaped Keras weights and both give the same head
maps; wrong checkpoints are one-line errors. The full-size check against the authors' module itself
(16,703,152 parameters, max |diff| 1.5e-7) runs outside the repo and is recorded in the model card."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from official.core.checkpoint_convert import ConversionError  # noqa: E402
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
            setattr(self, head, nn.Sequential(nn.Conv2d(cin, ARGS["head_conv"], 3, padding=1), nn.ReLU(),
                                              nn.Conv2d(ARGS["head_conv"], n, 1)))

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
        np.testing.assert_allclose(np.asarray(got[head]), value.numpy().transpose(0, 2, 3, 1), atol=2e-5, err_msg=head)


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
