"""PointContrast (Xie et al., ECCV 2020): unsupervised pre-training of a sparse 3D U-Net on pairs of scans.

The package registers its variants and experiments (TF-free: the network imports under JAX); its task
and training method (tf.data, GradientTape) register from official/core/zoo_index.py as
`research.three_d.pointcontrast.task` and `research.three_d.pointcontrast.method`.
"""

from research.three_d.pointcontrast import experiments, variants  # noqa: F401  (registration)
