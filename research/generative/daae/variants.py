"""Registered DAAE networks (no official counts exist; tests assert counts recomputed by hand from the layer
list in tests/research/generative/daae/test_daae_model.py)."""

from official.core.registry import register_variant
from research.generative.daae.model import DAAE

# IntroVAE's 256 px widths (run_256.sh) with its 512-d latent split 256 identity / 128 age / 128 extra.
register_variant("daae_256", DAAE, image_size=256, channels=(32, 64, 128, 256, 512, 512))
# 128 px (the spec's smaller aligned crop): the same widths less the last.
register_variant("daae_128", DAAE, image_size=128, channels=(32, 64, 128, 256, 512))
# Tests and the CPU small run: 32 px, widths 8/16/32, latent 16 + 8 + 8.
register_variant("daae_tiny", DAAE, image_size=32, channels=(8, 16, 32), identity_dim=16, age_dim=8, extra_dim=8)
