"""DAAE networks (Li, Huang et al., ECCV 2020): no official code; the backbone is IntroVAE's (hhb072/IntroVAE
networks.py, same group, read for widths and block layout), the factorised latent and the conditional
generator are our reading of the abstract (the card's "reconstructed" list).

- Encoder (IntroVAE): conv5x5 (c0, no bias) BN LReLU(0.2) avg-pool 2; per later width a residual block
  then avg-pool 2; one more residual block at the last width; Linear(C * 4 * 4 -> 2 * latent) whose first
  half are the means and second half the log-variances, each split into identity / age / extra factors.
- Residual block (IntroVAE `_Residual_Block`): conv3x3 BN LReLU conv3x3 (no biases), plus the input (through
  a 1x1 conv when the width changes), then BN LReLU after the sum.
- Decoder: Linear(z_extra -> C * 4 * 4) ReLU, then residual blocks each followed by nearest x2 up-sampling,
  one more residual block, conv5x5 -> 3 (with bias, no tanh: IntroVAE's `predict`). Every BN of the decoder
  is a ConditionalBatchNorm (official/layers/adaptive_norm.py): the first `identity_blocks` blocks (coarse)
  are conditioned on z_identity, the later ones (fine) on z_age.
Image size = 4 * 2 ** len(channels) (IntroVAE's assert). Images in [-1, 1].
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooModel
from official.layers.adaptive_norm import ConditionalBatchNorm
from research.generative.daae.losses import FACTORS, age_code, age_estimate

BN_ARGS = {"momentum": 0.9, "epsilon": 1e-5}  # torch BatchNorm2d defaults (IntroVAE)


def _conv(filters: int, kernel: int, name: str, bias: bool = False):
    return layers.Conv2D(filters, kernel, padding="same", use_bias=bias, name=name)


def residual_block(x, width: int, name: str, condition=None):
    """IntroVAE's residual block; with `condition` (B, D) its two BNs are conditional BNs of it."""
    def norm(y, suffix):
        if condition is None:
            return layers.BatchNormalization(**BN_ARGS, name=f"{name}_bn{suffix}")(y)
        return ConditionalBatchNorm(momentum=BN_ARGS["momentum"], name=f"{name}_cbn{suffix}")((y, condition))

    shortcut = x if int(x.shape[-1]) == width else _conv(width, 1, f"{name}_expand")(x)
    y = layers.LeakyReLU(0.2, name=f"{name}_act1")(norm(_conv(width, 3, f"{name}_conv1")(x), 1))
    y = layers.Add(name=f"{name}_add")([_conv(width, 3, f"{name}_conv2")(y), shortcut])
    return layers.LeakyReLU(0.2, name=f"{name}_act2")(norm(y, 2))


def build_encoder(image_size: int, channels: tuple[int, ...], dims: dict[str, int]) -> keras.Model:
    """(B, S, S, 3) -> {"mu_<factor>", "logvar_<factor>"} for FACTORS."""
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = _conv(channels[0], 5, "stem_conv")(inputs)
    x = layers.LeakyReLU(0.2, name="stem_act")(layers.BatchNormalization(**BN_ARGS, name="stem_bn")(x))
    x = layers.AveragePooling2D(2, name="stem_pool")(x)
    for i, width in enumerate(channels[1:]):
        x = layers.AveragePooling2D(2, name=f"pool{i}")(residual_block(x, width, f"res{i}"))
    x = residual_block(x, channels[-1], "res_last")
    latent = sum(dims.values())
    y = layers.Dense(2 * latent, name="fc")(layers.Flatten(name="flatten")(x))
    outputs, start = {}, 0
    for factor in FACTORS:
        d = dims[factor]
        outputs[f"mu_{factor}"] = y[:, start:start + d]
        outputs[f"logvar_{factor}"] = y[:, latent + start:latent + start + d]
        start += d
    return keras.Model(inputs, outputs, name="encoder")


