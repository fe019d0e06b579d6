"""Registered DRV models (trainable counts asserted in tests/research/three_d/drv/test_drv_model.py).

- drv_direct128   the paper's 128^3 x 8-channel volume as direct variables: 16,777,217 (= 128^3 * 8 + I)
- drv_decoder128  the paper's deep prior: 512-d code -> 4^3 -> 128^3 Conv3DTranspose decoder (widths
                  256-128-64-32-16 unverified) + the Neural Volumes warp (16 affines, 32^3 weights;
                  widths 64-32-16 unverified): counted from our build (test)
- drv_decoder32   the decoder's CPU small run: 64-d code -> 4^3 -> 32^3 (widths 32-16-8), warp of 4 affines
                  on a 16^3 weight volume (widths 8-4), 64 samples per ray
- drv_direct32    the CPU small run: 32^3 direct volume, 64 samples per ray: 262,145
- drv_tiny        tests: 16^3, 32 samples, 32 px images: 32,769
"""

from official.core.registry import register_variant
from research.three_d.drv.model import DRV

register_variant("drv_direct128", DRV, resolution=128)
register_variant("drv_decoder128", DRV, resolution=128, decoder=True, warp=True)
register_variant("drv_decoder32", DRV, resolution=32, decoder=True, code_dim=64, decoder_channels=(32, 16, 8),
                 warp=True, warp_affines=4, warp_channels=(8, 4), num_samples=64, num_light_samples=16)
register_variant("drv_direct32", DRV, resolution=32, num_samples=64, num_light_samples=16)
register_variant("drv_tiny", DRV, resolution=16, num_samples=32, num_light_samples=8, image_size=32)
