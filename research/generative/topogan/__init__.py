"""TopoGAN (Wang, Hu, Chen, Samaras, ECCV 2020): a topology-aware GAN for thin-structure images.

Importing the package registers its variants and experiments (the networks and the loss's gather are keras.ops
and run under JAX); the objective and the task (tf.data, tf.GradientTape, tf.numpy_function, export) register
from official/core/zoo_index.py as `research.generative.topogan.task`.
"""

from research.generative.topogan import experiments, variants  # noqa: F401  (registration)
