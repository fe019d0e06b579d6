"""Registered TopoGAN generators (counts asserted in tests/research/generative/topogan/test_topogan_model.py)."""

from official.core.registry import register_variant
from research.generative.topogan.model import DCGANGenerator

# Official Archpool entry 2: DCGAN, grayscale, 64x64, z 128: 3,804,032 trainable (+1,920 BN statistics).
register_variant("topogan_dcgan64", DCGANGenerator, latent_dim=128, filters=64)
# Tests and the CPU small run: 8 filters, z 32, still 64x64.
register_variant("topogan_tiny", DCGANGenerator, latent_dim=32, filters=8)
