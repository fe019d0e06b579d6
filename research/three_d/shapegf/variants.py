"""Registered ShapeGF networks (trainable parameters asserted in tests/research/three_d/shapegf/test_shapegf_model.py).

- shapegf_ae   encoder 365,184 + score net 4,035,075 = 4,400,259 (configs/recon/*_recon_add.yaml: 10 sigmas)
- shapegf_gen  + latent generator 131,712 = 4,531,971 (configs/gen/*_gen*.yaml: 5 sigmas for sampling);
               the discriminator (329,217) lives in the shapegf_gan training method
- shapegf_tiny / shapegf_tiny_gen: narrow networks for tests and the CPU small run
"""

from official.core.registry import register_variant
from research.three_d.shapegf.model import ShapeGF

register_variant("shapegf_ae", ShapeGF)
register_variant("shapegf_gen", ShapeGF, num_sigmas=5, generator_dims=(256, 256))
TINY = dict(zdim=32, hidden=64, blocks=2, conv_widths=(32, 32, 64, 64), fc_widths=(64, 32), num_sigmas=6, num_steps=5,
            sigma_end=0.02, num_points=512)
register_variant("shapegf_tiny", ShapeGF, **TINY)
register_variant("shapegf_tiny_gen", ShapeGF, **{**TINY, "num_sigmas": 5, "generator_dims": (64, 64)})
