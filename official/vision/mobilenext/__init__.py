"""MobileNeXt: registers its variants and experiments."""

from official.vision.mobilenext import variants  # noqa: F401
