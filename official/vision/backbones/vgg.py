"""VGG conv trunks (Simonyan & Zisserman, ICLR 2015) in torchvision's `features` layout, tapped at any layer.

torchvision's `vgg16().features` is one Sequential of conv3x3 (pad 1, bias) / ReLU / MaxPool(2) modules; a
layer's index in it is its state-dict key (`features.<idx>.weight`). Layers here are named as the papers
and S2DNet's `vgg16.py` name them (conv1_1, relu1_1, ..., pool1, conv2_1, ...) and `torch_index(name)`
gives the Sequential index, so converters map `encoder.<idx>.*` to `conv<b>_<i>` without a table.
Unlike keras.applications.VGG16 the ReLU is a separate layer, so a tap on `conv5_3` is the pre-activation
map (what S2DNet's truncated encoder ends on). `width_divisor` narrows every stage (tests, CPU runs).
"""

from __future__ import annotations

import dataclasses

from keras import layers


@dataclasses.dataclass(frozen=True)
class VggStage:
    """One stage: `convs` 3x3 convs of `filters` channels (each followed by ReLU), then a 2x2 max pool."""

    convs: int
    filters: int


# Table D of the paper (VGG-16): 13 convs, 14,714,688 weights and biases.
VGG16 = (VggStage(2, 64), VggStage(2, 128), VggStage(3, 256), VggStage(3, 512), VggStage(3, 512))


def layer_names(stages: tuple[VggStage, ...] = VGG16) -> list[str]:
    """Every layer of `features` in torchvision's order: conv1_1, relu1_1, conv1_2, relu1_2, pool1, ..."""
    names = []
    for b, stage in enumerate(stages, start=1):
        for i in range(1, stage.convs + 1):
            names += [f"conv{b}_{i}", f"relu{b}_{i}"]
        names.append(f"pool{b}")
    return names


def torch_index(name: str, stages: tuple[VggStage, ...] = VGG16) -> int:
    """The index of layer `name` in torchvision's `features` Sequential (conv1_2 -> 2, conv5_3 -> 28)."""
    names = layer_names(stages)
    if name not in names:
        raise ValueError(f"vgg: unknown layer {name!r}; known: {', '.join(names)}")
    return names.index(name)


def layer_channels(name: str, stages: tuple[VggStage, ...] = VGG16, width_divisor: int = 1) -> int:
    """Channels of layer `name`'s output (pool_b: stage b's width)."""
    torch_index(name, stages)
    return stages[int(name[4]) - 1].filters // width_divisor  # conv1_2, relu1_2, pool1: the stage digit


def layer_stride(name: str, stages: tuple[VggStage, ...] = VGG16) -> int:
    """Output stride of layer `name`: 2 ** (pools at or before it)."""
    names = layer_names(stages)
    upto = names[: torch_index(name, stages) + 1]
    return 2 ** sum(n.startswith("pool") for n in upto)


def vgg_trunk(x, last: str = "conv5_3", taps: tuple[str, ...] = (), stages: tuple[VggStage, ...] = VGG16,
              width_divisor: int = 1, name: str = "") -> dict:
    """Runs the trunk on `x` (B, H, W, C) up to and including layer `last`; returns {tap name: tensor}.

    Conv: 3x3, "same" padding (= torch padding 1 at stride 1), bias, channels stage.filters // width_divisor.
    """
    names = layer_names(stages)
    stop = torch_index(last, stages)
    unknown = [t for t in taps if t not in names[: stop + 1]]
    if unknown:
        raise ValueError(f"vgg_trunk: taps {unknown} are not in the trunk up to {last!r}")
    out = {}
    for layer_name in names[: stop + 1]:
        if layer_name.startswith("conv"):
            filters = stages[int(layer_name[4]) - 1].filters // width_divisor
            x = layers.Conv2D(filters, 3, padding="same", name=f"{name}{layer_name}")(x)
        elif layer_name.startswith("relu"):
            x = layers.ReLU(name=f"{name}{layer_name}")(x)
        else:
            x = layers.MaxPooling2D(2, 2, name=f"{name}{layer_name}")(x)
        if layer_name in taps:
            out[layer_name] = x
    return out
