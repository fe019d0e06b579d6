"""The KM3D / CenterNet monocular-3D input transform on tf tensors (graph-safe, runs inside tf.data).

Input: a `kitti.kitti_dataset` example. Output: the same keys, with
    "image"             float32 [input_h, input_w, 3]  the warped image, normalised (ImageNet mean/std,
                                                       RGB, 0-1 scale) unless normalize=False (then 0-255)
    "P2"                float32 [3, 4]   projects into the INPUT image: A @ P2 (after the flip, if any)
    "gt_boxes2d"        float32 [M, 4]   boxes through A, clipped to [0, input_w - 1] x [0, input_h - 1]
    "gt_valid"          bool    [M]      also False for objects whose clipped box has no area
    gt_locations / gt_rotation_y / gt_alpha mirrored when flipped; other object fields unchanged
    "image_size"        int32   [2]      the ORIGINAL (H, W)
and three new keys:
    "input_affine"      float32 [2, 3]   A: (possibly mirrored) original pixels -> input pixels
    "input_affine_inv"  float32 [2, 3]   input pixels -> (possibly mirrored) original pixels
    "flipped"           bool    []       the example was mirrored (training only)

The affine (CenterNet `get_affine_transform(c, s, 0, [input_w, input_h])`, KM3D car_pose.py): the centre c
(x, y) maps to (input_w / 2, input_h / 2) and s source pixels span the input width, so the source region
is s x s * input_h / input_w; pixel centres at integers, bilinear, zero outside the image
(`keypoint_affine.warp_affine`, cv2.warpAffine's convention). Test time: c = (W / 2, H / 2), s = max(H, W).
Training (KM3D `not_rand_crop` off): s = max(H, W) * choice(0.6, 0.7, ..., 1.3) (numpy arange(0.6, 1.4,
0.1)), c = integers uniform in [border, size - border) per axis with KM3D `_get_border(128, size)`
(halve the border until it is below half the side), and a horizontal flip with probability 0.5.

KM3D keeps the original calibration and maps predicted keypoints back through the inverse affine. Here
P2 is UPDATED instead, so that the labels project straight into the network input:
    P2' = A3 @ P2,  A3 = [[A], [0, 0, 1]]   (a pixel-space affine commutes with the perspective division)
The flip is exact in 3D: the image is mirrored (u -> W - 1 - u), the scene is mirrored (x -> -x),
rotation_y -> pi - rotation_y, alpha -> pi - alpha (wrapped to [-pi, pi)), boxes -> (W - 1 - right, top,
W - 1 - left, bottom), and P2 -> F @ P2 @ diag(-1, 1, 1, 1) with F = [[-1, 0, W - 1], [0, 1, 0], [0, 0, 1]]:
    P2'[0] = (P2[0, 0], -P2[0, 1], (W - 1) P2[2, 2] - P2[0, 2], (W - 1) P2[2, 3] - P2[0, 3])
(for KITTI's P2, cx -> W - 1 - cx and P2[0, 3] -> -P2[0, 3] + (W - 1) P2[2, 3]; P2[2, 3] ~ 0.0027). The
mirrored box's corners are the original corners mirrored with `kitti_geometry.FLIP_PAIRS` swapped.

Colour jitter (optional, `color_jitter` > 0) is `box_augment.color_jitter` (brightness/contrast/
saturation + PCA lighting), applied to the warped image before normalisation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import tensorflow as tf

from official.data.box_augment import color_jitter as _color_jitter
from official.data.keypoint_affine import warp_affine

IMAGENET_MEAN = (0.485, 0.456, 0.406)  # KM3D kittihp.py mean / std (0-1 scale; KM3D applies them to BGR)
IMAGENET_STD = (0.229, 0.224, 0.225)
KM3D_SCALES = tuple(float(v) for v in np.arange(0.6, 1.4, 0.1))  # 0.6 .. 1.3, as np.random.choice draws
KM3D_BORDER = 128
KM3D_INPUT_SIZE = (384, 1280)  # (input_h, input_w), KITTIHP.default_resolution
FLIPPED_KEYS = (
    "image",
    "P2",
    "gt_locations",
    "gt_rotation_y",
    "gt_alpha",
    "gt_boxes2d",
)  # flip_example changes


def _seed(seed: Any) -> tf.Tensor:
    if seed is None:
        return tf.random.uniform([2], 0, 2**31 - 1, dtype=tf.int64)
    if isinstance(seed, int):
        return tf.constant([seed, 0], tf.int64)
    return tf.cast(tf.reshape(seed, [2]), tf.int64)


def wrap_angle_tf(angle: tf.Tensor) -> tf.Tensor:
    """Angles mapped to [-pi, pi) (kitti_geometry.wrap_angle)."""
    return tf.math.floormod(angle + math.pi, 2.0 * math.pi) - math.pi


def normalize_image(image: tf.Tensor, mean: tuple = IMAGENET_MEAN, std: tuple = IMAGENET_STD) -> tf.Tensor:
    """0-255 RGB -> (x / 255 - mean) / std, float32."""
    image = tf.cast(image, tf.float32) / 255.0
    return (image - tf.constant(mean, tf.float32)) / tf.constant(std, tf.float32)


def input_affine(center: tf.Tensor, scale: tf.Tensor, input_size: tuple[int, int]) -> tf.Tensor:
    """The 3x3 float64 homogeneous affine of get_affine_transform(center, scale, rot=0, (input_w, input_h))."""
    center = tf.cast(tf.reshape(center, [2]), tf.float64)
    k = float(input_size[1]) / tf.cast(scale, tf.float64)
    zero, one = tf.constant(0.0, tf.float64), tf.constant(1.0, tf.float64)
    return tf.stack(
        [
            tf.stack([k, zero, input_size[1] / 2.0 - k * center[0]]),
            tf.stack([zero, k, input_size[0] / 2.0 - k * center[1]]),
            tf.stack([zero, zero, one]),
        ]
    )


def flip_example(example: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """Mirrors image, labels and P2 exactly (module docstring); other keys pass through."""
    out = dict(example)
    image = example["image"]
    last = tf.cast(tf.shape(image)[1], tf.float64) - 1.0  # W - 1
    out["image"] = tf.reverse(image, [1])
    p2 = tf.cast(example["P2"], tf.float64)
    flip_u = tf.stack(
        [
            tf.stack([-1.0, 0.0, last]),
            tf.constant([0.0, 1.0, 0.0], tf.float64),
            tf.constant([0.0, 0.0, 1.0], tf.float64),
        ]
    )
    mirror_x = tf.constant(np.diag([-1.0, 1.0, 1.0, 1.0]), tf.float64)
    out["P2"] = tf.cast(flip_u @ p2 @ mirror_x, tf.float32)
    valid = example["gt_valid"]
    loc = example["gt_locations"]
    out["gt_locations"] = tf.where(valid[:, None], loc * tf.constant([-1.0, 1.0, 1.0]), loc)
    for key in ("gt_rotation_y", "gt_alpha"):
        out[key] = tf.where(valid, wrap_angle_tf(math.pi - example[key]), example[key])
    boxes = example["gt_boxes2d"]
    lastf = tf.cast(last, tf.float32)
    mirrored = tf.stack([lastf - boxes[:, 2], boxes[:, 1], lastf - boxes[:, 0], boxes[:, 3]], axis=1)
    out["gt_boxes2d"] = tf.where(valid[:, None], mirrored, boxes)
    return out


def affine_example(
    example: dict[str, tf.Tensor], center: tf.Tensor, scale: tf.Tensor, input_size: tuple[int, int]
) -> dict[str, tf.Tensor]:
    """Warps the image into `input_size` (h, w) with centre/scale, updates P2 and the 2D boxes.

    The image comes back float32 0-255 (not normalised); adds input_affine / input_affine_inv.
    """
    out = dict(example)
    a3 = input_affine(center, scale, input_size)
    a3_inv = tf.linalg.inv(a3)
    matrix = tf.cast(a3[:2], tf.float32)
    out["image"] = warp_affine(example["image"], matrix, input_size)
    out["P2"] = tf.cast(a3 @ tf.cast(example["P2"], tf.float64), tf.float32)
    boxes = tf.cast(example["gt_boxes2d"], tf.float64)
    k, tx, ty = a3[0, 0], a3[0, 2], a3[1, 2]
    boxes = boxes * k + tf.stack([tx, ty, tx, ty])
    high = tf.constant([input_size[1] - 1, input_size[0] - 1] * 2, tf.float64)
    boxes = tf.cast(tf.clip_by_value(boxes, 0.0, high), tf.float32)
    valid = example["gt_valid"] & (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    out["gt_boxes2d"] = tf.where(valid[:, None], boxes, tf.zeros_like(boxes))
    out["gt_valid"] = valid
    out["input_affine"] = matrix
    out["input_affine_inv"] = tf.cast(a3_inv[:2], tf.float32)
    return out


def km3d_border(border: int, size: tf.Tensor) -> tf.Tensor:
    """KM3D `_get_border`: i = 1; while size - border // i <= border // i: i *= 2; return border // i."""
    size = tf.cast(size, tf.int32)
    i = tf.while_loop(lambda i: size - border // i <= border // i, lambda i: [i * 2], [tf.constant(1)])[0]
    return border // i


def random_center_scale(
    image_size: tf.Tensor, seed: tf.Tensor, scales: tuple[float, ...] = KM3D_SCALES, border: int = KM3D_BORDER,
    random_center: bool = True,
) -> tuple[tf.Tensor, tf.Tensor]:
    """KM3D's random crop: s = max(H, W) * choice(scales), c integers in [border, size - border)
    (the image centre when `random_center` is False: scale jitter only)."""
    seeds = tf.random.experimental.stateless_split(seed, 3)
    h, w = image_size[0], image_size[1]
    pick = tf.random.stateless_uniform([], seeds[0], 0, len(scales), dtype=tf.int32)
    s = tf.cast(tf.maximum(h, w), tf.float32) * tf.gather(tf.constant(scales, tf.float32), pick)
    bw, bh = km3d_border(border, w), km3d_border(border, h)
    cx = tf.random.stateless_uniform([], seeds[1], bw, tf.maximum(w - bw, bw + 1), dtype=tf.int32)
    cy = tf.random.stateless_uniform([], seeds[2], bh, tf.maximum(h - bh, bh + 1), dtype=tf.int32)
    if not random_center:
        return eval_center_scale(image_size)[0], s
    return tf.cast(tf.stack([cx, cy]), tf.float32), s


def eval_center_scale(image_size: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """c = (W / 2, H / 2), s = max(H, W) (KM3D / CenterNet test time)."""
    size = tf.cast(image_size, tf.float32)
    return tf.stack([size[1] / 2.0, size[0] / 2.0]), tf.maximum(size[0], size[1])


def mono3d_transform(
    example: dict[str, tf.Tensor],
    input_size: tuple[int, int] = KM3D_INPUT_SIZE,
    training: bool = False,
    seed: Any = None,
    flip_prob: float = 0.5,
    scales: tuple[float, ...] = KM3D_SCALES,
    border: int = KM3D_BORDER,
    color_jitter: float = 0.0,
    normalize: bool = True,
    random_center: bool = True,
) -> dict[str, tf.Tensor]:
    """One `kitti_dataset` example -> network input (module docstring). `seed`: None, int or [2] tensor."""
    input_size = (int(input_size[0]), int(input_size[1]))
    example = dict(example)
    image_size = tf.shape(example["image"])[:2]
    if training:
        seeds = tf.random.experimental.stateless_split(_seed(seed), 3)
        flipped = tf.random.stateless_uniform([], seeds[0]) < flip_prob
        mirrored = flip_example(example)
        example = {
            k: tf.cond(flipped, lambda k=k: mirrored[k], lambda k=k: example[k]) if k in FLIPPED_KEYS else v
            for k, v in example.items()
        }
        center, scale = random_center_scale(image_size, seeds[1], scales, border, random_center)
    else:
        flipped = tf.constant(False)
        center, scale = eval_center_scale(image_size)
    out = affine_example(example, center, scale, input_size)
    image = out["image"]
    if training and color_jitter > 0:
        image = _color_jitter(image, seeds[2], strength=color_jitter)
    out["image"] = normalize_image(image) if normalize else image
    out["image_size"] = tf.cast(image_size, tf.int32)
    out["flipped"] = flipped
    return out


def mono3d_dataset(
    dataset: tf.data.Dataset, training: bool, seed: int | None = None, **kwargs: Any
) -> tf.data.Dataset:
    """Maps `mono3d_transform` over a `kitti_dataset`; with a seed every training draw is reproducible
    (new draws on each pass, the same draws for the same seed in a freshly built pipeline)."""
    if training and seed is not None:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(
            2, drop_remainder=True
        )
        return tf.data.Dataset.zip(dataset, seeds).map(
            lambda ex, s: mono3d_transform(ex, training=True, seed=s, **kwargs),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    return dataset.map(
        lambda ex: mono3d_transform(ex, training=training, **kwargs),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
