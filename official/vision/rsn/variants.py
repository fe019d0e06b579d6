"""Registered RSN variants (paper Table 1/5; `VARIANTS` is plain data so benchmarks can build one directly).

Layer counts: RSN-18 (2, 2, 2, 2) is `Single_stage_module.layers` of the authors' exps/RSN18.coco and
exps/4XRSN18.coco network.py. The released repo has no RSN-50/101 experiment: RSN-50 (3, 4, 6, 3) is
mmpose's td-hm_rsn50_8xb32-210e_coco-256x192.py (`num_blocks`), RSN-101 (3, 4, 23, 3) follows ResNet-101
(the paper names it after ResNet; unverified against the authors' in-house code). Parameter counts of the
official module with those layer counts: RSN-18 9,159,072, 4xRSN-18 38,456,256, RSN-50 19,355,132,
RSN-101 39,611,788, 4xRSN-50 79,240,496.
"""

from official.core.registry import register_variant
from official.vision.rsn.model import RSN

VARIANTS: dict[str, dict] = {
    "rsn_18": dict(num_stages=1, blocks_per_level=(2, 2, 2, 2)),
    "rsn_50": dict(num_stages=1, blocks_per_level=(3, 4, 6, 3)),
    "rsn_101": dict(num_stages=1, blocks_per_level=(3, 4, 23, 3)),
    "rsn_18x4": dict(num_stages=4, blocks_per_level=(2, 2, 2, 2)),
    "rsn_50x4": dict(num_stages=4, blocks_per_level=(3, 4, 6, 3)),
    # Tiny widths for CPU tests: 2 stages (cross-stage aggregation exercised), 64x48 -> 16x12 heatmaps.
    "rsn_tiny": dict(
        num_stages=2,
        blocks_per_level=(1, 1, 1, 1),
        level_widths=(16, 24, 32, 48),
        stem_width=16,
        unit_channels=32,
        input_shape=(64, 48, 3),
    ),
}

for _name, _arguments in VARIANTS.items():
    register_variant(_name, RSN, **_arguments)
