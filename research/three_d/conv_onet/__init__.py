"""ConvONet (Peng, Niemeyer, Mescheder, Pollefeys, Geiger, ECCV 2020): convolutional occupancy networks.

The package registers its variants and experiments (TF-free: the network imports under JAX without
TensorFlow); the `occupancy` task (tf.data, meshes) registers from official/core/zoo_index.py as
`research.three_d.conv_onet.task`.
"""

from research.three_d.conv_onet import experiments, variants  # noqa: F401  (registration)
