"""Feature networks for FID/KID of generated images (official/evaluation/gan_metrics.py does the math).

- "pixels16": images resized (area) to 16x16 and flattened, 768-d. It needs no weights and separates the
  colour/texture statistics of the generated small-run domains; it is NOT comparable with any published
  FID or KID.
- "inception_v3": Keras' InceptionV3 pool3 (2048-d, global average pool) at 299x299 with the weights file
  the user supplies (Keras' ImageNet weights are a download, and neither they nor any Keras weights are
  the 2015-12-05 TF FID graph behind published numbers: scores are comparable only between runs scored
  with the same file).
Inputs are float images in [-1, 1] (the generators' tanh range), shape (N, H, W, 3).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import keras
import numpy as np
from keras import ops

from official.core.config import ConfigError

FEATURES = ("pixels16", "inception_v3")


def pixel_features(images, size: int = 16) -> np.ndarray:
    """(N, size * size * 3) area-resized pixels in [-1, 1]."""
    x = ops.image.resize(ops.convert_to_tensor(images, "float32"), (size, size), interpolation="area")
    return np.asarray(ops.reshape(x, (ops.shape(x)[0], -1)), np.float64)


def inception_network(weights: str | None) -> keras.Model:
    """InceptionV3 without its classifier, average-pooled (2048-d); `weights` is a file path or None."""
    return keras.applications.InceptionV3(include_top=False, weights=weights, pooling="avg", input_shape=(299, 299, 3))


def feature_fn(name: str, weights: str = "", batch_size: int = 32) -> Callable[[np.ndarray], np.ndarray]:
    """A function (N, H, W, 3) images in [-1, 1] -> (N, D) float64 features."""
    if name == "pixels16":
        return pixel_features
    if name != "inception_v3":
        raise ConfigError(f"task.features: expected one of {', '.join(FEATURES)}, got {name!r}")
    if not weights:
        raise ConfigError("task.feature_weights: inception_v3 features need a local InceptionV3 weights file "
                          "(include_top=False); none can be downloaded here")
    if not os.path.isfile(weights):
        raise ConfigError(f"task.feature_weights: {weights}: no such file")
    network = inception_network(weights)

    def features(images: np.ndarray) -> np.ndarray:
        out = []
        for i in range(0, len(images), batch_size):
            x = ops.image.resize(ops.convert_to_tensor(images[i:i + batch_size], "float32"), (299, 299),
                                 interpolation="bilinear")
            out.append(np.asarray(network(x, training=False), np.float64))  # InceptionV3 takes [-1, 1] inputs
        return np.concatenate(out)

    return features
