"""DAAE (Li, Huang et al., ECCV 2020): face aging and age estimation through disentangled latent factors.

Importing the package registers the variants and experiments (keras.ops networks, usable under JAX). The
objective and the task (tf.data, tf.GradientTape, export) register from official/core/zoo_index.py as
`research.generative.daae.task`.
"""

from research.generative.daae import experiments, variants  # noqa: F401  (registration)
