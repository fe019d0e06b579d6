"""Noise training wrappers: the classifier sees a batch whose noisy share follows the configured model.

Inputs arrive normalised ((pixels - mean) / std on the 0-255 scale, as every zoo classifier takes
them); noise is defined on [0, 1] images, so the wrapper maps the batch there, perturbs it and maps it
back. GNT and speckle only change the forward pass of training (`call(training=True)`), so Keras' own
step trains them on every backend; evaluation and export see the bare classifier (`inference_model`).
"""

from __future__ import annotations

import keras
from keras import ops

from official.training.game_of_noise import noise


class NoiseTrainer(keras.Model):
    """classifier(perturb(x)) while training, classifier(x) otherwise."""

    def __init__(self, classifier: keras.Model, mode: str, sigma: float, p_clean: float, mean, std, seed: int = 0, **kwargs):
        super().__init__(name=kwargs.pop("name", "noise_trainer"), **kwargs)
        if mode not in ("gauss", "gauss_mult", "speckle", "ant"):
            raise ValueError(f"training.mode: expected gauss, gauss_mult, speckle or ant, got {mode!r}")
        if not 0.0 <= p_clean <= 1.0:
            raise ValueError(f"training.p_clean: expected a fraction in [0, 1], got {p_clean}")
        self.classifier = classifier
        self.mode = mode
        self.sigma = float(sigma)
        self.p_clean = float(p_clean)
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        self.seed_generator = keras.random.SeedGenerator(seed)

    @property
    def inference_model(self) -> keras.Model:
        return self.classifier

    def to_unit(self, x):
        """Normalised inputs -> images in [0, 1]."""
        return (ops.cast(x, "float32") * ops.convert_to_tensor(self.std) + ops.convert_to_tensor(self.mean)) / 255.0

    def from_unit(self, u):
        return (u * 255.0 - ops.convert_to_tensor(self.mean)) / ops.convert_to_tensor(self.std)

    def clean_mask(self, batch):
        """(batch, 1, 1, 1) bool: True for the first round(p_clean * batch) images."""
        count = ops.cast(ops.round(self.p_clean * ops.cast(batch, "float32")), "int32")
        return ops.reshape(ops.arange(batch) < count, (-1, 1, 1, 1))

    def perturb(self, x):
        """The training batch with the configured noise on its non-clean share (identity for ant, whose
        step mixes the batch itself)."""
        if self.mode == "ant":
            return x
        u = self.to_unit(x)
        if self.mode == "speckle":
            noisy = noise.speckle_noise(u, seed=self.seed_generator)
        else:
            noisy = noise.gaussian_noise(u, self.sigma if self.mode == "gauss" else None, seed=self.seed_generator)
        return ops.where(self.clean_mask(ops.shape(x)[0]), x, self.from_unit(noisy))  # clean share bit-exact

    def call(self, inputs, training=False):
        if training:
            inputs = self.perturb(inputs)
        return self.classifier(inputs, training=training)
