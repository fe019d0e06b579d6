"""Feature-conditioned normalisations of the translation GANs (channels-last, keras.ops only).

- `adain` (Huang & Belongie; Sketch2Photo's colouriser, TSIT's FAdaIN): the content map's per-channel
  mean and standard deviation over H, W are replaced by the style map's; sigma = sqrt(unbiased variance
  + 1e-5) as pytorch-AdaIN's `calc_mean_std` and TSIT. `alpha` blends with the content map.
- `ConditionalAdaIN` (COCO-FUNIT, imaginaire's AdaptiveNorm): instance norm without affine parameters
  (biased variance, eps 1e-5, as torch's InstanceNorm2d), scaled by 1 + gamma and shifted by beta,
  where (gamma, beta) = split(Dense(2C)(w)) of a style vector w.
- `SpatialDenorm` (SPADE and TSIT's FADE): batch or instance norm without affine parameters, scaled by
  1 + gamma(f) and shifted by beta(f), with gamma and beta 3x3 convolutions of a conditioning map f
  (SPADE: through a shared 3x3 conv + ReLU of width `hidden`; FADE: directly, `hidden=0`). f is resized
  to x's size by nearest neighbour when they differ (SPADE resizes its label map this way).
- `ConditionalBatchNorm` (class-conditional BN; DAAE's generator): batch norm without affine parameters,
  scaled by 1 + gamma(e) and shifted by beta(e), with gamma and beta Dense(C) projections of a vector e
  (an identity or age code), the same for every pixel.
"""

from __future__ import annotations

import keras
from keras import ops

from official.core.base_model import ZooLayer

EPSILON = 1e-5


def _mean_std(x, unbiased: bool):
    mean = ops.mean(x, axis=(1, 2), keepdims=True)
    var = ops.mean(ops.square(x - mean), axis=(1, 2), keepdims=True)
    if unbiased:
        n = ops.cast(ops.shape(x)[1] * ops.shape(x)[2], x.dtype)
        var = var * n / (n - 1.0)
    return mean, ops.sqrt(var + EPSILON)


def instance_norm(x):
    """(x - mean_HW) / sqrt(biased var_HW + 1e-5) per sample and channel; no affine parameters."""
    mean, std = _mean_std(x, unbiased=False)
    return (x - mean) / std


def adain(content, style, alpha: float = 1.0):
    """AdaIN(content, style): content normalised per channel, then given the style map's mean and std."""
    c_mean, c_std = _mean_std(content, unbiased=True)
    s_mean, s_std = _mean_std(style, unbiased=True)
    out = (content - c_mean) / c_std * s_std + s_mean
    return out if alpha == 1.0 else alpha * out + (1.0 - alpha) * content


@keras.saving.register_keras_serializable("eccv20_zoo")
class ConditionalAdaIN(ZooLayer):
    """IN(x) * (1 + gamma) + beta with (gamma, beta) = split(Dense(2C)(w)); call((x, w))."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.affine = None

    def build(self, input_shape):
        x_shape, w_shape = input_shape
        self.affine = keras.layers.Dense(2 * int(x_shape[-1]), name="affine")
        self.affine.build(w_shape)

    def call(self, inputs):
        x, w = inputs
        gamma, beta = ops.split(self.affine(w), 2, axis=-1)
        return instance_norm(x) * (1.0 + gamma[:, None, None, :]) + beta[:, None, None, :]


@keras.saving.register_keras_serializable("eccv20_zoo")
class SpatialDenorm(ZooLayer):
    """SPADE (hidden > 0) / FADE (hidden = 0): norm(x) * (1 + gamma(f)) + beta(f); call((x, f)).

    norm: "batch" (SPADE's and TSIT's default, sync BN under tf.distribute since Keras reduces BN statistics
    across replicas when `synchronized=True`) or "instance"."""

    def __init__(self, norm: str = "batch", hidden: int = 0, kernel_size: int = 3, **kwargs):
        super().__init__(**kwargs)
        if norm not in ("batch", "instance"):
            raise ValueError(f"norm: expected 'batch' or 'instance', got {norm!r}")
        self.norm, self.hidden, self.kernel_size = norm, hidden, kernel_size
        # synchronized=True is TF-only in Keras (under JAX, batch statistics are per device)
        self.batch_norm = (keras.layers.BatchNormalization(center=False, scale=False, epsilon=EPSILON,
                                                           synchronized=keras.backend.backend() == "tensorflow",
                                                           name="norm")
                           if norm == "batch" else None)
        self.shared = (keras.layers.Conv2D(hidden, kernel_size, padding="same", activation="relu", name="shared")
                       if hidden else None)
        self.gamma = self.beta = None

    def build(self, input_shape):
        x_shape, f_shape = input_shape
        channels = int(x_shape[-1])
        cond_shape = tuple(x_shape[:3]) + (int(f_shape[-1]),)
        if self.batch_norm is not None:
            self.batch_norm.build(x_shape)
        if self.shared is not None:
            self.shared.build(cond_shape)
            cond_shape = cond_shape[:3] + (self.hidden,)
        self.gamma = keras.layers.Conv2D(channels, self.kernel_size, padding="same", name="gamma")
        self.beta = keras.layers.Conv2D(channels, self.kernel_size, padding="same", name="beta")
        self.gamma.build(cond_shape)
        self.beta.build(cond_shape)

    def call(self, inputs, training=None):
        x, f = inputs
        normalized = self.batch_norm(x, training=training) if self.batch_norm is not None else instance_norm(x)
        if f.shape[1] != x.shape[1] or f.shape[2] != x.shape[2]:
            f = ops.image.resize(f, tuple(x.shape[1:3]), interpolation="nearest")
        if self.shared is not None:
            f = self.shared(f)
        return normalized * (1.0 + self.gamma(f)) + self.beta(f)


@keras.saving.register_keras_serializable("eccv20_zoo")
class ConditionalBatchNorm(ZooLayer):
    """BN_noaffine(x) * (1 + gamma(e)) + beta(e) with gamma, beta = Dense(C)(e); call((x, e)).

    x: (B, H, W, C); e: (B, D). The statistics are synchronised across replicas under TensorFlow (Keras'
    `synchronized=True`; per device under JAX). momentum 0.9 / eps 1e-5 are torch BatchNorm2d's."""

    def __init__(self, momentum: float = 0.9, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.batch_norm = keras.layers.BatchNormalization(center=False, scale=False, epsilon=EPSILON, momentum=momentum,
                                                          synchronized=keras.backend.backend() == "tensorflow",
                                                          name="norm")
        self.gamma = self.beta = None

    def build(self, input_shape):
        x_shape, e_shape = input_shape
        channels = int(x_shape[-1])
        self.batch_norm.build(x_shape)
        self.gamma = keras.layers.Dense(channels, name="gamma")
        self.beta = keras.layers.Dense(channels, name="beta")
        self.gamma.build(e_shape)
        self.beta.build(e_shape)

    def call(self, inputs, training=None):
        x, e = inputs
        normalized = self.batch_norm(x, training=training)
        gamma, beta = self.gamma(e), self.beta(e)
        return normalized * (1.0 + gamma[:, None, None, :]) + beta[:, None, None, :]

    def compute_output_shape(self, input_shape):
        return input_shape[0]
