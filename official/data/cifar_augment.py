"""CIFAR's standard training crop: zero-pad 4 pixels on each side, then a random crop of the original size.

(He et al. 2016, sec. 4.2: "4 pixels are padded on each side, and a 32x32 crop is randomly sampled from
the padded image or its horizontal flip".) Stateless like `image_preprocessing`: the same `[2]` seed gives
the same crop in any tf.data thread. It is a translation by up to `padding` pixels with zero fill, which a
random-resized crop only approximates (that also zooms).
"""

from __future__ import annotations

import tensorflow as tf


def pad_and_random_crop(image: tf.Tensor, padding: int = 4, seed: tf.Tensor | None = None) -> tf.Tensor:
    """(h, w, c) -> (h, w, c): pad `padding` zeros on each side, crop (h, w) at a random offset."""
    if padding <= 0:
        return image
    if seed is None:
        seed = tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int64)
    shape = tf.shape(image)
    padded = tf.pad(image, [[padding, padding], [padding, padding], [0, 0]])
    offsets = tf.random.stateless_uniform([2], tf.cast(tf.reshape(seed, [2]), tf.int64), 0, 2 * padding + 1, tf.int32)
    out = tf.slice(padded, [offsets[0], offsets[1], 0], shape)
    out.set_shape(image.shape)
    return out
