"""Pluggable image feature extractors for the appearance-separability analysis.

The official tool uses a Places365 ResNet-18 (512-d scene features, image resized to 224) whose weights
cannot be downloaded here. An extractor is any `(images: (N, S, S, 3) float32 in [0, 1]) -> (N, D)`
callable with an `input_size` attribute; two are provided:
- `ThumbnailExtractor` (default, no weights): the image resized to 8 x 8, 192 colour values. It sees
  colour and layout only, so separability found with it says little about scene semantics;
- `KerasExtractor`: any Keras model (e.g. a Places365 ResNet-18 converted to .keras) loaded with
  `--feature_model`; the image is resized to the model's input size and the output flattened.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from official.core.errors import PathNotFoundError, UserError


class ThumbnailExtractor:
    """8 x 8 RGB thumbnails as 192-d vectors: a weight-free stand-in for scene features."""

    input_size = 8
    name = "thumbnail 8x8 RGB (no learned weights)"

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return np.asarray(images, np.float32).reshape(len(images), -1)


class KerasExtractor:
    """Wraps a Keras model: (N, S, S, 3) -> model output flattened to (N, D)."""

    def __init__(self, model, name: str = "keras model"):
        self.model = model
        self.name = name
        shape = model.input_shape
        self.input_size = int(shape[1]) if shape[1] is not None else 224

    @classmethod
    def load(cls, path: str) -> KerasExtractor:
        import os

        if not os.path.isfile(path):
            raise PathNotFoundError(f"{path}: feature model file does not exist")
        import keras

        try:
            model = keras.saving.load_model(path, compile=False)
        except Exception as err:  # Keras raises several types for a bad file
            raise UserError(f"{path}: not a loadable Keras model ({err})") from err
        return cls(model, name=os.path.basename(path))

    def __call__(self, images: np.ndarray) -> np.ndarray:
        out = self.model.predict(np.asarray(images, np.float32), verbose=0)
        return np.asarray(out).reshape(len(images), -1)


def load_image(path: str, size: int) -> np.ndarray:
    """An RGB image resized to size x size, float32 in [0, 1]."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB").resize((size, size), Image.BILINEAR), np.float32) / 255.0
    except OSError as err:
        raise UserError(f"{path}: not a readable image ({err})") from err


def extract(paths: dict[int, str], extractor: Callable, batch_size: int = 32,
            progress: Callable[[str], None] | None = None) -> dict[int, np.ndarray]:
    """Features of the images `paths` (image index -> file), in batches, with progress lines."""
    keys = sorted(paths)
    features: dict[int, np.ndarray] = {}
    for start in range(0, len(keys), batch_size):
        chunk = keys[start:start + batch_size]
        batch = np.stack([load_image(paths[k], extractor.input_size) for k in chunk])
        for k, f in zip(chunk, extractor(batch), strict=True):
            features[k] = f
        if progress:
            progress(f"features: {min(start + batch_size, len(keys))}/{len(keys)} images")
    return features
