"""Sketch2Photo (Liu et al., ECCV 2020): unsupervised sketch-to-photo synthesis in two stages.

Importing the package registers its variants and experiments (TF-free: the networks, losses and the
sketch corruption run under JAX). The objective and the task (tf.data, tf.GradientTape, export) register
from official/core/zoo_index.py as `research.generative.sketch2photo.task`.
"""

from research.generative.sketch2photo import experiments, variants  # noqa: F401  (registration)
