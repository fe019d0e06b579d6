"""ExchNet (Cui et al., ECCV 2020): fine-grained hashing with attention parts, feature exchange and asymmetric codes.

The network, variants and experiment configs import no TensorFlow (the network runs under JAX); the
training method and the task (tf.data, tf.GradientTape, serving) register only under TensorFlow.
"""

import keras

from research.retrieval.exchnet import experiments, variants  # noqa: F401  (registration)

if keras.backend.backend() == "tensorflow":
    from research.retrieval.exchnet import method, task  # noqa: F401  (registration)
