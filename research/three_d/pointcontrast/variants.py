"""Registered PointContrast backbones: Res16UNet34C (the paper's) and a tiny U-Net for tests and CPU runs."""

from official.core.registry import register_variant
from research.three_d.pointcontrast.model import Res16UNet

# Res16UNet34C, in 3 -> out 32 (model_n_out), conv1_kernel_size 3: 37,847,808 trainable parameters
# (spec card, hand-counted from model/res16unet.py; tests/research/three_d/pointcontrast/test_model.py).
register_variant("pointcontrast_res16unet34c", Res16UNet)
# Widths / 4 (card check 7) and one BasicBlock per stage: 725,280 trainable parameters.
register_variant("pointcontrast_res16unet_tiny", Res16UNet, planes=(8, 16, 32, 64, 64, 32, 24, 24),
                 layers=(1, 1, 1, 1, 1, 1, 1, 1), init_dim=8)
# Test-sized: blocks only at strides 2 (encoder) and 1 (decoder, with a projection), widths / 8.
register_variant("pointcontrast_res16unet_test", Res16UNet, planes=(4, 8, 16, 32, 32, 16, 12, 12),
                 layers=(1, 0, 0, 0, 0, 0, 0, 1), init_dim=4, out_channels=16)