def build_decoder(image_size: int, channels: tuple[int, ...], dims: dict[str, int], identity_blocks: int) -> keras.Model:
    """(z_extra, z_identity, z_age) -> (B, S, S, 3)."""
    z = {f: keras.Input((dims[f],), name=f"z_{f}") for f in ("extra", "identity", "age")}
    width = channels[-1]
    x = layers.Dense(width * 16, activation="relu", name="fc")(z["extra"])
    x = layers.Reshape((4, 4, width), name="to_map")(x)
    for i, out in enumerate((*channels[::-1], channels[0])):
        condition = z["identity"] if i < identity_blocks else z["age"]
        x = residual_block(x, out, f"res{i}", condition)
        if i < len(channels):
            x = layers.UpSampling2D(2, interpolation="nearest", name=f"up{i}")(x)
    outputs = _conv(3, 5, "predict", bias=True)(x)
    if int(outputs.shape[1]) != image_size:
        raise ValueError(f"decoder: {len(channels)} up-samplings from 4 give {outputs.shape[1]}, not {image_size}")
    return keras.Model([z["extra"], z["identity"], z["age"]], outputs, name="decoder")


@keras.saving.register_keras_serializable(package="eccv20zoo")
class DAAE(ZooModel):
    """(B, S, S, 3) in [-1, 1] -> {"age" (B,) years, "reconstruction" (B, S, S, 3), "mu_<f>", "logvar_<f>"}.

    The reconstruction decodes the posterior means. `age_to(images, ages)` re-renders the faces at target ages
    (z_age = age / age_unit in every dimension, identity and extra factors from the encoder)."""

    def __init__(self, image_size: int = 256, channels: tuple[int, ...] = (32, 64, 128, 256, 512, 512),
                 identity_dim: int = 256, age_dim: int = 128, extra_dim: int = 128, identity_blocks: int = -1,
                 age_unit: float = 10.0, **kwargs):
        channels = tuple(int(c) for c in channels)
        if 4 * 2 ** len(channels) != image_size:
            raise ValueError(f"image_size {image_size}: DAAE needs 4 * 2 ** len(channels) = {4 * 2 ** len(channels)}")
        blocks = len(channels) + 1
        identity_blocks = blocks // 2 if identity_blocks < 0 else identity_blocks
        if not 0 <= identity_blocks <= blocks:
            raise ValueError(f"identity_blocks: expected 0..{blocks} (decoder blocks), got {identity_blocks}")
        dims = {"identity": identity_dim, "age": age_dim, "extra": extra_dim}
        encoder = build_encoder(image_size, channels, dims)
        decoder = build_decoder(image_size, channels, dims, identity_blocks)
        inputs = keras.Input((image_size, image_size, 3), name="image")
        posterior = encoder(inputs)
        outputs = {"age": age_estimate(posterior["mu_age"], age_unit),
                   "reconstruction": decoder([posterior["mu_extra"], posterior["mu_identity"], posterior["mu_age"]]),
                   **posterior}
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.age_unit = float(age_unit)

    @property
    def encoder(self) -> keras.Model:
        return self.get_layer("encoder")

    @property
    def decoder(self) -> keras.Model:
        return self.get_layer("decoder")

    def decode(self, z_extra, z_identity, z_age, training=False):
        return self.decoder([z_extra, z_identity, z_age], training=training)

    def age_to(self, images, target_age, training=False):
        """images (B, S, S, 3), target_age (B,) years -> the faces at those ages (B, S, S, 3)."""
        posterior = self.encoder(images, training=training)
        z_age = ops.ones_like(posterior["mu_age"]) * age_code(target_age, self.age_unit)
        return self.decode(posterior["mu_extra"], posterior["mu_identity"], z_age, training=training)

    def estimate_age(self, images, training=False):
        """images -> (B,) ages in years (the mean of the age posterior)."""
        return age_estimate(self.encoder(images, training=training)["mu_age"], self.age_unit)
