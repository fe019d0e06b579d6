"""Registered LIMP VAEs (trainable counts asserted in tests/research/three_d/limp/test_limp_model.py).

- limp_faust2500  N = 2,500 vertices, latent 256 (64 pose + 192 style): encoder 875,209 + decoder
  17,729,868 = 18,605,077 (spec card limp.md; the decoder grows by 6,147 per extra vertex, so pass
  num_points=<the FAUST-2500 mesh's vertex count> when the real archive differs from 2,500)
- limp_tiny       the synthetic capsule fixture (194 vertices), narrow widths: tests and the CPU small run
"""

from official.core.registry import register_variant
from research.three_d.limp.model import Limp

register_variant("limp_faust2500", Limp, num_points=2500)
register_variant("limp_tiny", Limp, num_points=194, latent_size=32, pose_size=8, desc_size=64,
                 conv_sizes=(16, 32, 64), fc_sizes=(64, 64, 32), tnet_conv_sizes=(16, 32, 64),
                 tnet_fc_sizes=(64, 32), decoder_sizes=(128, 256))
