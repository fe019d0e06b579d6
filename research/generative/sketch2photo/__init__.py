"""Sketch2Photo (Liu et al., ECCV 2020): unsupervised sketch-to-photo synthesis in two stages.

Importing the package registers its variants and experiments (the networks, losses and the sketch corruption
are keras.ops and run under JAX; importing official.vision.gan still loads TensorFlow). The objective and the task (tf.data, tf.GradientTape, export) register
from official/core/zoo_index.py as `research.generative.sketch2photo.task`.
"""

from research.generative.sketch2photo import experiments, variants  # noqa: F401  (registration)
