"""DRV: Deep Reflectance Volumes (Bi et al., ECCV 2020): relightable volumes from flash photos.

Importing the package registers the variants and experiments (TF-free: the renderer and model import under
JAX); the `reflectance_volume` task (tf.data, export) registers from official/core/zoo_index.py as
`research.three_d.drv.task`.
"""

from research.three_d.drv import experiments, variants  # noqa: F401  (registration)
