"""TSIT (Jiang, Zhang, Huang, Liu, Shi, Loy, ECCV 2020): two-stream content/style image-to-image translation.

The package registers its generators only (TF-free, so the networks import under JAX); the experiments,
the `tsit` GAN objective and the `tsit_translation` task register from official/core/zoo_index.py as
`research.generative.tsit.task` (they import the TensorFlow training stack).
"""

from research.generative.tsit import variants  # noqa: F401  (registration)
