"""MobileNetV2: registers its variants and experiments."""

from official.vision.mobilenetv2 import experiments, variants  # noqa: F401
