"""TopoGAN's base networks (Wang et al., ECCV 2020): DCGAN generator and WGAN-GP critic, Archpool entries 2, 3
(grayscale, 64x64; spec "Method"). All convolutions without bias, weights N(0, 0.02), BatchNorm gamma
N(1, 0.02) (the official weights_init); torch's padding 1 at stride 2 and kernel 4 is Keras' symmetric
"same" for the transposed convolutions and an explicit ZeroPadding2D(1) for the critic.

Generator: z (batch, latent_dim) -> ConvT4x4 s1 valid (8f) BN ReLU -> 3 x [ConvT4x4 s2 (f x 4, 2, 1) BN ReLU]
-> ConvT4x4 s2 (channels) tanh: (batch, 64, 64, channels) in [-1, 1]. 3,804,032 trainable at f = 64, z = 128.
Critic: 4 x [Conv4x4 s2 p1 (f, 2f, 4f, 8f) LReLU 0.2] -> Conv4x4 s1 valid -> (batch, 1, 1, 1) scores, no
normalisation (WGAN-GP). 2,761,728 parameters at f = 64.
"""

from __future__ import annotations

import keras
from keras import layers

from official.core.base_model import ZooModel


def _init():
    return keras.initializers.RandomNormal(0.0, 0.02)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class DCGANGenerator(ZooModel):
    """(batch, latent_dim) noise -> (batch, 64, 64, channels) images in [-1, 1]."""

    def __init__(self, latent_dim: int = 128, filters: int = 64, channels: int = 1, **kwargs):
        z = keras.Input(shape=(latent_dim,), name="z")
        x = layers.Reshape((1, 1, latent_dim), name="z_map")(z)
        widths = [filters * 8, filters * 4, filters * 2, filters]  # 4, 8, 16, 32 px
        for i, width in enumerate(widths):
            x = layers.Conv2DTranspose(width, 4, strides=1 if i == 0 else 2, padding="valid" if i == 0 else "same",
                                       use_bias=False, kernel_initializer=_init(), name=f"up{i}_conv")(x)
            x = layers.BatchNormalization(momentum=0.9, epsilon=1e-5, gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02),
                                          name=f"up{i}_bn")(x)
            x = layers.ReLU(name=f"up{i}_relu")(x)
        x = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", use_bias=False, kernel_initializer=_init(),
                                   name="out_conv")(x)
        outputs = layers.Activation("tanh", name="image", dtype="float32")(x)
        super().__init__(inputs=z, outputs=outputs, **kwargs)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class DCGANCritic(ZooModel):
    """(batch, 64, 64, channels) -> (batch, 1, 1, 1) WGAN critic scores (training only; not registered)."""

    def __init__(self, filters: int = 64, channels: int = 1, image_size: int = 64, **kwargs):
        inputs = keras.Input(shape=(image_size, image_size, channels), name="image")
        x = inputs
        for i, width in enumerate([filters, filters * 2, filters * 4, filters * 8]):
            x = layers.ZeroPadding2D(1, name=f"down{i}_pad")(x)
            x = layers.Conv2D(width, 4, strides=2, use_bias=False, kernel_initializer=_init(), name=f"down{i}_conv")(x)
            x = layers.LeakyReLU(0.2, name=f"down{i}_act")(x)
        outputs = layers.Conv2D(1, 4, strides=1, use_bias=False, kernel_initializer=_init(), name="score",
                                dtype="float32")(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
