"""Registered TCGM variants (trainable counts asserted in tests/research/multimodal/tcgm/test_tcgm_model.py).

- tcgm_mlp512  the official 20 Newsgroups nets: 3 views of 4,000 TF-IDF columns, Linear 512 - BN - 64 - BN - 4;
               2,082,756 parameters per view (spec card check 5), 6,248,268 in all
- tcgm_tiny    2 views of 32 values (the two 8 x 4 halves of a digits scan), hidden 64 - 32, 10 classes:
               the CPU small run and tests
"""

from official.core.registry import register_variant
from research.multimodal.tcgm.model import TcgmNet

register_variant("tcgm_mlp512", TcgmNet)
register_variant("tcgm_tiny", TcgmNet, view_dims=(32, 32), hidden_units=(64, 32), num_classes=10)
