"""CycleGAN's generator and PatchGAN discriminator, shared by the translation methods."""

from official.vision.gan import experiments, variants  # noqa: F401  (registration)
