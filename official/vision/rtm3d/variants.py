"""Registered RTM3D / KM3D variants (`VARIANTS` is plain data so benchmarks can build one directly).

rtm3d_resnet18: KM3D `--arch res_18` (msra_resnet.py: ResNet-18 + 3 deconvs, head_conv 64), 16,703,152
trainable parameters (spec card, measured by instantiating the official module with the nine heads).
rtm3d_dla34: KM3D's default `--arch dla_34` (pose_dla_dcn.py: DLA-34 + deformable DLA-up, head_conv 256).
rtm3d_tiny: narrow widths and a 128 x 416 input for CPU tests and the synthetic-boxes run.
"""

from official.core.registry import register_variant
from official.vision.rtm3d.model import RTM3D

VARIANTS: dict[str, dict] = {
    "rtm3d_resnet18": dict(backbone="resnet18", head_conv=64),
    "rtm3d_dla34": dict(backbone="dla34", head_conv=256),
    "rtm3d_tiny": dict(
        backbone="resnet18",
        head_conv=32,
        resnet_blocks=(1, 1, 1, 1),
        resnet_widths=(16, 32, 64, 128),
        stem_width=16,
        deconv_filters=(64, 64, 64),
        input_shape=(128, 416, 3),
    ),
}

for _name, _arguments in VARIANTS.items():
    register_variant(_name, RTM3D, **_arguments)
