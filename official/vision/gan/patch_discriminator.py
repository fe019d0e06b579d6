"""The PatchGAN discriminator of pix2pix/CycleGAN (`NLayerDiscriminator`): a map of real/fake logits, one
per overlapping 70x70 patch at the default 3 layers.

conv4x4 stride 2 (filters), LReLU 0.2; then `layers - 1` x [conv4x4 stride 2 (x2, at most x8), IN, LReLU];
conv4x4 stride 1 (x2, at most x8), IN, LReLU; conv4x4 stride 1 -> 1 logit. Each convolution sees the input
zero-padded by 1 (torch padding=1). Biases everywhere (instance norm), IN without affine parameters:
2,764,737 parameters for 3 input channels at 64 filters and 3 layers.
"""

from __future__ import annotations

import keras
from keras import layers

from official.core.base_model import ZooModel
from official.vision.gan.layers import instance_norm


def _conv(x, filters: int, strides: int, name: str):
    x = layers.ZeroPadding2D(1, name=f"{name}_pad")(x)
    return layers.Conv2D(filters, 4, strides=strides, name=f"{name}_conv")(x)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class PatchDiscriminator(ZooModel):
    """(batch, H, W, input_channels) -> (batch, h, w, 1) logits."""

    def __init__(self, input_channels: int = 3, filters: int = 64, layers_count: int = 3,
                 image_size: tuple[int, int] = (256, 256), **kwargs):
        inputs = keras.Input(shape=(*tuple(image_size), input_channels), name="image")
        x = layers.LeakyReLU(0.2, name="l0_act")(_conv(inputs, filters, 2, "l0"))
        for i in range(1, layers_count + 1):
            width = filters * min(2 ** i, 8)
            x = _conv(x, width, 2 if i < layers_count else 1, f"l{i}")
            x = layers.LeakyReLU(0.2, name=f"l{i}_act")(instance_norm(f"l{i}_norm")(x))
        outputs = _conv(x, 1, 1, "logits")
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
