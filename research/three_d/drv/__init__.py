"""DRV: Deep Reflectance Volumes (Bi et al., ECCV 2020): relightable volumes from flash photos.

Importing the package registers the variants (TF-free: the renderer and model import under JAX).
"""

from research.three_d.drv import variants  # noqa: F401  (registration)
