"""Registered SoftPoolNet networks (counts: tests/research/three_d/softpoolnet/test_softpoolnet_model.py;
how they add up: README "Parameter count").

- softpoolnet_completion3d  2,048 partial points -> 64 regions x 32 ranks = 2,048 coarse, 1x1 patch -> 2,048 fine
- softpoolnet_pcn           2,048 partial points -> 64 regions x 16 ranks = 1,024 coarse, 4x4 patch -> 16,384 fine
- softpoolnet_classifier    1,024 points -> 40 ModelNet40 classes
"""

from official.core.registry import register_variant
from research.three_d.softpoolnet.model import SoftPoolNetClassifier, SoftPoolNetCompletion

register_variant("softpoolnet_completion3d", SoftPoolNetCompletion, num_points=2048, ranks=32, grid=(1, 1))
register_variant("softpoolnet_pcn", SoftPoolNetCompletion, num_points=2048, ranks=16, grid=(4, 4), chamfer_chunk=2048)
register_variant("softpoolnet_classifier", SoftPoolNetClassifier, num_points=1024, classes=40)
