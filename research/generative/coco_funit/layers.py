"""Building blocks of COCO-FUNIT's networks (imaginaire's Conv2dBlock / Res2dBlock / UpRes2dBlock, reflect padding).

Each block is a small function on functional-API tensors; names are stable because the checkpoint converter
(convert.py) maps the official PyTorch keys onto them.
"""

from __future__ import annotations

import keras
from keras import layers

from official.core.base_model import ZooLayer
from official.layers.adaptive_norm import ConditionalAdaIN
from official.vision.gan.layers import ReflectionPad2D, instance_norm


def conv(x, filters: int, kernel: int, name: str, strides: int = 1, pad: int | None = None):
    """Reflect-pad (kernel // 2 unless `pad`) then a 'valid' conv with bias (torch padding_mode='reflect')."""
    p = kernel // 2 if pad is None else pad
    if p:
        x = ReflectionPad2D(p, name=f"{name}_pad")(x)
    return layers.Conv2D(filters, kernel, strides=strides, name=f"{name}_conv")(x)


def conv_in_relu(x, filters: int, kernel: int, name: str, strides: int = 1, pad: int | None = None):
    """Content encoder block: conv -> affine instance norm -> ReLU."""
    x = conv(x, filters, kernel, name, strides, pad)
    return layers.ReLU(name=f"{name}_relu")(instance_norm(f"{name}_norm", affine=True)(x))


def conv_adain_relu(x, w, filters: int, kernel: int, name: str):
    """Decoder block: conv -> conditional AdaIN on w (its own Dense(2C)) -> ReLU."""
    x = conv(x, filters, kernel, name)
    return layers.ReLU(name=f"{name}_relu")(ConditionalAdaIN(name=f"{name}_adain")((x, w)))


def up2(x, name: str):
    return layers.UpSampling2D(2, interpolation="nearest", name=name)(x)


@keras.saving.register_keras_serializable("eccv20_zoo")
class StyleBias(ZooLayer):
    """COCO-FUNIT's universal style bias u (1 x dims, N(0, 1) init), concatenated to every style code."""

    def __init__(self, dims: int = 1024, **kwargs):
        super().__init__(**kwargs)
        self.dims = int(dims)
        self.usb = None

    def build(self, input_shape):
        self.usb = self.add_weight(shape=(1, self.dims), initializer=keras.initializers.RandomNormal(0.0, 1.0),
                                   name="usb")

    def call(self, style):
        u = keras.ops.broadcast_to(keras.ops.cast(self.usb, style.dtype), (keras.ops.shape(style)[0], self.dims))
        return keras.ops.concatenate([style, u], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1] + self.dims)
