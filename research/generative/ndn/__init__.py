"""Neural Design Network (ECCV 2020): constrained graphic-layout generation with graph networks.

Importing the package registers its variants and experiments (keras.ops model code); the Task
(tf.data, export) registers from official/core/zoo_index.py as `research.generative.ndn.task`.
"""

from research.generative.ndn import experiments, variants  # noqa: F401  (registration)
