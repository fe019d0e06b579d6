"""Per-element augmentation seeds for parallel tf.data maps.

Stateful random ops (`tf.image.random_crop`, `tf.random.uniform`) in a map with `num_parallel_calls` hand
out their numbers in thread order, so two runs with the same seed crop the same image differently. Zipping
element i with the i-th `[2]` seed of a seeded stream and using stateless ops makes every draw a function
of the element's position: a seeded run is then reproducible. (classification_input and the box, keypoint
and mono3d readers zip their seeds inline; the image-translation readers use this.) Split an element's seed
into independent ones with `augment_ops.split_seed`.
"""

from __future__ import annotations

import tensorflow as tf

_PIPELINE_STRIDE = 1_000_003  # different input pipelines (tf.distribute workers) draw different crops


def with_element_seeds(dataset: tf.data.Dataset, seed: int | None, pipeline_id: int = 0) -> tf.data.Dataset:
    """(element, seed) pairs: seed is a `[2]` int64 tensor from a stream seeded by `seed` and `pipeline_id`
    (None: an unseeded, unreproducible stream)."""
    stream_seed = None if seed is None else seed + _PIPELINE_STRIDE * pipeline_id
    seeds = tf.data.Dataset.random(seed=stream_seed).batch(2, drop_remainder=True)
    return tf.data.Dataset.zip(dataset, seeds)

