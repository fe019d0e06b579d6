"""A RealNVP/Glow-style coupling flow with an exact log-determinant, for OpenHybrid's density head.

The spec card (openhybrid.md, "Method" and "Hard parts") names a Residual Flow as the 3rd-party choice and
recommends a coupling flow under XLA: its log-det is exact (no Hutchinson trace, no Russian roulette, no
random series length that breaks static shapes) and its inverse is closed form. One flow step is
    ActNorm (per-channel affine, log-det H*W*sum(log_scale))
 -> fixed channel permutation (a seeded shuffle; log-det 0; Glow's invertible 1x1 conv replaced by it,
    RealNVP's choice, so TFLite needs no slogdet and the inverse is a gather)
 -> affine coupling (Dinh et al. 2017): x = [x_a, x_b] split on channels,
    (shift, raw) = NN(x_a), log_s = tanh(raw), y_b = x_b * exp(log_s) + shift, y_a = x_a;
    log-det = sum(log_s). NN = conv3x3 - ReLU - conv1x1 - ReLU - conv3x3, the last zero-initialised.
Every step starts as the identity (ActNorm log-scale 0 and bias 0, zero last conv: log_s = 0, shift = 0),
so a fresh flow gives log p(z) = log N(z; 0, I) (card check 3). tanh bounds |log_s| <= 1 per step, which
keeps early joint training from blowing up the log-det (our choice; Glow uses sigmoid(h + 2)).
Inputs are channels-last maps (B, H, W, C); a vector is a (B, 1, 1, C) map.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops

from official.core.base_model import ZooLayer

LOG_2PI = math.log(2.0 * math.pi)


def _spatial(x) -> int:
    return int(x.shape[1]) * int(x.shape[2])


def standard_normal_log_prob(u):
    """sum_i log N(u_i; 0, 1) over all non-batch axes: (B, ...) -> (B,)."""
    per = -0.5 * (ops.square(u) + LOG_2PI)
    return ops.sum(ops.reshape(per, (ops.shape(u)[0], -1)), axis=-1)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ActNorm(ZooLayer):
    """y = (x + bias) * exp(log_scale) per channel (Glow); identity at initialisation (no data-dependent init)."""

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.bias = self.add_weight(name="bias", shape=(channels,), initializer="zeros")
        self.log_scale = self.add_weight(name="log_scale", shape=(channels,), initializer="zeros")

    def forward(self, x):
        y = (x + self.bias) * ops.exp(self.log_scale)
        logdet = ops.sum(self.log_scale) * _spatial(x)
        return y, ops.ones((ops.shape(x)[0],), x.dtype) * logdet

    def inverse(self, y):
        return y * ops.exp(-self.log_scale) - self.bias

    def call(self, x):
        return self.forward(x)[0]


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ChannelPermutation(ZooLayer):
    """A fixed channel shuffle drawn from `seed` (log-det 0); the inverse gathers with the inverse order."""

    def __init__(self, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.order = np.random.default_rng(self.seed).permutation(channels).astype("int32")
        self.inverse_order = np.argsort(self.order).astype("int32")

    def forward(self, x):
        return ops.take(x, self.order, axis=-1), ops.zeros((ops.shape(x)[0],), x.dtype)

    def inverse(self, y):
        return ops.take(y, self.inverse_order, axis=-1)

    def call(self, x):
        return self.forward(x)[0]


@keras.saving.register_keras_serializable(package="eccv20zoo")
class AffineCoupling(ZooLayer):
    """RealNVP affine coupling on channels: the first C//2 channels condition shift and scale of the rest.

    Args:
        hidden: width of the conditioning network's two hidden convs.
    """

    def __init__(self, hidden: int = 256, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden

    def build(self, input_shape):
        channels = int(input_shape[-1])
        if channels < 2:
            raise ValueError(f"AffineCoupling needs at least 2 channels, got {channels}")
        self.split = channels // 2
        kept = tuple(input_shape[:-1]) + (self.split,)
        self.conv1 = layers.Conv2D(self.hidden, 3, padding="same", activation="relu", name="conv1")
        self.conv2 = layers.Conv2D(self.hidden, 1, activation="relu", name="conv2")
        # zero init: shift = 0 and log_s = 0, the step starts as the identity (Glow's "zero init")
        self.conv3 = layers.Conv2D(2 * (channels - self.split), 3, padding="same", kernel_initializer="zeros",
                                   name="conv3")
        self.conv1.build(kept)
        self.conv2.build(kept[:-1] + (self.hidden,))
        self.conv3.build(kept[:-1] + (self.hidden,))

    def _shift_log_scale(self, x_a):
        h = self.conv3(self.conv2(self.conv1(x_a)))
        half = ops.shape(h)[-1] // 2
        return h[..., :half], ops.tanh(h[..., half:])

    def forward(self, x):
        x_a, x_b = x[..., : self.split], x[..., self.split :]
        shift, log_s = self._shift_log_scale(x_a)
        y_b = x_b * ops.exp(log_s) + shift
        logdet = ops.sum(ops.reshape(log_s, (ops.shape(x)[0], -1)), axis=-1)
        return ops.concatenate([x_a, y_b], axis=-1), logdet

    def inverse(self, y):
        y_a, y_b = y[..., : self.split], y[..., self.split :]
        shift, log_s = self._shift_log_scale(y_a)
        return ops.concatenate([y_a, (y_b - shift) * ops.exp(-log_s)], axis=-1)

    def call(self, x):
        return self.forward(x)[0]


@keras.saving.register_keras_serializable(package="eccv20zoo")
class CouplingFlow(ZooLayer):
    """z -> u through `steps` x (ActNorm, permutation, affine coupling); call(z) returns log p(z) of shape (B,).

    log p(z) = sum_i log N(u_i; 0, 1) + log|det dF/dz| (change of variables), all terms exact.

    Args:
        steps: flow steps.
        hidden: conditioning-network width of each coupling.
        seed: seeds the channel permutations (step k uses seed + k).
    """

    def __init__(self, steps: int = 8, hidden: int = 256, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.steps, self.hidden, self.seed = steps, hidden, seed

    def build(self, input_shape):
        shape = tuple(input_shape)
        for k in range(self.steps):
            for layer in (ActNorm(name=f"actnorm{k}"), ChannelPermutation(self.seed + k, name=f"permute{k}"),
                          AffineCoupling(self.hidden, name=f"coupling{k}")):
                layer.build(shape)
                # one attribute per layer: TensorFlow checkpoints (the trainer's restore) do not follow
                # layers kept in a Python list (Keras' TrackedList), .keras files do
                setattr(self, layer.name, layer)

    @property
    def flow_layers(self) -> list:
        """The layers in order: actnorm0, permute0, coupling0, actnorm1, ..."""
        return [getattr(self, f"{kind}{k}") for k in range(self.steps) for kind in ("actnorm", "permute", "coupling")]

    def forward(self, z):
        """(u, log|det dF/dz|) with u the same shape as z and the log-det of shape (B,)."""
        logdet = ops.zeros((ops.shape(z)[0],), z.dtype)
        for layer in self.flow_layers:
            z, step_logdet = layer.forward(z)
            logdet = logdet + step_logdet
        return z, logdet

    def inverse(self, u):
        for layer in reversed(self.flow_layers):
            u = layer.inverse(u)
        return u

    def log_prob(self, z):
        u, logdet = self.forward(z)
        return standard_normal_log_prob(u) + logdet

    def call(self, z):
        return self.log_prob(z)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],)
