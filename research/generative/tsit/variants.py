"""Registered TSIT generators (counts asserted in tests/research/generative/tsit/test_tsit_model.py; spec card table).

- tsit_ast            AST / MMIS, ngf 64, 256x256: 398,093,739 = 2 streams x 66,730,836 + decoder 264,632,067
- tsit_ast_256x512    the same at 256x512 (BDD day->night, MMIS weather): same count (noise conv, no fc)
- tsit_sis            SIS (Cityscapes), 36 label channels, VAE fc for 256x512: 333,472,311
- tsit_tiny / tsit_sis_tiny  ngf 8, 5 levels at 32x32 (bottleneck 2x2): tests and the CPU small run
"""

from official.core.registry import register_variant
from research.generative.tsit.model import TSITGenerator

register_variant("tsit_ast", TSITGenerator, mode="ast", image_size=(256, 256))
register_variant("tsit_ast_256x512", TSITGenerator, mode="ast", image_size=(256, 512))
register_variant("tsit_sis", TSITGenerator, mode="sis", image_size=(256, 512), semantic_nc=36, use_vae=True)
register_variant("tsit_tiny", TSITGenerator, mode="ast", ngf=8, levels=5, image_size=(32, 32))
register_variant("tsit_sis_tiny", TSITGenerator, mode="sis", ngf=8, levels=5, image_size=(32, 64), semantic_nc=36,
                 use_vae=True, z_dim=16)
