"""DLA-34 with the deformable DLA-up / IDA-up neck of CenterNet / KM3D (`pose_dla_dcn.py` `DLASeg`).

The backbone is dla.py's (`dla_levels`: DLA-34 levels (1, 1, 1, 2, 2, 1), channels (16, 32, 64, 128,
256, 512)). The neck is dla.py's DLA-up (startp 2 over the stride 4..32 levels) followed by the IDA-up
that folds the DLA-up outputs at strides 4, 8 and 16 (down_ratio 4, last_level 5) into one stride-4
map of 64 channels, with one difference: every IDA-up `proj` and `node` is a `DeformConv` (DCNv2 3x3,
with bias, + BN + ReLU) instead of conv + BN + ReLU. The up-samplers are the same depthwise transposed
convs (kernel 2f, stride f, padding f // 2, groups = channels, no bias, bilinear-initialised).

`deformable=False` swaps each DCN for a plain 3x3 conv with bias (the DCN's main kernel and bias,
without the offset/mask conv): for TFLite and speed (the gather-based DCN is slow and not delegated,
see official/ops/deform_conv.py). It is a different network, not an exact stand-in for a trained
DCN model: the offsets and the mask (sigmoid, 0.5 when untrained) are gone, so it needs its own
training or fine-tuning. It has 638,064 fewer parameters (the 16 offset/mask convs, 3*9 outputs each).

Trainable parameters: 19,169,440 with DCN. The official DLASeg trunk (base + dla_up + ida_up,
PyTorch, DCN with the same parameters) counts 19,211,168: the 41,728 more are the `project` 1x1
conv + BN of the outer level-3 and level-4 trees, which PyTorch creates but never uses (dla.py does not
create them). Layer names are dla.py's ("base", "level0".."level5_*", "neck_*"); the DCN layers are
"<block>_dcn". The output is the layer "neck_ida_node2_relu": (B, H/4, W/4, 64).
"""

from __future__ import annotations

import keras
from keras import layers

from official.core.base_model import ZooModel
from official.ops.deform_conv import DeformConv2D
from official.vision.backbones.dla import DLA34_CHANNELS, DLA34_LEVELS, dla_levels, dla_up_neck

OUTPUT_LAYER = "neck_ida_node2_relu"


def deform_conv_bn(x, filters: int, kernel: int, stride: int, name: str, bn: dict):
    """KM3D `DeformConv`: DCN (kernel k, padding k // 2, with bias) + BN + ReLU."""
    x = DeformConv2D(filters, kernel, strides=stride, name=f"{name}_dcn")(x)
    x = layers.BatchNormalization(name=f"{name}_bn", **bn)(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def plain_conv_bn(x, filters: int, kernel: int, stride: int, name: str, bn: dict):
    """The `deformable=False` block: 3x3 conv with bias (the DCN's main weights) + BN + ReLU."""
    if stride != 1:
        raise ValueError(f"plain_conv_bn: the neck only uses stride 1, got {stride}")
    x = layers.Conv2D(filters, kernel, padding="same", use_bias=True, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn", **bn)(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def dla34_dcn_seg(
    inputs,
    deformable: bool = True,
    bn_momentum: float = 0.9,
    bn_epsilon: float = 1e-5,
    channels: tuple[int, ...] = DLA34_CHANNELS,
    levels: tuple[int, ...] = DLA34_LEVELS,
):
    """DLA-34 + the DCN DLA-up / IDA-up neck on a (B, H, W, 3) tensor -> (B, H/4, W/4, channels[2]).

    H and W must be multiples of 32 (the five stride-2 stages and the exact 2x up-samplers).
    deformable: DCNv2 blocks (KM3D) or plain 3x3 convs (TFLite / speed; see the module docstring).
    bn_momentum, bn_epsilon: BatchNorm (PyTorch momentum 0.1 = Keras 0.9, eps 1e-5).
    """
    bn = {"momentum": bn_momentum, "epsilon": bn_epsilon}
    feats = dla_levels(inputs, channels, levels, bn)
    block = deform_conv_bn if deformable else plain_conv_bn
    return dla_up_neck([feats[f"P{i}"] for i in range(2, 6)], list(channels[2:]), bn, block=block)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class DLA34DCNSeg(ZooModel):
    """`dla34_dcn_seg` as a model: images (B, H, W, 3) -> {"P2_fused": (B, H/4, W/4, 64)}."""

    def __init__(
        self,
        deformable: bool = True,
        input_shape: tuple[int | None, int | None, int] = (None, None, 3),
        bn_momentum: float = 0.9,
        bn_epsilon: float = 1e-5,
        **kwargs,
    ):
        inputs = keras.Input(shape=tuple(input_shape), name="images")
        fused = dla34_dcn_seg(inputs, deformable, bn_momentum, bn_epsilon)
        super().__init__(inputs=inputs, outputs={"P2_fused": fused}, **kwargs)
