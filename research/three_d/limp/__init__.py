"""LIMP (Cosmo, Norelli, Halimi, Kimmel, Rodolà, ECCV 2020): latent shape spaces with metric-preservation priors.

Importing the package registers its variants and experiments (TF-free: the networks import under JAX without
TensorFlow); the `limp` task (tf.data) and the `limp` training method register from official/core/zoo_index.py
as `research.three_d.limp.task`. The heat-method geodesics live in official/ops/heat_geodesics.py, the
FAUST-2500 reader in official/data/faust.py.
"""

from research.three_d.limp import experiments, variants  # noqa: F401  (registration)
