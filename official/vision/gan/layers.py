"""Small layers of the translation GANs that Keras lacks: reflection padding, and instance norm as used
by pix2pix/CycleGAN (torch InstanceNorm2d defaults: no affine parameters, biased variance, eps 1e-5)."""

from __future__ import annotations

import keras
from keras import ops

from official.core.base_model import ZooLayer


@keras.saving.register_keras_serializable("eccv20_zoo")
class ReflectionPad2D(ZooLayer):
    """Pads H and W by `padding` pixels mirrored without repeating the edge (torch ReflectionPad2d)."""

    def __init__(self, padding: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.padding = int(padding)

    def call(self, x):
        p = self.padding
        return ops.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        p = 2 * self.padding
        return (b, None if h is None else h + p, None if w is None else w + p, c)


def instance_norm(name: str, affine: bool = False) -> keras.layers.Layer:
    """Per-sample, per-channel normalisation over H, W (GroupNormalization with one group per channel)."""
    return keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, center=affine, scale=affine, name=name)
