"""S2DNet (Germain, Bourmaud, Lepetit, ECCV 2020): hypercolumn features for sparse-to-dense matching.

Importing the package registers its variants and experiments (TF-free: the network imports under JAX).
The `s2dnet` task (tf.data, evaluation, export) registers from official/core/zoo_index.py as
`research.geometry.s2dnet.task`. Reader: official/data/hpatches.py; metric: official/evaluation/hpatches_mma.py.
"""

from research.geometry.s2dnet import experiments, variants  # noqa: F401  (registration)
