"""ForkGAN (Zheng, Wu, Han, Shi; ECCV 2020): night -> day translation with fork-shaped generators.

The package registers its variants and experiments (keras.ops networks that run under JAX; the shared
official.vision.gan and official.training.gan packages it reuses import TensorFlow at import time); the
`forkgan` GAN objective (TensorFlow's tf.distribute step) registers from official/core/zoo_index.py as
`research.generative.forkgan.objective`, which imports this package too.
"""

from research.generative.forkgan import experiments, variants  # noqa: F401  (registration)
