"""CycleGAN's networks: parameter counts as the official code prints them (G 11.378 M, D 2.765 M at 3 channels),
and outputs equal to a torch build of the same layers (written here from the published architecture) with the
same weights, which pins the padding of the strided and transposed convolutions."""

import numpy as np
import torch
from torch import nn

from official.core import registry
from official.vision.gan.patch_discriminator import PatchDiscriminator
from official.vision.gan.resnet_generator import ResnetGenerator


def test_parameter_counts():
    assert registry.create_model("cyclegan_resnet9").trainable_parameter_count == 11_378_179
    assert PatchDiscriminator().trainable_parameter_count == 2_764_737
    assert PatchDiscriminator(image_size=(256, 256)).output_shape == (None, 30, 30, 1)


def _torch_generator(f, blocks):
    def cnr(conv, c):
        return [conv, nn.InstanceNorm2d(c), nn.ReLU()]

    layers = [nn.ReflectionPad2d(3), *cnr(nn.Conv2d(3, f, 7), f)]
    layers += cnr(nn.Conv2d(f, 2 * f, 3, 2, 1), 2 * f) + cnr(nn.Conv2d(2 * f, 4 * f, 3, 2, 1), 4 * f)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.ReflectionPad2d(1), *cnr(nn.Conv2d(4 * f, 4 * f, 3), 4 * f),
                                      nn.ReflectionPad2d(1), nn.Conv2d(4 * f, 4 * f, 3), nn.InstanceNorm2d(4 * f))

        def forward(self, x):
            return x + self.body(x)

    layers += [Block() for _ in range(blocks)]
    layers += cnr(nn.ConvTranspose2d(4 * f, 2 * f, 3, 2, 1, output_padding=1), 2 * f)
    layers += cnr(nn.ConvTranspose2d(2 * f, f, 3, 2, 1, output_padding=1), f)
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(f, 3, 7), nn.Tanh()]
    return nn.Sequential(*layers).double().eval()


def _copy(keras_model, torch_model):
    convs = [m for m in torch_model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    kernels = [layer for layer in keras_model.layers if layer.name.endswith("_conv")]
    assert len(convs) == len(kernels)
    for conv, layer in zip(convs, kernels, strict=True):
        kernel, bias = (np.asarray(w, np.float64) for w in layer.get_weights())
        # Keras Conv2D (kh, kw, in, out) -> torch (out, in, kh, kw); Conv2DTranspose (kh, kw, out, in) -> (in, out, kh, kw)
        conv.weight.data = torch.tensor(np.transpose(kernel, (3, 2, 0, 1)))
        conv.bias.data = torch.tensor(bias)


def test_generator_equals_torch_build():
    model = ResnetGenerator(filters=4, blocks=2, image_size=(32, 32))
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(scale=0.3, size=w.shape).astype(np.float32) for w in model.get_weights()])
    reference = _torch_generator(4, 2)
    _copy(model, reference)
    x = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    want = reference(torch.tensor(np.transpose(x, (0, 3, 1, 2))).double()).detach().numpy()
    np.testing.assert_allclose(np.asarray(model(x)), np.transpose(want, (0, 2, 3, 1)), atol=1e-4)
