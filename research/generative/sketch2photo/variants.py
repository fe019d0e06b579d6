"""Registered Sketch2Photo networks (the official counts are asserted in tests/research/generative/sketch2photo)."""

from official.core.registry import register_variant
from research.generative.sketch2photo.model import Colorizer, Sketch2PhotoGenerator

# Stage 1 G_A: resnet_9blocks, 64 filters, 1 -> 1 channel, 128 px, attention: 11,365,633 + 514 = 11,366,147.
register_variant("sketch2photo_resnet9", Sketch2PhotoGenerator, filters=64, blocks=9)
# The same with the intended channel softmax (not what the released weights were trained with).
register_variant("sketch2photo_resnet9_channel", Sketch2PhotoGenerator, filters=64, blocks=9, attention="channel")
# Tests and the CPU small run: 8 filters, 2 blocks, 32 px.
register_variant("sketch2photo_tiny", Sketch2PhotoGenerator, filters=8, blocks=2, image_size=(32, 32))
# Stage 2 colouriser: frozen normalised VGG to relu3_4 + resnet_12blocks decoder (14,540,163 trainable).
register_variant("sketch2photo_colorizer", Colorizer, blocks=12)
register_variant("sketch2photo_colorizer_tiny", Colorizer, blocks=1, image_size=(32, 32))
