"""A contained fix for Keras 3.15 + MultiWorkerMirroredStrategy, applied only when that strategy is used.

Keras 3 reduces the per-replica logs of `fit` under a multi-worker collective strategy with
`strategy.reduce("MEAN", v, axis=0)`, which fails for scalar losses and metrics ("Invalid reduction
dimension 0 for input with 0 dimensions"). Averaging across all replicas of the cluster with axis=None
is what single-host MirroredStrategy already gets; this patch makes multi-worker runs do the same.
"""

from __future__ import annotations

import tensorflow as tf

_patched = False


def patch_multi_worker_reduce() -> None:
    global _patched
    if _patched:
        return
    from keras import tree
    from keras.src.backend.tensorflow import trainer as tf_trainer

    original = tf_trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and reduction in ("auto", "mean"):

            def mean(v):
                if isinstance(v, tf.distribute.DistributedValues):
                    return strategy.reduce("MEAN", v, axis=None)
                return v

            return tree.map_structure(mean, values)
        return original(values, strategy, reduction)

    tf_trainer.reduce_per_replica = reduce_per_replica
    _patched = True
