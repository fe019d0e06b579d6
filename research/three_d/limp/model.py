"""LIMP's PointNet VAE (Cosmo et al., ECCV 2020): a point encoder to (mu, logvar) and a dense decoder to N x 3.

Facts from the authors' models/model.py and models/SimplePointNet.py (spec card limp.md, "Network"):
- encoder: per-point Conv1d(k=1) (= Dense on the last axis) + BatchNorm + ReLU, 3 -> 32 -> 128 -> 256 -> 512,
  with one input transform (T-Net) before the first layer; max-pool over points; FC 512 -> 512 -> 256 -> 128
  (Linear + BN + ReLU) and Linear 128 -> 2 * latent = [mu, logvar].
- T-Net: per-point 3 -> 64 -> 128 -> 512 (+BN+ReLU), max-pool, Linear 512 -> 256 + ReLU (no BN), Linear
  256 -> 9, reshaped 3 x 3 plus the identity; each point p becomes T p.
- decoder: Linear latent -> 1024, LeakyReLU, 1024 -> 2048, LeakyReLU, 2048 -> 3N, reshaped (N, 3).
- z = mu + exp(logvar / 2) * eps during training only (the authors' `if self.train` is always true: we
  sample in training, as intended, and decode mu at inference).
BatchNorm uses PyTorch's momentum 0.1 (Keras 0.9) and epsilon 1e-5.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooLayer, ZooModel

_BN = dict(momentum=0.9, epsilon=1e-5)


def _pointwise(x, width: int, name: str):
    """Conv1d(k=1) + BatchNorm + ReLU on (batch, points, channels)."""
    x = layers.Dense(width, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn", **_BN)(x)
    return layers.ReLU(name=f"{name}_relu")(x)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class AddIdentity(ZooLayer):
    """(batch, 9) -> (batch, 3, 3) + I: the T-Net's output as a near-identity transform."""

    def call(self, x):
        return ops.reshape(x, (-1, 3, 3)) + ops.eye(3, dtype=x.dtype)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ApplyTransform(ZooLayer):
    """points (batch, N, 3), T (batch, 3, 3) -> T p for every point (the authors' bmm(T, P) on B x 3 x N)."""

    def call(self, points, transform):
        return ops.einsum("bij,bnj->bni", transform, points)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class MaxOverPoints(ZooLayer):
    """Symmetric pooling over the point axis: the reason the encoder is permutation invariant."""

    def call(self, x):
        return ops.max(x, axis=1)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class LimpEncoder(ZooModel):
    """points (batch, N, 3) -> [mu (batch, latent), logvar (batch, latent)]. N may be None (any count)."""

    def __init__(self, num_points: int | None = None, latent_size: int = 256, desc_size: int = 512,
                 conv_sizes: tuple = (32, 128, 256), fc_sizes: tuple = (512, 256, 128),
                 tnet_conv_sizes: tuple = (64, 128, 512), tnet_fc_sizes: tuple = (512, 256), **kwargs):
        points = keras.Input((num_points, 3), name="points")
        t = points
        for i, width in enumerate(tnet_conv_sizes):
            t = _pointwise(t, width, f"tnet{i}")
        t = MaxOverPoints(name="tnet_pool")(t)
        for i, width in enumerate(tnet_fc_sizes[1:]):  # fc_dims (512, 256): Linear 512 -> 256 + ReLU, no BN
            t = layers.Dense(width, activation="relu", name=f"tnet_fc{i}")(t)
        t = layers.Dense(9, name="tnet_out")(t)
        transform = AddIdentity(name="tnet_identity")(t)
        x = ApplyTransform(name="input_transform")(points, transform)
        for i, width in enumerate((*conv_sizes, desc_size)):
            x = _pointwise(x, width, f"conv{i}")
        x = MaxOverPoints(name="pool")(x)
        for i, width in enumerate(fc_sizes):
            x = layers.Dense(width, name=f"fc{i}")(x)
            x = layers.BatchNormalization(name=f"fc{i}_bn", **_BN)(x)
            x = layers.ReLU(name=f"fc{i}_relu")(x)
        x = layers.Dense(2 * latent_size, name="latent")(x)
        mu = layers.Identity(name="mu")(x[:, :latent_size])
        logvar = layers.Identity(name="logvar")(x[:, latent_size:])
        super().__init__(inputs=points, outputs=[mu, logvar], **kwargs)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class LimpDecoder(ZooModel):
    """latent (batch, latent) -> vertices (batch, num_points, 3) in the template's vertex order."""

    def __init__(self, num_points: int = 2500, latent_size: int = 256, hidden_sizes: tuple = (1024, 2048),
                 **kwargs):
        z = keras.Input((latent_size,), name="latent")
        x = z
        for i, width in enumerate(hidden_sizes):
            x = layers.Dense(width, name=f"fc{i}")(x)
            x = layers.LeakyReLU(negative_slope=0.01, name=f"fc{i}_lrelu")(x)  # torch's default slope
        x = layers.Dense(3 * num_points, name="vertices_flat")(x)
        vertices = layers.Reshape((num_points, 3), name="vertices")(x)
        super().__init__(inputs=z, outputs=vertices, **kwargs)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class VaeSample(ZooLayer):
    """z = mu + exp(logvar / 2) * eps while training; mu at inference (spec card "Reparameterisation")."""

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, mu, logvar, training=None):
        if not training:
            return mu
        eps = keras.random.normal(ops.shape(mu), dtype=mu.dtype, seed=self.seed_generator)
        return mu + ops.exp(0.5 * logvar) * eps


@keras.saving.register_keras_serializable(package="eccv20zoo")
class Limp(ZooModel):
    """The LIMP VAE: points (batch, N, 3) -> [reconstruction (batch, N, 3), mu, logvar].

    `encoder` and `decoder` are the exported halves; latent dims [:pose_size] are "pose", the rest "style".
    """

    def __init__(self, num_points: int = 2500, latent_size: int = 256, pose_size: int = 64, desc_size: int = 512,
                 conv_sizes: tuple = (32, 128, 256), fc_sizes: tuple = (512, 256, 128),
                 tnet_conv_sizes: tuple = (64, 128, 512), tnet_fc_sizes: tuple = (512, 256),
                 decoder_sizes: tuple = (1024, 2048), seed: int | None = None, **kwargs):
        if not 0 < pose_size < latent_size:
            raise ValueError(f"pose_size={pose_size} must lie in (0, latent_size={latent_size})")
        encoder = LimpEncoder(num_points, latent_size, desc_size, conv_sizes, fc_sizes, tnet_conv_sizes,
                              tnet_fc_sizes, name="encoder")
        decoder = LimpDecoder(num_points, latent_size, decoder_sizes, name="decoder")
        points = keras.Input((num_points, 3), name="points")
        mu, logvar = encoder(points)
        z = VaeSample(seed, name="sample")(mu, logvar)
        reconstruction = decoder(z)
        super().__init__(inputs=points, outputs=[reconstruction, mu, logvar], **kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.pose_size = pose_size
