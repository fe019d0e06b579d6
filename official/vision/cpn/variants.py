"""Registered CPN variants: the paper's three backbones and a tiny DLA for CPU tests and the shapes demo.

`VARIANTS` holds each variant's constructor arguments (a plain dict, so benchmarks can build a variant
without the registry); every entry is registered as `CPN(**arguments, **overrides)`.
"""

from official.core.registry import register_variant
from official.vision.cpn.model import CPN

# Hourglass heads (CPNDet models/HG104.py, HG52.py): pool 128, two-conv branches, classifiers with BN.
_HOURGLASS = dict(
    backbone="hourglass", pool_channels=128, region_channels=256, region_hidden=256, branch_convs=2, classifier_bn=True
)
VARIANTS: dict[str, dict] = {
    # DLA-34 heads (CPNDet models/DLA34.py): pool 64, head_conv 256, region branch 64 -> 256 hidden,
    # grouping 32, one-conv branches, classifiers with bias and no BN. RoIAlign samples per bin axis:
    # `roi_sample_num` of config/DLA34.json, HG104.json (1) and HG52.json (2).
    "cpn_dla34": dict(backbone="dla34", roi_sampling_ratio=1),
    "cpn_hg104": dict(num_stacks=2, roi_sampling_ratio=1, **_HOURGLASS),
    "cpn_hg52": dict(num_stacks=1, roi_sampling_ratio=2, **_HOURGLASS),
    # Tiny widths for CPU: 128 px input -> 32x32 output, K = 16 corners (256 proposals).
    "cpn_dla34tiny": dict(
        backbone="dla34",
        input_size=128,
        dla_channels=(8, 8, 16, 24, 32, 48),
        pool_channels=16,
        head_channels=32,
        region_channels=16,
        region_hidden=32,
        grouping_channels=16,
        top_k=16,
        num_samples=288,
        pre_nms_top_k=256,
    ),
}

for _name, _arguments in VARIANTS.items():
    register_variant(_name, CPN, **_arguments)
