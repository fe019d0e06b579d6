"""ISP (Zhu et al., ECCV 2020): identity-guided human semantic parsing for person re-identification.

The package registers its variants and experiments (TF-free, so the network imports under JAX on a
machine without TensorFlow); its task and training method (tf.data, GradientTape) register from
official/core/zoo_index.py as `research.reid.isp.task` and `research.reid.isp.method`.
"""

from research.reid.isp import experiments, variants  # noqa: F401  (registration)
