"""ResNet converters: state dicts with the official key names and shapes (torchvision's resnet50 as the
Game-of-Noise releases hold it; Side-Tuning's resnet44-cifar.pth layout), random values made here, go
through `tools.convert_checkpoint` and the converted Keras models match a PyTorch functional forward
written here from the layer definitions (F.conv2d / F.batch_norm / F.pad on the same tensors). Wrappers
(DataParallel "module.", ZeroOneResNet50 "resnet.", "model_state_dict" / "state_dict") are accepted;
wrong checkpoints are one-line errors. The checks against the authors' modules (real Side-Tuning weights:
features max |diff| 1.2e-6) run outside the repo and are in the model card."""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest
import torch  # required (pyproject extra "convert"): a missing install fails, never skips
import torch.nn.functional as F

from official.core.checkpoint_convert import ConversionError, read_pytorch_checkpoint, unwrap_state_dict
from official.vision.resnet import convert
from official.vision.resnet.model import CifarResNet, ResNet
from tools.convert_checkpoint import convert as convert_cli

IMAGENET_BLOCKS = {50: (3, 4, 6, 3)}  # torchvision resnet50: Bottleneck, layers [3, 4, 6, 3]


def _conv_bn_state(rng, conv: str, bn: str, cin: int, cout: int, k: int) -> dict:
    return {
        f"{conv}.weight": rng.normal(0, (cin * k * k) ** -0.5, (cout, cin, k, k)),
        f"{bn}.weight": rng.uniform(0.5, 1.5, cout),
        f"{bn}.bias": rng.normal(0, 0.1, cout),
        f"{bn}.running_mean": rng.normal(0, 0.1, cout),
        f"{bn}.running_var": rng.uniform(0.5, 1.5, cout),
        f"{bn}.num_batches_tracked": np.array(7),
    }


def torchvision_resnet50_state(seed: int = 0, classes: int = 1000) -> dict[str, torch.Tensor]:
    """torchvision resnet50 names and shapes: Bottleneck(inplanes, planes): conv1 1x1 -> planes, conv2 3x3,
    conv3 1x1 -> 4 * planes; downsample.0/.1 on the first block of each stage."""
    rng = np.random.default_rng(seed)
    state = _conv_bn_state(rng, "conv1", "bn1", 3, 64, 7)
    inplanes = 64
    for s, (count, planes) in enumerate(zip(IMAGENET_BLOCKS[50], (64, 128, 256, 512), strict=True), start=1):
        for b in range(count):
            p = f"layer{s}.{b}"
            state |= _conv_bn_state(rng, f"{p}.conv1", f"{p}.bn1", inplanes, planes, 1)
            state |= _conv_bn_state(rng, f"{p}.conv2", f"{p}.bn2", planes, planes, 3)
            state |= _conv_bn_state(rng, f"{p}.conv3", f"{p}.bn3", planes, 4 * planes, 1)
            if b == 0:
                state |= _conv_bn_state(rng, f"{p}.downsample.0", f"{p}.downsample.1", inplanes, 4 * planes, 1)
            inplanes = 4 * planes
    state["fc.weight"] = rng.normal(0, 2048**-0.5, (classes, 2048))
    state["fc.bias"] = rng.normal(0, 0.1, classes)
    return {k: torch.from_numpy(np.asarray(v, np.int64 if k.endswith("tracked") else np.float32)) for k, v in state.items()}


def _cbr(sd, x, conv: str, bn: str, stride: int, padding: int, relu: bool):
    y = F.conv2d(x, sd[f"{conv}.weight"], stride=stride, padding=padding)
    y = F.batch_norm(y, sd[f"{bn}.running_mean"], sd[f"{bn}.running_var"], sd[f"{bn}.weight"], sd[f"{bn}.bias"],
                     training=False, eps=1e-5)
    return F.relu(y) if relu else y


