"""Registered MobileNetV2 variants (names as in timm: width x 100)."""

from official.core.registry import register_variant
from official.vision.mobilenetv2.model import MobileNetV2

register_variant("mobilenetv2_100", MobileNetV2, width=1.0)
register_variant("mobilenetv2_035", MobileNetV2, width=0.35)
