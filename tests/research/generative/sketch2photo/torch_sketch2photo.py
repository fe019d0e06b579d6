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