def torch_resnet50(sd, x: torch.Tensor) -> torch.Tensor:
    """torchvision's resnet50 forward in functional form (stride on conv2, the 3x3: "v1.5")."""
    x = F.max_pool2d(_cbr(sd, x, "conv1", "bn1", 2, 3, True), 3, 2, 1)
    for s, count in enumerate(IMAGENET_BLOCKS[50], start=1):
        for b in range(count):
            p, stride = f"layer{s}.{b}", (2 if s > 1 and b == 0 else 1)
            y = _cbr(sd, x, f"{p}.conv1", f"{p}.bn1", 1, 0, True)
            y = _cbr(sd, y, f"{p}.conv2", f"{p}.bn2", stride, 1, True)
            y = _cbr(sd, y, f"{p}.conv3", f"{p}.bn3", 1, 0, False)
            short = _cbr(sd, x, f"{p}.downsample.0", f"{p}.downsample.1", stride, 0, False) if b == 0 else x
            x = F.relu(y + short)
    return F.linear(x.mean(dim=(2, 3)), sd["fc.weight"], sd["fc.bias"])


def cifar_state(n: int, seed: int = 0, linear: bool = False) -> dict[str, torch.Tensor]:
    """resnet_cifar.py names and shapes (conv1/bn1, layer{1,2,3}.{b}.conv{1,2}/bn{1,2}, linear); the
    Side-Tuning file has neither num_batches_tracked nor linear."""
    rng = np.random.default_rng(seed)
    state = _conv_bn_state(rng, "conv1", "bn1", 3, 16, 3)
    cin = 16
    for s, planes in enumerate((16, 32, 64), start=1):
        for b in range(n):
            state |= _conv_bn_state(rng, f"layer{s}.{b}.conv1", f"layer{s}.{b}.bn1", cin, planes, 3)
            state |= _conv_bn_state(rng, f"layer{s}.{b}.conv2", f"layer{s}.{b}.bn2", planes, planes, 3)
            cin = planes
    if linear:
        state |= {"linear.weight": rng.normal(0, 0.125, (10, 64)), "linear.bias": rng.normal(0, 0.1, 10)}
    return {k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in state.items() if not k.endswith("tracked")}


def torch_cifar_resnet(sd, x: torch.Tensor, n: int) -> torch.Tensor:
    """resnet_cifar.py's forward in functional form: option A = F.pad(x[:, :, ::2, ::2]) by planes // 4 on
    both sides of the channels; returns the pooled feature, or logits when `linear` is in `sd`."""
    x = _cbr(sd, x, "conv1", "bn1", 1, 1, True)
    for s, planes in enumerate((16, 32, 64), start=1):
        for b in range(n):
            p, stride = f"layer{s}.{b}", (2 if s > 1 and b == 0 else 1)
            y = _cbr(sd, x, f"{p}.conv1", f"{p}.bn1", stride, 1, True)
            y = _cbr(sd, y, f"{p}.conv2", f"{p}.bn2", 1, 1, False)
            short = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4)) if stride == 2 else x
            x = F.relu(y + short)
    x = x.mean(dim=(2, 3))
    return F.linear(x, sd["linear.weight"], sd["linear.bias"]) if "linear.weight" in sd else x


def _images(size: int, seed: int = 1) -> tuple[np.ndarray, torch.Tensor]:
    x = np.random.default_rng(seed).normal(size=(2, size, size, 3)).astype(np.float32)
    return x, torch.from_numpy(x.transpose(0, 3, 1, 2).copy())


def _load_converted(dst: str) -> keras.Model:
    model = keras.saving.load_model(os.path.join(dst, "model.keras"), safe_mode=True)
    model.load_weights(os.path.join(dst, "model.weights.h5"))
    return model


def test_game_of_noise_resnet50_checkpoint_converts_and_matches_torchvision_forward(tmp_path):
    """The file as Game-of-Noise's utils.save_model writes it for DataParallel(ZeroOneResNet50), read by
    the converter's own reader (the CLI's path to and from files is tested on the CIFAR file below)."""
    keras.backend.clear_session()
    sd = torchvision_resnet50_state()
    src = str(tmp_path / "ANT_Model.pth")
    wrapped = {f"module.resnet.{k}": v for k, v in sd.items()}
    torch.save({"epoch": 10, "model_state_dict": wrapped, "optimizer_state_dict": {"state": {}}}, src)
    state = unwrap_state_dict(read_pytorch_checkpoint(src))
    assert convert.infer_model_kwargs(state) == {"classes": 1000, "include_top": True}
    model = ResNet(depth=50, input_shape=(64, 64, 3))
    report = convert.load_state_dict(model, state)
    assert (len(report.assigned), len(report.skipped)) == (267, 53)  # 53 BN num_batches_tracked skipped
    assert report.assigned["layer2.0.conv2.weight"].startswith("resnet_layer2_0_2_conv/")
    x, xt = _images(64)
    with torch.no_grad():
        expected = torch_resnet50(sd, xt).numpy()
    got = np.asarray(model(x, training=False))
    assert float(np.abs(expected).max()) > 0.1
    np.testing.assert_allclose(got, expected, atol=2e-4, rtol=1e-4)


