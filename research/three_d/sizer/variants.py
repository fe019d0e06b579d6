"""Registered SIZER networks (trainable counts asserted in tests/research/three_d/sizer/test_sizer_model.py).

- sizer_sizernet_g5_hires    g5 UpperClothes hi-res (V = 7,702), L = 100: 41,724,086
  = encoder 18,663,490 + decoder 23,060,596 (spec card, hand-counted from net_modules.SizerNet)
- sizer_sizernet_g5_lowres   V = 1,924: 4,350,604 (spec card)
- sizer_parsernet_g5_hires   27,554 SMPL+D vertices -> 7,702 x 50: 671,779,561 trainable (spec card;
  + 385,100 int32 neighbour indices, non-trainable) - counted by weight shape only in tests
- sizer_parsernet_g5_lowres  6,890 SMPL vertices -> 1,924 x 50: 41,998,865 trainable (our count)
- sizer_sizernet_tiny / sizer_parsernet_tiny  tests only (the synthetic template's sizes)
"""

from official.core.registry import register_variant
from research.three_d.sizer.model import ParserNet, SizerNet

register_variant("sizer_sizernet_g5_hires", SizerNet, num_vertices=7702)
register_variant("sizer_sizernet_g5_lowres", SizerNet, num_vertices=1924)
register_variant("sizer_parsernet_g5_hires", ParserNet, num_input_vertices=27554, num_output_vertices=7702)
register_variant("sizer_parsernet_g5_lowres", ParserNet, num_input_vertices=6890, num_output_vertices=1924)
register_variant("sizer_sizernet_tiny", SizerNet, num_vertices=64, latent_dim=16)
register_variant("sizer_parsernet_tiny", ParserNet, num_input_vertices=128, num_output_vertices=64, num_neighbours=8)
