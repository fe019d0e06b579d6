"""Adversarial training shared by the GAN methods (`training.method: gan`)."""

from official.training.gan import cyclegan, method  # noqa: F401  (registers the training method and objectives)
