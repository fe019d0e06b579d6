"""GraphMemVOS encoders (models/graph_memory.py Encoder_Q / Encoder_M): ResNet-50 up to layer3, channels-last.

Both normalise an RGB frame in [0, 1] with the ImageNet mean / std, then torchvision's ResNet-50 stem and
layer1-3 (official/vision/backbones/resnet.py bottlenecks): outputs r4 (stride 16, 1024 ch), r3 (stride 8,
512) and r2 (stride 4, 256). The memory encoder adds two 7x7/2 bias-free convs 1 -> 64 of the object mask
and of the other objects' mask to conv1's output before bn1 (spec "Encoders"); 6,272 extra parameters.
Trainable parameters: query 8,543,296, memory 8,549,568 (torchvision counts; BN moving statistics are
non-trainable here and buffers there).
"""

from __future__ import annotations

import keras
from keras import layers

from official.vision.backbones.resnet import BOTTLENECK_EXPANSION, bottleneck_block

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
STAGES = ((3, 64), (4, 128), (6, 256))  # ResNet-50 layer1-3: (blocks, width); outputs 4 x width channels
BN = {"momentum": 0.9, "epsilon": 1e-5}


def _stem_conv(x, name: str, width: int = 64):
    x = layers.ZeroPadding2D(3, name=f"{name}_pad")(x)
    return layers.Conv2D(width, 7, strides=2, use_bias=False, name=name)(x)


def _trunk(x, name: str, stages=STAGES) -> dict:
    """bn1 + ReLU + max-pool + layer1-3 of a conv1 output -> {"r2", "r3", "r4"}."""
    x = layers.BatchNormalization(name=f"{name}_bn1", **BN)(x)
    x = layers.ReLU(name=f"{name}_relu")(x)
    x = layers.ZeroPadding2D(1, name=f"{name}_pool_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name=f"{name}_pool")(x)
    out = {}
    for stage, (count, width) in enumerate(stages):
        for i in range(count):
            x = bottleneck_block(x, width, 2 if (i == 0 and stage > 0) else 1, f"{name}_layer{stage + 1}_{i}", BN)
        out[f"r{stage + 2}"] = x
    assert out["r4"].shape[-1] == stages[-1][1] * BOTTLENECK_EXPANSION
    return out


def _normalise(frame, name: str):
    return layers.Normalization(mean=IMAGENET_MEAN, variance=[s * s for s in IMAGENET_STD], name=f"{name}_norm")(frame)


def query_encoder(name: str = "encoder_q", stem_width: int = 64, stages=STAGES) -> keras.Model:
    """frame (B, H, W, 3) in [0, 1] -> {"r4", "r3", "r2"}. `stem_width` / `stages` ((blocks, width) of
    layer1-3) shrink the trunk for tests; the defaults are ResNet-50's."""
    frame = keras.Input((None, None, 3), name="frame")
    out = _trunk(_stem_conv(_normalise(frame, name), f"{name}_conv1", stem_width), name, stages)
    return keras.Model(frame, out, name=name)


def memory_encoder(name: str = "encoder_m", stem_width: int = 64, stages=STAGES) -> keras.Model:
    """(frame (B, H, W, 3) in [0, 1], object mask (B, H, W, 1), other objects (B, H, W, 1)) -> {"r4", "r3", "r2"}."""
    frame = keras.Input((None, None, 3), name="frame")
    mask = keras.Input((None, None, 1), name="mask")
    others = keras.Input((None, None, 1), name="others")
    convs = [_stem_conv(_normalise(frame, name), f"{name}_conv1", stem_width),
             _stem_conv(mask, f"{name}_conv1_m", stem_width), _stem_conv(others, f"{name}_conv1_o", stem_width)]
    x = layers.Add(name=f"{name}_conv1_sum")(convs)
    return keras.Model([frame, mask, others], _trunk(x, name, stages), name=name)
