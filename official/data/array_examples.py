"""Examples of a dataset held in memory as arrays (CIFAR pickles, MNIST IDX files) as a tf.data stream.

Sharding and shuffling act on indices, so the arrays are copied into the graph once and each element
gathers its image: {"image" uint8 (h, w, 3), "label" int64, "source" "<path>#<index>"}.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def in_memory_examples(
    images: np.ndarray,
    labels: np.ndarray,
    source: str,
    shuffle: bool = False,
    seed: int | None = None,
    num_shards: int = 1,
    shard_index: int = 0,
) -> tf.data.Dataset:
    """`images` (N, h, w, 3) uint8 and `labels` (N,) as a dataset of example dicts (see the module doc)."""
    images_t, labels_t = tf.constant(images), tf.constant(labels)
    ds = tf.data.Dataset.range(len(labels))
    if num_shards > 1:
        ds = ds.shard(num_shards, shard_index)
    if shuffle:
        ds = ds.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    shape = list(images.shape[1:])

    def gather(index: tf.Tensor) -> dict:
        image = tf.gather(images_t, index)
        image.set_shape(shape)
        name = tf.strings.join([source, "#", tf.strings.as_string(index)])
        return {"image": image, "label": tf.gather(labels_t, index), "source": name}

    return ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE)
