"""TSIT's building blocks (spec card "Method"; keras.ops / keras.layers only).

- `StreamResnetBlock`: the content/style streams' residual block (IN without affine, LReLU 0.2).
- `FADEResnetBlock`: the decoder block, FADE = official SpatialDenorm with hidden=0 (batch norm without
  affine, gamma/beta 3x3 convs of the content feature).
- `FAdaIN`: AdaIN of the decoder map to the style feature (official/layers/adaptive_norm.adain).
- `Subsample` (torch nearest interpolate x0.5 = every second pixel) and `AvgPoolExcludePad`
  (avg_pool2d 3x3 s2 pad 1, count_include_pad=False: the multi-scale discriminator's downsampling).
Spectral norm: keras.layers.SpectralNormalization (its u-vector is non-trainable, so counts equal torch's).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooLayer
from official.layers.adaptive_norm import SpatialDenorm, adain


def instance_norm(name: str) -> layers.Layer:
    """torch InstanceNorm2d(affine=False): one group per channel. (official/vision/gan/layers.py has the same
    one-liner, but importing it loads that package's experiments and TensorFlow, which JAX runs must not.)"""
    return layers.GroupNormalization(groups=-1, epsilon=1e-5, center=False, scale=False, name=name)


def xavier(gain: float = 0.02) -> keras.initializers.Initializer:
    """torch xavier_normal_(gain): std = gain * sqrt(2 / (fan_in + fan_out)) (SPADE's init_weights)."""
    return keras.initializers.VarianceScaling(scale=gain * gain, mode="fan_avg", distribution="untruncated_normal")


def conv(filters: int, kernel: int, name: str, use_bias: bool = True, strides: int = 1, padding: str = "same",
         spectral: bool = True) -> layers.Layer:
    layer = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=use_bias,
                          kernel_initializer=xavier(), name=name if not spectral else f"{name}_conv")
    return layers.SpectralNormalization(layer, name=name) if spectral else layer


@keras.saving.register_keras_serializable("eccv20_zoo")
class Subsample(ZooLayer):
    """x[:, ::2, ::2]: torch F.interpolate(scale_factor=0.5, mode='nearest') (the streams' "down")."""

    def call(self, x):
        return x[:, ::2, ::2, :]

    def compute_output_shape(self, s):
        return (s[0], None if s[1] is None else (s[1] + 1) // 2, None if s[2] is None else (s[2] + 1) // 2, s[3])


@keras.saving.register_keras_serializable("eccv20_zoo")
class AvgPoolExcludePad(ZooLayer):
    """3x3 stride-2 average over the window's in-image pixels, zero-padded by 1 (torch count_include_pad=False)."""

    def call(self, x):
        padded = ops.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        ones = ops.pad(ops.ones_like(x[..., :1]), ((0, 0), (1, 1), (1, 1), (0, 0)))
        total = ops.average_pool(padded, 3, 2, padding="valid")
        count = ops.average_pool(ones, 3, 2, padding="valid")
        return total / count

    def compute_output_shape(self, s):
        return (s[0], None if s[1] is None else (s[1] - 1) // 2 + 1, None if s[2] is None else (s[2] - 1) // 2 + 1, s[3])


@keras.saving.register_keras_serializable("eccv20_zoo")
class FAdaIN(ZooLayer):
    """alpha * AdaIN(x, style) + (1 - alpha) * x; unbiased std + 1e-5 (TSIT's calc_mean_std). call((x, s))."""

    def __init__(self, alpha: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs):
        x, style = inputs
        return adain(x, style, self.alpha)

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def stream_block(x, fin: int, fout: int, name: str):
    """StreamResnetBlock: shortcut LReLU(IN(conv1x1)) if fin != fout; residual conv3x3 IN LReLU twice."""
    if fin != fout:
        shortcut = conv(fout, 1, f"{name}_conv_s", use_bias=False)(x)
        shortcut = layers.LeakyReLU(0.2, name=f"{name}_act_s")(instance_norm(f"{name}_norm_s")(shortcut))
    else:
        shortcut = x
    dx = conv(fin, 3, f"{name}_conv_0")(x)
    dx = layers.LeakyReLU(0.2, name=f"{name}_act_0")(instance_norm(f"{name}_norm_0")(dx))
    dx = conv(fout, 3, f"{name}_conv_1")(dx)
    dx = layers.LeakyReLU(0.2, name=f"{name}_act_1")(instance_norm(f"{name}_norm_1")(dx))
    return layers.Add(name=f"{name}_out")([shortcut, dx])


def fade(x, feature, name: str):
    return SpatialDenorm(norm="batch", hidden=0, kernel_size=3, name=name)([x, feature])


def fade_block(x, feature, fin: int, fout: int, name: str):
    """FADEResnetBlock(fin -> fout | feature): shortcut conv1x1(FADE_s) if fin != fout; residual
    conv3x3(LReLU(FADE_1(conv3x3(LReLU(FADE_0(x)))))) with hidden width fin."""
    shortcut = conv(fout, 1, f"{name}_conv_s", use_bias=False)(fade(x, feature, f"{name}_norm_s")) if fin != fout else x
    dx = conv(fin, 3, f"{name}_conv_0")(layers.LeakyReLU(0.2, name=f"{name}_act_0")(fade(x, feature, f"{name}_norm_0")))
    dx = conv(fout, 3, f"{name}_conv_1")(layers.LeakyReLU(0.2, name=f"{name}_act_1")(fade(dx, feature, f"{name}_norm_1")))
    return layers.Add(name=f"{name}_out")([shortcut, dx])
