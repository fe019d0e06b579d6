"""Registered HAN variants (trainable counts asserted in tests/research/video/avvp/test_han_model.py).

- avvp_han   the paper's MMIL_Net: d = 512, 1 head, FFN 512, dropout 0.1, 25 classes on LLP features;
             4,569,675 trainable parameters = the modules used in forward (issue 19 / spec card avvp.md;
             the official state dict has 9,307,723 with the unused encoders), 2,628,608 in the shared HAN layer
- avvp_tiny  d = 32, FFN 32 on the same feature widths: tests and the CPU small run
"""

from official.core.registry import register_variant
from research.video.avvp.model import HanNet

register_variant("avvp_han", HanNet)
register_variant("avvp_tiny", HanNet, d_model=32, ffn_dim=32)
