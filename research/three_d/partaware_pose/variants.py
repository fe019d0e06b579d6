"""Registered PartAwarePose networks (counts asserted in tests/research/three_d/partaware_pose/test_models.py).

- partaware_pose_r50baseline   ResNet-50 integral baseline, 256 px, 17 x 64 bins: 34,274,944 (spec card)
- partaware_pose_derived       derived part-aware network of the default genotype, 256 px -> 64^3: 7,942,232
- partaware_pose_search        the search supernet (MixedOps + alphas) for Human3.6M crops
- partaware_pose_tiny          derived network for tests and the small run (64 px -> 16 x 16 x 16 bins)
- partaware_pose_tiny_search   its search supernet over 4 candidate ops + zero (small run, tests)
"""

from official.core.registry import register_variant
from research.three_d.partaware_pose.model import IntegralResNet, PartAwarePoseNet
from research.three_d.partaware_pose.search import PartAwarePoseSearch

TINY = {"depth_bins": 16, "input_shape": (64, 64, 3), "stem_channels": 16, "stem_strides": (2, 1, 2),
        "channels": 8, "layers": 3, "reductions": (1,), "head_channels": 16, "head_stages": 1}

register_variant("partaware_pose_r50baseline", IntegralResNet, depth=50)
register_variant("partaware_pose_derived", PartAwarePoseNet)
register_variant("partaware_pose_search", PartAwarePoseSearch)
register_variant("partaware_pose_tiny", PartAwarePoseNet, **TINY)
# The small search run's space: 4 of the 7 candidate ops (+ zero), so that the supernet builds and traces
# on 2 CPU cores (the full space: partaware_pose_search, or primitives=genotypes.PRIMITIVES).
SMALL_PRIMITIVES = ("zero", "skip_connect", "max_pool_3x3", "sep_conv_3x3", "dil_conv_3x3")
register_variant("partaware_pose_tiny_search", PartAwarePoseSearch, primitives=SMALL_PRIMITIVES, **TINY)
