"""Aligned multi-view examples (one feature vector per view and instance) as tf.data streams.

Evaluation: ({"view_0": (d_0,), ..., "view_{M-1}"}, label) per instance, in order.
Semi-supervised training (TCGM): an endless stream of ({"labeled": views, "unlabeled": views}, labels) batches
that zips the labeled subset (the first `num_labeled` instances, as TCGM's dataprepare.py takes the first 500
documents) with the whole training split, labels ignored (its TC pass). Both are batched with
drop_remainder so every TC batch has B >= 2 aligned instances.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def view_names(num_views: int) -> list[str]:
    return [f"view_{m}" for m in range(num_views)]


def examples_dataset(views: list[np.ndarray], labels: np.ndarray) -> tf.data.Dataset:
    """(views dict, label) per instance."""
    feats = {name: np.asarray(v, np.float32) for name, v in zip(view_names(len(views)), views, strict=True)}
    return tf.data.Dataset.from_tensor_slices((feats, np.asarray(labels, np.int64)))


def _stream(views, labels, batch: int, shuffle: bool, seed: int, shard: tuple[int, int]) -> tf.data.Dataset:
    ds = examples_dataset(views, labels)
    if shard[0] > 1:
        ds = ds.shard(*shard)
    if shuffle:
        ds = ds.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    return ds.repeat().batch(batch, drop_remainder=True)


def semi_supervised_dataset(
    views: list[np.ndarray], labels: np.ndarray, num_labeled: int, batch: int, shuffle: bool = False, seed: int = 0,
    shard: tuple[int, int] = (1, 0),
) -> tf.data.Dataset:
    """Endless ({"labeled": views, "unlabeled": views}, labels of the labeled batch) batches of size `batch`."""
    n = len(labels)
    num_labeled = n if num_labeled < 0 else min(num_labeled, n)
    if num_labeled < batch or n < batch:
        raise ValueError(f"num_labeled: {num_labeled} labeled / {n} training instances cannot fill a batch of {batch}")
    labeled = _stream([v[:num_labeled] for v in views], labels[:num_labeled], batch, shuffle, seed, shard)
    unlabeled = _stream(views, labels, batch, shuffle, seed + 1, shard)
    return tf.data.Dataset.zip(labeled, unlabeled).map(
        lambda lab, unl: ({"labeled": lab[0], "unlabeled": unl[0]}, lab[1]), num_parallel_calls=tf.data.AUTOTUNE)
