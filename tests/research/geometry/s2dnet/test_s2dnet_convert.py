"""Official S2DNet checkpoints -> S2DNet (METHOD_CONTRACT item 8): a checkpoint with S2DNet-Minimal's layout
({"hypercolumn_layers", "state_dict"}, keys encoder.<idx>.* and adaptation_layers.adap_layer_<i>.<j>.*) at tiny
widths converts through tools.convert_checkpoint's dispatch, and the Keras model equals a torch forward of the
spec's equations (torch's in-place ReLU included). Parity with the authors' own module:
benchmarks/s2dnet_torch_parity.py."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

nn = torch.nn
WIDTHS = (8, 8, "M", 16, 16, "M", 32, 32, 32, "M", 64, 64, 64, "M", 64, 64, 64)  # s2dnet_tiny (VGG-16 / 8)
TAPS = (2, 14, 28)  # conv1_2, conv3_3, conv5_3 in vgg16.features


def official_like_net() -> nn.Module:
    torch.manual_seed(0)
    layers, c = [], 3
    for w in WIDTHS:
        if w == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, w, 3, padding=1), nn.ReLU(inplace=True)]
            c = w
    encoder = nn.Sequential(*layers[:-1])  # features[:-2] of the full trunk: ends on conv5_3
    adaptation = nn.Module()
    for i, ch in enumerate((8, 32, 64)):
        adaptation.add_module(f"adap_layer_{i}", nn.Sequential(nn.Conv2d(ch, 16, 1), nn.ReLU(), nn.Conv2d(16, 32, 5, padding=2),
                                                              nn.BatchNorm2d(32)))
    net = nn.Module()
    net.encoder, net.adaptation_layers = encoder, adaptation
    with torch.no_grad():
        for name, t in net.state_dict().items():
            if name.endswith("running_var"):
                t.uniform_(0.5, 1.5)
            elif t.is_floating_point():
                t.add_(0.1 * torch.randn_like(t))
    return net.eval()


def torch_forward(net, image):
    """S2DNet-Minimal's forward: store the map at each tap index, let the in-place ReLU run over it."""
    x = (image - torch.tensor([0.485, 0.456, 0.406])[:, None, None]) / torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    taps = []
    for i, layer in enumerate(net.encoder):
        x = layer(x)
        if i in TAPS:
            taps.append(x)  # the same tensor: the next in-place ReLU overwrites it
    return [getattr(net.adaptation_layers, f"adap_layer_{i}")(t) for i, t in enumerate(taps)]


def test_converted_checkpoint_matches_torch(tmp_path):
    import keras

    import research.geometry.s2dnet  # noqa: F401
    from tools.convert_checkpoint import convert

    net = official_like_net()
    src = os.path.join(str(tmp_path), "s2dnet_weights.pth")
    torch.save({"hypercolumn_layers": ["conv1_2", "conv3_3", "conv5_3"], "state_dict": net.state_dict()}, src)
    result = convert("pytorch", "s2dnet_tiny", src, str(tmp_path / "converted"))
    assert result["tensors"] == 26 + 3 * 8 and result["skipped"] == 3  # num_batches_tracked
    model = keras.saving.load_model(result["outputs"]["model.keras"])
    image = np.random.default_rng(0).uniform(0, 1, (1, 3, 32, 48)).astype(np.float32)
    with torch.no_grad():
        want = [t.numpy().transpose(0, 2, 3, 1) for t in torch_forward(net, torch.from_numpy(image))]
    got = model(image.transpose(0, 2, 3, 1), training=False)
    for i, w in enumerate(want):
        np.testing.assert_allclose(np.asarray(got[f"features_{i + 1}"]), w, atol=1e-4, rtol=1e-4)
    assert want[2].std() > 0.1


def test_bad_state_dicts_name_the_key():
    import research.geometry.s2dnet  # noqa: F401
    from official.core import registry
    from official.core.checkpoint_convert import ConversionError
    from research.geometry.s2dnet import convert

    state = {k: v.numpy() for k, v in official_like_net().state_dict().items()}
    model = registry.create_model("s2dnet_tiny", **convert.infer_model_kwargs(state))
    with pytest.raises(ConversionError, match=r"checkpoint has no 'encoder\.28\.weight'"):
        convert.load_state_dict(model, {k: v for k, v in state.items() if k != "encoder.28.weight"})
    with pytest.raises(ConversionError, match=r"'encoder\.0\.weight' has shape"):
        convert.load_state_dict(model, {**state, "encoder.0.weight": state["encoder.0.weight"][:4]})
