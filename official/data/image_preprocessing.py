"""Classification image transforms: Inception random-resized crop, flip, colour jitter, centre crop.

Training follows timm / torchvision (RandomResizedCrop + flip + ColorJitter), evaluation resizes the
shorter side to size / crop_pct and takes the centre crop (timm's eval transform). Normalisation uses
mean/std on the 0-255 scale. Everything is TF code because it runs inside tf.data and inside the
exported serving graph, where it must be identical.

The random transforms are stateless: each takes a `[2]` int seed and gives the same output for the same
seed, however many tf.data threads run them and in whatever order (stateful random ops in a parallel
map hand out their numbers in thread order, so a seeded run would still differ from the next one).
`classification_input` gives every training element its own seed from a seeded stream.
"""

from __future__ import annotations

import tensorflow as tf

from official.core.errors import BadValueError
from official.data import autoaugment, cifar_augment

METHODS = {"bilinear": "bilinear", "bicubic": "bicubic", "nearest": "nearest", "area": "area"}


def _method(interpolation: str) -> str:
    if interpolation not in METHODS:
        raise BadValueError(f"interpolation: expected one of {sorted(METHODS)}, got {interpolation!r}")
    return METHODS[interpolation]


def _seeds(seed: tf.Tensor | None, count: int) -> list[tf.Tensor]:
    """`count` independent `[2]` seeds from `seed`; None draws a fresh (unreproducible) one."""
    if seed is None:
        seed = tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int64)
    seeds = tf.random.experimental.stateless_split(tf.cast(tf.reshape(seed, [2]), tf.int64), count)
    return [seeds[i] for i in range(count)]


def _fold_in(seed: tf.Tensor | None, data: int) -> tf.Tensor | None:
    """A seed independent of `_seeds(seed, n)`, so adding a transform leaves the others' draws unchanged."""
    if seed is None:
        return None
    return tf.random.experimental.stateless_fold_in(tf.cast(tf.reshape(seed, [2]), tf.int64), data)


def random_resized_crop(
    image: tf.Tensor,
    size: int,
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
    interpolation: str = "bilinear",
    seed: tf.Tensor | None = None,
) -> tf.Tensor:
    """A crop of random area fraction and aspect ratio, resized to (size, size); float32 0-255."""
    begin, crop_size, _ = tf.image.stateless_sample_distorted_bounding_box(
        tf.shape(image),
        bounding_boxes=tf.constant([0.0, 0.0, 1.0, 1.0], shape=[1, 1, 4]),
        seed=_seeds(seed, 1)[0],
        min_object_covered=0.0,
        aspect_ratio_range=ratio,
        area_range=scale,
        max_attempts=10,
        use_image_if_no_bounding_boxes=True,
    )
    crop = tf.slice(image, begin, crop_size)
    out = tf.image.resize(crop, [size, size], method=_method(interpolation), antialias=False)
    return tf.clip_by_value(out, 0.0, 255.0)


def center_crop(image: tf.Tensor, size: int, crop_pct: float = 0.875, interpolation: str = "bilinear") -> tf.Tensor:
    """Resizes the shorter side to size / crop_pct, then crops the central (size, size); float32 0-255."""
    shape = tf.shape(image)
    h, w = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    scale_size = tf.math.floor(size / crop_pct)
    ratio = scale_size / tf.minimum(h, w)
    new_h = tf.maximum(tf.cast(tf.round(h * ratio), tf.int32), size)
    new_w = tf.maximum(tf.cast(tf.round(w * ratio), tf.int32), size)
    resized = tf.image.resize(image, [new_h, new_w], method=_method(interpolation))
    top = (new_h - size) // 2
    left = (new_w - size) // 2
    out = tf.slice(resized, [top, left, 0], [size, size, 3])
    return tf.clip_by_value(out, 0.0, 255.0)


def color_jitter(image: tf.Tensor, strength: float, seed: tf.Tensor | None = None) -> tf.Tensor:
    """Brightness, contrast and saturation factors drawn from [1 - s, 1 + s] (timm's --color-jitter)."""
    if strength <= 0:
        return image
    brightness, contrast, saturation = _seeds(seed, 3)
    x = image / 255.0
    lo, hi = max(0.0, 1.0 - strength), 1.0 + strength
    x = x * tf.random.stateless_uniform([], brightness, lo, hi)
    mean = tf.reduce_mean(tf.image.rgb_to_grayscale(x))
    x = (x - mean) * tf.random.stateless_uniform([], contrast, lo, hi) + mean
    x = tf.image.adjust_saturation(tf.clip_by_value(x, 0.0, 1.0), tf.random.stateless_uniform([], saturation, lo, hi))
    return tf.clip_by_value(x, 0.0, 1.0) * 255.0


def normalize(image: tf.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> tf.Tensor:
    """(image - mean) / std per channel, image on the 0-255 scale."""
    return (tf.cast(image, tf.float32) - tf.constant(mean, tf.float32)) / tf.constant(std, tf.float32)


def preprocess_train(image: tf.Tensor, cfg, seed: tf.Tensor | None = None) -> tf.Tensor:
    """uint8 (h, w, 3) -> normalised float32 (size, size, 3) with the config's augmentations.

    Order: crop, flip, colour jitter, then AutoAugment / RandAugment and noise replacement
    (`autoaugment.augment`, AutoAugment-KD), then normalisation.

    `seed` (`[2]` int) fixes every random choice; None draws fresh ones.
    """
    crop_seed, flip_seed, jitter_seed = _seeds(seed, 3)
    image = tf.cast(image, tf.float32)
    if cfg.random_resized_crop:
        image = random_resized_crop(image, cfg.image_size, cfg.rrc_scale, cfg.rrc_ratio, cfg.interpolation, crop_seed)
    else:
        image = center_crop(image, cfg.image_size, 1.0, cfg.interpolation)
        if cfg.pad_crop > 0:  # CIFAR's pad-and-crop (a shift with zero fill) instead of a resized crop
            image = cifar_augment.pad_and_random_crop(image, cfg.pad_crop, crop_seed)
    if cfg.horizontal_flip:
        image = tf.image.stateless_random_flip_left_right(image, flip_seed)
    image = color_jitter(image, cfg.color_jitter, jitter_seed)
    if cfg.auto_augment or cfg.noise_replace_prob != 0:
        image = autoaugment.augment(image, cfg, _fold_in(seed, 1))
    return normalize(image, cfg.mean, cfg.std)


def preprocess_eval(image: tf.Tensor, cfg) -> tf.Tensor:
    """uint8 (h, w, 3) -> normalised float32 (size, size, 3): resize + centre crop."""
    image = center_crop(tf.cast(image, tf.float32), cfg.image_size, cfg.crop_pct, cfg.interpolation)
    return normalize(image, cfg.mean, cfg.std)
