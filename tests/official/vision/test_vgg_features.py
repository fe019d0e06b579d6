"""VGG-19 feature maps equal a torch build of VGG-19's conv trunk (3x3 convs, ReLU, 2x2 max-pools) with the same
weights, for torchvision's preprocessing; "caffe" preprocessing is BGR x 255 minus the mean."""

import numpy as np
import pytest
import torch
from torch import nn

from official.vision.gan import vgg_features


def _torch_trunk(model_layers):
    widths = [(3, 64), (64, 64), "M", (64, 128), (128, 128), "M", (128, 256), (256, 256), (256, 256), (256, 256), "M"]
    modules, convs = [], []
    for w in widths:
        if w == "M":
            modules.append(nn.MaxPool2d(2))
        else:
            conv = nn.Conv2d(*w, 3, padding=1)
            convs.append(conv)
            modules += [conv, nn.ReLU()]
    for conv, layer in zip(convs, model_layers, strict=True):
        kernel, bias = (np.asarray(v, np.float64) for v in layer.get_weights())
        conv.weight.data, conv.bias.data = torch.tensor(np.transpose(kernel, (3, 2, 0, 1))), torch.tensor(bias)
    return nn.Sequential(*modules).double()


def test_relu_outputs_equal_torch_build():
    model = vgg_features.vgg19_features(("relu1_1", "relu2_1", "relu3_4"), image_size=(32, 32))
    body = model.get_layer("vgg19_body")
    convs = [layer for layer in body.layers if "conv" in layer.name][:8]
    rng = np.random.default_rng(0)
    for layer in convs:  # He-scaled: activations stay O(1), so float32 agrees to 1e-4 of the largest value
        kernel, bias = layer.get_weights()
        scale = np.sqrt(2.0 / (9 * kernel.shape[2]))
        layer.set_weights([rng.normal(scale=scale, size=kernel.shape).astype(np.float32),
                           rng.normal(scale=0.1, size=bias.shape).astype(np.float32)])
    trunk = _torch_trunk(convs)
    x = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    mean, std = np.array(vgg_features.TORCH_MEAN), np.array(vgg_features.TORCH_STD)
    t = torch.tensor(np.transpose(((x + 1) / 2 - mean) / std, (0, 3, 1, 2)))
    taps = {1: "relu1_1", 6: "relu2_1", 17: "relu3_4"}  # indices of those ReLUs in the torch trunk
    want = {}
    for i, module in enumerate(trunk):
        t = module(t)
        if i in taps:
            want[taps[i]] = np.transpose(t.detach().numpy(), (0, 2, 3, 1))
    got = model(x)
    for name, value in zip(("relu1_1", "relu2_1", "relu3_4"), got, strict=True):
        np.testing.assert_allclose(np.asarray(value), want[name], rtol=1e-4, atol=1e-4 * np.abs(want[name]).max())
    assert not model.trainable_weights


def test_caffe_preprocessing_and_errors():
    x = np.array([[[[1.0, -1.0, 0.0]]]], np.float32)  # RGB (255, 0, 127.5)
    got = np.asarray(vgg_features.preprocess(x, "caffe"))[0, 0, 0]
    np.testing.assert_allclose(got, [127.5 - 103.939, 0.0 - 116.779, 255.0 - 123.68], atol=1e-4)
    with pytest.raises(ValueError, match="unknown \\['relu6_1'\\]"):
        vgg_features.vgg19_features(("relu6_1",))
    with pytest.raises(ValueError, match="expected 'torch' or 'caffe'"):
        vgg_features.preprocess(x, "tf")
