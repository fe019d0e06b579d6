"""Registered S2DNet variants (counts asserted in tests/research/geometry/s2dnet/test_s2dnet_model.py).

- s2dnet_vgg16  the released network: VGG-16 to conv5_3, taps conv1_2 / conv3_3 / conv5_3, adaptation
                64 -> 128; 15,383,680 trainable (trunk 14,714,688 + adaptation 668,992) + 768 BN statistics
- s2dnet_tiny   VGG widths / 8 (8-16-32-64-64), adaptation 16 -> 32: tests and the CPU small run
"""

from official.core.registry import register_variant
from research.geometry.s2dnet.model import S2DNet

register_variant("s2dnet_vgg16", S2DNet)
register_variant("s2dnet_tiny", S2DNet, width_divisor=8, adapt_dim=16, output_dim=32)
