"""TSIT (Jiang, Wang, Yi, Xu, Loy, ECCV 2020): two-stream content/style image-to-image translation.

Registers the generators and experiments; the `tsit` GAN objective and the `tsit_translation` task
(content + style inputs, Cityscapes labels) register from official/core/zoo_index.py.
"""

from research.generative.tsit import experiments, variants  # noqa: F401  (registration)
