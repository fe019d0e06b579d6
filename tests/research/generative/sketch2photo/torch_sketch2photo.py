"""A torch build of Sketch2Photo's G_A written from the spec card (not the authors' code): CycleGAN's
ResnetGenerator Sequential under `model.N` (the official key layout) and the attention conv, applied after
the second down-sampling. `legacy=True` computes what the official code does (implicit-dim softmax on the
NHWC tensor = over the height axis, channel 0); else the softmax over the two logits."""

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv_block = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c), nn.ReLU(True),
                                        nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c))

    def forward(self, x):
        return x + self.conv_block(x)


class TorchGA(nn.Module):
    def __init__(self, f=64, blocks=9, attention=True, legacy=True, channels=1):
        super().__init__()
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(channels, f, 7), nn.InstanceNorm2d(f), nn.ReLU(True)]
        for i in range(2):
            layers += [nn.Conv2d(f * 2 ** i, f * 2 ** (i + 1), 3, 2, 1), nn.InstanceNorm2d(f * 2 ** (i + 1)), nn.ReLU(True)]
        layers += [Block(4 * f) for _ in range(blocks)]
        for i in range(2):
            c = 4 * f // 2 ** i
            layers += [nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1), nn.InstanceNorm2d(c // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(f, channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        self.attention = nn.Conv2d(4 * f, 2, 1) if attention else None
        self.legacy = legacy

    def forward(self, x):
        x = self.model[:10](x)
        if self.attention is not None:
            a = self.attention(x)
            if self.legacy:
                w = torch.softmax(a.permute(0, 2, 3, 1), dim=1)[..., 0:1].permute(0, 3, 1, 2)
            else:
                w = torch.softmax(a, dim=1)[:, 0:1]
            x = x * (1 - w)
        return self.model[10:](x)


def adain_vgg(deeper: bool = False) -> nn.Sequential:
    """AdaIN's normalised VGG Sequential to relu3_4 (index 26) as the card describes it; `deeper` adds the next
    pool and conv (relu4_1) that vgg_normalised.pth also holds."""
    layers = [nn.Conv2d(3, 3, 1)]
    c_in = 3
    for block, convs in ((1, 2), (2, 2), (3, 4)):
        if block > 1:
            layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
        for _ in range(convs):
            c_out = 64 * 2 ** (block - 1)
            layers += [nn.ReflectionPad2d(1), nn.Conv2d(c_in, c_out, 3), nn.ReLU()]
            c_in = c_out
    if deeper:
        layers += [nn.MaxPool2d(2, 2, ceil_mode=True), nn.ReflectionPad2d(1), nn.Conv2d(256, 512, 3), nn.ReLU()]
    return nn.Sequential(*layers)


class TorchColorizer(nn.Module):
    """Stage 2's G_A with the official key layout: the VGG cut into enc_1..enc_4 ([0:4], [4:11], [11:18],
    [18:27]) and ResnetGenerator's decoder Sequential (blocks at 256 ch, two transposed convs, conv7x7, tanh)."""

    def __init__(self, blocks=12):
        super().__init__()
        vgg = list(adain_vgg().children())
        for i, (start, end) in enumerate(((0, 4), (4, 11), (11, 18), (18, 27))):
            setattr(self, f"enc_{i + 1}", nn.Sequential(*vgg[start:end]))
        layers = [Block(256) for _ in range(blocks)]
        for c in (256, 128):
            layers += [nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1), nn.InstanceNorm2d(c // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(64, 3, 7), nn.Tanh()]
        self.decoder = nn.Sequential(*layers)

    def forward(self, x):
        for i in range(4):
            x = getattr(self, f"enc_{i + 1}")(x)
        return self.decoder(x)
