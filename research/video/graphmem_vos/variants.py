"""Registered GraphMemVOS models (trainable counts asserted in tests/research/video/graphmem_vos/test_graphmem_model.py
against a sum of the official layer shapes written out there).

- graphmem_vos_resnet50  the released network (models/graph_memory.py): ResNet-50 encoders to layer3, keys 128 /
                         values 512, decoder 256: 50,549,250
- graphmem_vos_tiny      tests and the CPU small run: stem 16, one bottleneck per stage (widths 16 / 32 / 64),
                         keys 32 / values 64, decoder 32 (ours)
"""

from official.core.registry import register_variant
from research.video.graphmem_vos.model import GraphMemVOS

TINY = dict(stem_width=16, stages=((1, 16), (1, 32), (1, 64)), key_dim=32, value_dim=64, decoder_dim=32)

register_variant("graphmem_vos_resnet50", GraphMemVOS)
register_variant("graphmem_vos_tiny", GraphMemVOS, **TINY)
