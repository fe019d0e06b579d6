"""HMOR (Li et al., ECCV 2020): hierarchical multi-person ordinal relations for monocular multi-person 3D pose.

The package registers its variants and experiments (TF-free: the network imports under JAX without
TensorFlow); the `multi_person_pose3d` task (tf.data, evaluation, export) registers from
official/core/zoo_index.py as `research.three_d.hmor.task`.
"""

from research.three_d.hmor import experiments, variants  # noqa: F401  (registration)
