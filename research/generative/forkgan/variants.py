"""Registered ForkGAN generators (the `forkgan` objective in objective.py adds the classifier and 12 Ds)."""

from official.core.registry import register_variant
from research.generative.forkgan.networks import ForkGenerator

# The official generator (gf 64, 5 encoder + 2 x 4 decoder blocks): 16,484,544 parameters at any size;
# Alderley trains at 256x512, BDD100K at 512x1024 (experiments.py sets image_size).
register_variant("forkgan_gf64", ForkGenerator, filters=64, encoder_blocks=5, decoder_blocks=4, image_size=(256, 512))
register_variant("forkgan_tiny", ForkGenerator, filters=8, encoder_blocks=1, decoder_blocks=2, image_size=(32, 64))
