"""Registered Crowd3DPose 2D networks: `crowd3dpose_resnet50` (the paper's AlphaPose backbone depth, input
320 x 256 -> 80 x 64 heatmaps) and `crowd3dpose_resnettiny` (tiny widths for CPU runs: 64 x 64 -> 16 x 16,
three narrow deconvolution stages)."""

from official.core.registry import register_variant
from research.three_d.crowd3dpose.model import Crowd3DPoseNet

VARIANTS: dict[str, dict] = {
    "crowd3dpose_resnet50": dict(depth=50),
    "crowd3dpose_resnettiny": dict(
        depth=18, input_shape=(64, 64, 3), blocks=(1, 1, 1, 1), widths=(16, 24, 32, 48), stem_width=16,
        deconv_filters=(32, 32, 32),
    ),
}

for _name, _arguments in VARIANTS.items():
    register_variant(_name, Crowd3DPoseNet, **_arguments)
