"""ShapeGF (Cai et al., ECCV 2020): point clouds from learned gradient fields (auto-encoding and generation).

The package registers its variants and experiments (TF-free: the networks import under JAX); the task and
the training methods (tf.data, GradientTape) register from official/core/zoo_index.py as
`research.three_d.shapegf.task` and `research.three_d.shapegf.method`.
"""

from research.three_d.shapegf import experiments, variants  # noqa: F401  (registration)
