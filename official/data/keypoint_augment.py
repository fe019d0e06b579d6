"""Top-down keypoint augmentation on tf tensors (tf.data): box extension, half-body, scale, rotation, flip.

The order and the numbers follow RSN `dataset/JointsDataset.py` __getitem__ with the values of
`dataset/attribute.py` (`COCO_AUGMENT`, `MPII_AUGMENT` below):
  1. training: the box grows by (1 + basic) * (1 + U(0,1) * x_ext) in width and (1 + basic) *
     (1 + U(0,1) * y_ext) in height (U = 1 when random extension is off, as for MPII);
     evaluation: by (1 + test_x_ext, 1 + test_y_ext) (COCO 1.09 x 1.135, MPII 1.25 x 1.25);
  2. the box is grown to the crop's aspect ratio (width / height, 192/256 for COCO);
  3. half-body (training): with more than `half_body_min_keypoints` labeled keypoints and probability
     `half_body_prob`, the box is replaced by the extent of the labeled upper-body or lower-body
     keypoints (upper tried first when a standard normal draw is < 0.5, i.e. with probability 0.69,
     and only if it has more than 3 keypoints; otherwise lower if it has more than 3, else upper; at
     least 3 needed), extended by (1 + U * 0.6, 1 + U * 0.8) and fitted to the aspect ratio;
  4. scale: x scale_shrink * U(1 - 0.25, 1 + 0.25) (COCO shrinks by 0.8);
  5. rotation: U(-45, 45) degrees with probability 0.5 (MPII 60), else 0;
  6. flip with probability 0.5: image mirrored, x -> width - 1 - x for keypoints and the centre (RSN
     `flip_joints`; pixel centres at integers), and the flip pairs swapped.
Randomness is stateless: the same [2] seed gives the same result (see `box_augment` for the pattern);
`keypoint_input` derives one seed per element from a dataset seed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import tensorflow as tf

from official.data.keypoint_affine import fit_aspect_ratio_tf
from official.data.keypoint_constants import KeypointSpec


@dataclasses.dataclass(frozen=True)
class KeypointAugmentConfig:
    """Box extension and augmentation of one dataset (defaults: RSN attribute.py COCO)."""

    basic_extension: float = 0.05  # training box grows by this factor on both axes first
    random_extension: bool = True  # draw the x/y extension as U(0,1) * factor (else the full factor)
    x_extension: float = 0.6  # training width extension factor
    y_extension: float = 0.8  # training height extension factor
    test_x_extension: float = 0.09  # evaluation width extension (RSN: 0.01 * 9)
    test_y_extension: float = 0.135  # evaluation height extension (RSN: 0.015 * 9)
    scale_range: tuple[float, float] = (-0.25, 0.25)  # scale factor drawn from 1 + U(lo, hi)
    scale_shrink: float = 0.8  # constant factor applied with the random scale
    rotation_factor: float = 45.0  # rotation drawn from U(-f, f) degrees
    rotation_prob: float = 0.5  # probability of rotating at all
    flip_prob: float = 0.5  # probability of a horizontal flip
    half_body_min_keypoints: int = 3  # half-body needs MORE labeled keypoints than this
    half_body_prob: float = 0.3  # probability of trying half-body when allowed
    half_body_x_extension: float = 0.6  # half-body box width extension U(0,1) * factor
    half_body_y_extension: float = 0.8  # half-body box height extension U(0,1) * factor


COCO_AUGMENT = KeypointAugmentConfig()
MPII_AUGMENT = KeypointAugmentConfig(
    basic_extension=0.0,
    random_extension=False,
    x_extension=0.25,
    y_extension=0.25,
    test_x_extension=0.25,
    test_y_extension=0.25,
    scale_shrink=1.0,
    rotation_factor=60.0,
    half_body_min_keypoints=8,
    half_body_prob=0.5,
    half_body_x_extension=0.6,
    half_body_y_extension=0.6,
)


def _seed(seed: Any) -> tf.Tensor:
    """None -> a fresh random seed; int -> [int, 0]; a [2] tensor as is."""
    if seed is None:
        return tf.random.uniform([2], 0, 2**31 - 1, dtype=tf.int64)
    if isinstance(seed, int):
        return tf.constant([seed, 0], tf.int64)
    return tf.cast(tf.reshape(seed, [2]), tf.int64)


def flip_keypoints(keypoints: tf.Tensor, image_width: tf.Tensor | int, spec: KeypointSpec) -> tf.Tensor:
    """Mirrors [K, 3] (x, y, v) keypoints of an image `image_width` pixels wide: x -> W - 1 - x, then
    row i takes the (mirrored) row of its flip partner. Applying it twice is the identity."""
    kp = tf.cast(keypoints, tf.float32)
    width = tf.cast(image_width, tf.float32)
    mirrored = tf.concat([width - 1.0 - kp[:, :1], kp[:, 1:]], axis=1)
    return tf.gather(mirrored, list(spec.flip_index))


def extend_box(scale: tf.Tensor, cfg: KeypointAugmentConfig, training: bool, seed: Any = None) -> tf.Tensor:
    """Steps 1 of the module docstring on a (w, h) box size (pixels); not yet aspect-fitted."""
    scale = tf.cast(scale, tf.float32)
    if not training:
        return scale * tf.constant([1.0 + cfg.test_x_extension, 1.0 + cfg.test_y_extension])
    if cfg.random_extension:
        rand = tf.random.stateless_uniform([2], _seed(seed))
    else:
        rand = tf.ones([2])
    factor = (1.0 + cfg.basic_extension) * (1.0 + rand * tf.constant([cfg.x_extension, cfg.y_extension]))
    return scale * factor


def person_box(
    center: tf.Tensor, scale: tf.Tensor, cfg: KeypointAugmentConfig, aspect_ratio: float
) -> tuple[tf.Tensor, tf.Tensor]:
    """The evaluation crop box: (center, scale extended by the test factors and aspect-fitted)."""
    return tf.cast(center, tf.float32), fit_aspect_ratio_tf(extend_box(scale, cfg, False), aspect_ratio)


def half_body_box(
    keypoints: tf.Tensor, spec: KeypointSpec, cfg: KeypointAugmentConfig, aspect_ratio: float, seed: Any
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """RSN half_body_transform: (center [2], scale [2], ok, selected [K] bool). `ok` is False where RSN
    returns None (fewer than 3 joints in the chosen set) or the box would be empty."""
    seeds = tf.random.experimental.stateless_split(_seed(seed), 3)
    kp = tf.cast(keypoints, tf.float32)
    labeled = kp[:, 2] > 0
    is_upper = tf.constant(spec.is_upper_body)
    upper, lower = labeled & is_upper, labeled & ~is_upper
    n_upper = tf.reduce_sum(tf.cast(upper, tf.int32))
    n_lower = tf.reduce_sum(tf.cast(lower, tf.int32))
    # RSN: `np.random.randn() < 0.5 and len(upper) > 3` (a normal draw, so upper first w.p. 0.69).
    prefer_upper = tf.random.stateless_normal([], seeds[0]) < 0.5
    use_upper = (prefer_upper & (n_upper > 3)) | ~(n_lower > 3)
    selected = tf.where(use_upper, upper, lower)
    ok = tf.reduce_sum(tf.cast(selected, tf.int32)) >= 3
    xy = kp[:, :2]
    sel = selected[:, None]
    left_top = tf.reduce_min(tf.where(sel, xy, tf.fill(tf.shape(xy), 3.0e38)), axis=0)
    right_bottom = tf.reduce_max(tf.where(sel, xy, tf.fill(tf.shape(xy), -3.0e38)), axis=0)
    left_top = tf.where(ok, left_top, tf.zeros([2]))
    right_bottom = tf.where(ok, right_bottom, tf.zeros([2]))
    center = (left_top + right_bottom) / 2.0
    rand = tf.random.stateless_uniform([2], seeds[1])
    ext = tf.constant([cfg.half_body_x_extension, cfg.half_body_y_extension])
    size = fit_aspect_ratio_tf((right_bottom - left_top) * (1.0 + rand * ext), aspect_ratio)
    ok = ok & (size[0] > 0)  # all selected joints at one point: RSN would divide by zero
    return center, size, ok, selected


def augment_person(
    image: tf.Tensor,
    center: tf.Tensor,
    scale: tf.Tensor,
    keypoints: tf.Tensor,
    spec: KeypointSpec,
    cfg: KeypointAugmentConfig,
    aspect_ratio: float,
    seed: Any = None,
) -> dict[str, tf.Tensor]:
    """Training steps 1-6 for one person.

    Args:
      image: [H, W, C] source image (any dtype; flipped when the flip fires).
      center, scale: the person box (pixels; scale = (w, h) before extension).
      keypoints: [K, 3] (x, y, v) in source pixels.
      spec: keypoint layout (flip pairs, upper-body set).
      cfg: augmentation values.
      aspect_ratio: crop width / height.
      seed: None, an int or a [2] int tensor.

    Returns:
      dict with "image" (possibly mirrored), "center" [2], "scale" [2] float32 (pixels, aspect-fitted),
      "rotation" float32 degrees, "keypoints" [K, 3] (mirrored and pair-swapped when flipped),
      "flipped" bool, "half_body" bool.
    """
    seeds = tf.random.experimental.stateless_split(_seed(seed), 7)
    center = tf.cast(center, tf.float32)
    kp = tf.cast(keypoints, tf.float32)
    scale = fit_aspect_ratio_tf(extend_box(scale, cfg, True, seeds[0]), aspect_ratio)

    num_labeled = tf.reduce_sum(tf.cast(kp[:, 2] > 0, tf.int32))
    try_half = (num_labeled > cfg.half_body_min_keypoints) & (
        tf.random.stateless_uniform([], seeds[1]) < cfg.half_body_prob
    )
    hb_center, hb_scale, hb_ok, _ = half_body_box(kp, spec, cfg, aspect_ratio, seeds[2])
    half_body = try_half & hb_ok
    center = tf.where(half_body, hb_center, center)
    scale = tf.where(half_body, hb_scale, scale)

    lo, hi = cfg.scale_range
    scale = scale * (cfg.scale_shrink * tf.random.stateless_uniform([], seeds[3], 1.0 + lo, 1.0 + hi))
    rotate = tf.random.stateless_uniform([], seeds[4]) <= cfg.rotation_prob
    angle = tf.random.stateless_uniform([], seeds[5], -cfg.rotation_factor, cfg.rotation_factor)
    rotation = tf.where(rotate, angle, 0.0)

    flipped = tf.random.stateless_uniform([], seeds[6]) < cfg.flip_prob
    width = tf.cast(tf.shape(image)[1], tf.float32)
    image = tf.cond(flipped, lambda: tf.reverse(image, [1]), lambda: image)
    kp = tf.where(flipped, flip_keypoints(kp, width, spec), kp)
    center = tf.where(flipped, tf.stack([width - 1.0 - center[0], center[1]]), center)
    return {
        "image": image,
        "center": center,
        "scale": scale,
        "rotation": rotation,
        "keypoints": kp,
        "flipped": flipped,
        "half_body": half_body,
    }