@pytest.mark.parametrize("wrap", ["bare", "resnet.", "module.", "state_dict", "model_state_dict+module.resnet."])
def test_wrappers_are_unwrapped(wrap):
    sd = {"conv1.weight": 1, "fc.bias": 2}
    if wrap == "bare":
        ck = sd
    elif wrap in ("resnet.", "module."):
        ck = {f"{wrap}{k}": v for k, v in sd.items()}
    elif wrap == "state_dict":
        ck = {"state_dict": sd, "best_prec1": 93.1}
    else:
        ck = {"epoch": 1, "model_state_dict": {f"module.resnet.{k}": v for k, v in sd.items()}}
    assert convert.normalise_state_dict(unwrap_state_dict(ck)) == sd


def test_side_tuning_resnet44_layout_converts_to_the_64d_feature_model(tmp_path):
    """Side-Tuning's resnet44-cifar.pth: {"best_prec1", "state_dict"} with "module." keys, no `linear`."""
    keras.backend.clear_session()
    sd = cifar_state(7)
    src = str(tmp_path / "resnet44-cifar.pth")
    torch.save({"best_prec1": 93.14, "state_dict": {f"module.{k}": v for k, v in sd.items()}}, src)
    result = convert_cli("pytorch", "resnet44_cifar", src, str(tmp_path / "out"))
    assert (result["tensors"], result["skipped"]) == (215, 0)
    model = _load_converted(str(tmp_path / "out"))
    assert isinstance(model, CifarResNet) and model.output.shape == (None, 64)
    x, xt = _images(32)
    with torch.no_grad():
        expected = torch_cifar_resnet(sd, xt, 7).numpy()
    assert float(np.abs(expected).max()) > 0.1
    np.testing.assert_allclose(np.asarray(model(x, training=False)), expected, atol=1e-4, rtol=1e-4)


def test_cifar_checkpoint_with_linear_gives_logits(tmp_path):
    keras.backend.clear_session()
    sd = cifar_state(3, seed=3, linear=True)
    model = CifarResNet(blocks_per_stage=3)
    report = convert.load_state_dict(model, sd)
    assert len(report.assigned) == len(sd) == 97  # 5 stem + 9 blocks x 10 + 2
    x, xt = _images(32, seed=2)
    with torch.no_grad():
        expected = torch_cifar_resnet(sd, xt, 3).numpy()
    np.testing.assert_allclose(np.asarray(model(x, training=False)), expected, atol=1e-4, rtol=1e-4)
    assert convert.infer_model_kwargs(sd) == {"classes": 10, "include_top": True}


def test_wrong_checkpoints_are_one_line_errors():
    keras.backend.clear_session()
    model = CifarResNet(blocks_per_stage=3, include_top=False)
    sd = cifar_state(3)
    with pytest.raises(ConversionError, match="has no 'layer3.2.bn2.running_var'"):
        convert.load_state_dict(model, {k: v for k, v in sd.items() if k != "layer3.2.bn2.running_var"})
    with pytest.raises(ConversionError, match="'layer1.0.conv1.weight' has shape"):
        convert.load_state_dict(model, {**sd, "layer1.0.conv1.weight": sd["layer1.0.conv2.weight"][:, :, :, :2]})
    with pytest.raises(ConversionError, match="'layer1.3.conv1.weight' has no place"):  # a ResNet-32 file
        convert.load_state_dict(model, {**sd, "layer1.3.conv1.weight": sd["layer1.0.conv1.weight"]})
    with pytest.raises(ConversionError, match="'linear.weight' has no place"):
        convert.load_state_dict(model, cifar_state(3, linear=True))
