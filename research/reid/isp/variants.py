"""Registered ISP variants and the HRNet-W32 trunk count they contain."""

from official.core.registry import register_variant
from research.reid.isp.model import ISPNet

# ISP-reID Baseline(HRNet32) with CLUSTERING.PART_NUM 7 and 751 Market-1501 training identities:
# 32,918,350 trainable parameters (PyTorch `requires_grad`; the 3 frozen BNNeck shifts add 2,048 more),
# counted from the official module (.peer/isp/count_official.py; the card).
register_variant("isp_hrnet32", ISPNet, width=32)
# A tiny HRNet (width 4, one module per stage, one block per branch) for tests and CPU small runs.
register_variant("isp_hrnet_tiny", ISPNet, width=4, stem_channels=8, layer1_planes=8, layer1_blocks=1,
                 stage_modules=(1, 1, 1), blocks=1, incre_planes=(4, 8, 16, 32), head_channels=16,
                 input_shape=(64, 32, 3), num_classes=8)
