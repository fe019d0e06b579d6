"""EfficientNet variant: efficientnet_b0 (keras.applications). B1..B7 are `model.variant=b1` .. `b7` of
it (one registered name keeps the registry sweep's CI time: B4..B7 at their native 380-600 px cost
minutes there)."""

from official.core.registry import register_variant
from official.vision.efficientnet.model import EfficientNet

register_variant("efficientnet_b0", EfficientNet, variant="b0")
