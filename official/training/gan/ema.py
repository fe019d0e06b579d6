"""An exponential moving average of a network, kept as a second copy of it (the copy that is exported).

COCO-FUNIT evaluates and ships the averaged generator (imaginaire's model_average, beta 0.999); keeping
the average as a whole network, rather than as optimizer slots, lets checkpoints, `tools.evaluate` and
`tools.export` treat it like any network. Updates run in cross-replica context under tf.distribute, so
every replica's copy receives the same value (as Keras' optimizers update their variables).
"""

from __future__ import annotations

import keras


def make_average(network: keras.Model) -> keras.Model:
    """A copy of `network` (same config and weights) whose variables are not trained."""
    average = keras.models.clone_model(network)
    average.set_weights(network.get_weights())
    average.trainable = False
    return average


def _tf_variable(v):
    return v.value if isinstance(v, keras.Variable) else v


def update_average(average: keras.Model, network: keras.Model, decay) -> None:
    """average <- decay * average + (1 - decay) * network for trainable weights; copied for the rest
    (BatchNorm statistics, spectral-norm vectors)."""
    import tensorflow as tf  # here, not at import: the objectives import this module under JAX too

    pairs = list(zip(average.weights, network.weights, strict=True))

    def moving(a, v, d):
        d = tf.cast(d, a.dtype)
        return a.assign(d * a + (1.0 - d) * v)

    def copy(a, v, d):
        return a.assign(v)

    def update(strategy, pairs, decay):
        for avg, live in pairs:
            strategy.extended.update(_tf_variable(avg), moving if live.trainable else copy,
                                     args=(_tf_variable(live), decay), group=False)

    decay = tf.convert_to_tensor(decay, tf.float32)
    context = tf.distribute.get_replica_context()
    if context is None:  # cross-replica context already
        update(tf.distribute.get_strategy(), pairs, decay)
    else:
        context.merge_call(update, args=(pairs, decay))
