"""EfficientNet variants: efficientnet_b0 .. efficientnet_b7 (keras.applications networks)."""

from official.core.registry import register_variant
from official.vision.efficientnet.model import BUILDERS, EfficientNet

for _variant in BUILDERS:
    register_variant(f"efficientnet_{_variant}", EfficientNet, variant=_variant)
