"""Registered HMOR variants (plain data in `VARIANTS`).

hmor_resnet50: the paper's ResNet-50 setting (spec card: ResNet-50/-152 or HRNet backbones) with 3DMPPE's
pose head (8x8 RoI -> three 256-wide deconvolutions -> 64^3 volumes), MuCo's 21 joints, 512 x 512 input,
10 detections (all RECONSTRUCTED choices, model card "Known differences").
hmor_tiny: narrow widths and a 64 x 64 input (stride 8) for CPU tests and the synthetic small run.
"""

from official.core.registry import register_variant
from research.three_d.hmor.model import HMOR

VARIANTS: dict[str, dict] = {
    "hmor_resnet50": dict(block="bottleneck", resnet_blocks=(3, 4, 6, 3)),
    "hmor_tiny": dict(
        block="basic",
        resnet_blocks=(1, 1, 1, 1),
        resnet_widths=(8, 16, 32, 64),
        stem_width=8,
        level=3,
        neck_width=32,
        roi_size=4,
        deconv_filters=(32, 32),
        depth_bins=16,
        head_width=32,
        input_shape=(64, 64, 3),
        max_people=4,
    ),
}

for _name, _arguments in VARIANTS.items():
    register_variant(_name, HMOR, **_arguments)
