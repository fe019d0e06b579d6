"""MobileNeXt: registers its variants and experiments."""

from official.vision.mobilenext import experiments, variants  # noqa: F401
