"""Box-aware augmentation and fixed-size batching for detection, on tf tensors (tf.data only).

`augment` turns a raw example of `coco.coco_dataset` / `coco_tfrecord.tfrecord_dataset` into a fixed
[S, S, 3] float32 image (0-255) with boxes in that image's pixels:
- training: CornerNet/CPN style (spec "Schedule"): resize by a random scale, take an S x S window whose
  centre is drawn inside the scaled image (away from the border), pad outside with `pad_value`, clip
  boxes to the window and drop boxes that lost their area, random horizontal flip, colour jitter
  (brightness, contrast, saturation in random order) and PCA lighting noise;
- evaluation: resize so the longer side is S (aspect kept), image at the top-left, pad bottom/right.
Either way the result records how to map boxes back to the original image (`unmap_boxes`):
    box_out = box_in * (sx, sy, sx, sy) - (ox, oy, ox, oy), then x -> S - x if flipped,
with "scale" = (sx, sy) the exact per-axis resize factors (resized size / original size),
"offset" = (ox, oy) the window's top-left corner in the resized image, "flipped", "original_size" (H, W).
Randomness is stateless: the same `seed` gives the same output; `augment_dataset` derives one seed per
element from a dataset-level seed so that a seeded pipeline is reproducible.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

# ImageNet RGB PCA lighting (AlexNet; the eigen-decomposition used by fb.resnet.torch), 0-1 scale.
_EIGVAL = (0.2175, 0.0188, 0.0045)
_EIGVEC = ((-0.5675, 0.7192, 0.4009), (-0.5808, -0.0045, -0.8140), (-0.5836, -0.6948, 0.4203))
_GREY = (0.299, 0.587, 0.114)  # ITU-R 601 luma, as cv2's RGB->grey


def _seed(seed: Any) -> tf.Tensor:
    """None -> a fresh random seed (not reproducible); int -> [int, 0]; a [2] tensor as is."""
    if seed is None:
        return tf.random.uniform([2], 0, 2**31 - 1, dtype=tf.int64)
    if isinstance(seed, int):
        return tf.constant([seed, 0], tf.int64)
    return tf.cast(tf.reshape(seed, [2]), tf.int64)


def flip_horizontal(image: tf.Tensor, boxes: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Mirrors an [H, W, C] image and its (x1, y1, x2, y2) boxes: x -> W - x."""
    width = tf.cast(tf.shape(image)[1], boxes.dtype)
    x1, y1, x2, y2 = tf.unstack(boxes, 4, axis=-1)
    return image[:, ::-1], tf.stack([width - x2, y1, width - x1, y2], axis=-1)


def scale_and_crop(
    image: tf.Tensor,
    boxes: tf.Tensor,
    resized_size: tf.Tensor,
    offset: tf.Tensor,
    output_size: int,
    pad_value: float = 0.0,
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Resizes `image` to `resized_size` (h, w), takes the S x S window at integer `offset` (ox, oy).

    The window may extend past the resized image; that part is filled with `pad_value`. Returns
    (float32 [S, S, 3] image, boxes in window pixels NOT clipped, scale (sx, sy)).
    """
    size = tf.cast(tf.shape(image)[:2], tf.float32)
    resized_size = tf.cast(resized_size, tf.int32)
    nh, nw = resized_size[0], resized_size[1]
    resized = tf.image.resize(tf.cast(image, tf.float32), resized_size, method="bilinear")
    offset = tf.cast(offset, tf.int32)
    ox, oy = offset[0], offset[1]
    y0, y1 = tf.clip_by_value(oy, 0, nh), tf.clip_by_value(oy + output_size, 0, nh)
    x0, x1 = tf.clip_by_value(ox, 0, nw), tf.clip_by_value(ox + output_size, 0, nw)
    pad_top = tf.clip_by_value(y0 - oy, 0, output_size)
    pad_left = tf.clip_by_value(x0 - ox, 0, output_size)
    paddings = [
        [pad_top, output_size - pad_top - (y1 - y0)],
        [pad_left, output_size - pad_left - (x1 - x0)],
        [0, 0],
    ]
    out = tf.pad(resized[y0:y1, x0:x1], paddings, constant_values=pad_value)
    out = tf.ensure_shape(out, [output_size, output_size, 3])
    scale = tf.cast(tf.stack([nw, nh]), tf.float32) / tf.stack([size[1], size[0]])
    shift = tf.cast(tf.stack([ox, oy, ox, oy]), tf.float32)
    new_boxes = tf.cast(boxes, tf.float32) * tf.tile(scale, [2]) - shift
    return out, new_boxes, scale


def clip_boxes(
    boxes: tf.Tensor, output_size: int, min_area_fraction: float = 0.0
) -> tuple[tf.Tensor, tf.Tensor]:
    """Clips boxes to [0, S]; returns (clipped boxes, keep mask). A box is kept when its clipped width
    and height are > 0 and it keeps at least `min_area_fraction` of its unclipped area."""
    clipped = tf.clip_by_value(boxes, 0.0, float(output_size))
    w, h = clipped[:, 2] - clipped[:, 0], clipped[:, 3] - clipped[:, 1]
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep = (w > 0) & (h > 0) & (w * h >= min_area_fraction * area)
    return clipped, keep


def color_jitter(
    image: tf.Tensor, seed: tf.Tensor, strength: float = 0.4, lighting_std: float = 0.1
) -> tf.Tensor:
    """Brightness, contrast and saturation (factors 1 + U(-strength, strength), in a random order)
    then PCA lighting noise (N(0, lighting_std) on the eigenvalues); float32 0-255 in and out."""
    seeds = tf.random.experimental.stateless_split(seed, 5)
    grey_w = tf.constant(_GREY, tf.float32)

    def grey(x: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(x * grey_w, axis=-1, keepdims=True)

    def blend(x: tf.Tensor, other: tf.Tensor, alpha: tf.Tensor) -> tf.Tensor:
        return x * alpha + other * (1.0 - alpha)

    if strength > 0:
        alphas = 1.0 + tf.random.stateless_uniform([3], seeds[0], -strength, strength)
        order = tf.argsort(tf.random.stateless_uniform([3], seeds[1]))
        for step in range(3):
            image = tf.switch_case(
                order[step],
                [
                    lambda x=image: blend(x, tf.zeros_like(x), alphas[0]),  # brightness
                    lambda x=image: blend(x, tf.reduce_mean(grey(x)), alphas[1]),  # contrast
                    lambda x=image: blend(x, grey(x), alphas[2]),  # saturation
                ],
            )
    if lighting_std > 0:
        alpha = tf.random.stateless_normal([3], seeds[2], stddev=lighting_std)
        shift = tf.linalg.matvec(tf.constant(_EIGVEC), tf.constant(_EIGVAL) * alpha) * 255.0
        image = image + shift
    return tf.clip_by_value(image, 0.0, 255.0)


def _border(border: float, size: tf.Tensor) -> tf.Tensor:
    """CornerNet's rule: halve the crop border until it is below half the image side."""
    ratio = 2.0 * border / tf.maximum(size, 1.0)
    halvings = tf.where(ratio >= 1.0, tf.floor(tf.math.log(ratio) / tf.math.log(2.0)) + 1.0, 0.0)
    return border / tf.pow(2.0, halvings)


def _random_scale(scale_range: tuple[float, float], scale_step: float, seed: tf.Tensor) -> tf.Tensor:
    lo, hi = scale_range
    if scale_step > 0:
        count = int((hi - lo) / scale_step + 1e-6) + 1  # inclusive of both ends
        k = tf.random.stateless_uniform([], seed, 0, count, dtype=tf.int32)
        return lo + scale_step * tf.cast(k, tf.float32)
    return tf.random.stateless_uniform([], seed, lo, hi)


def augment(
    example: dict[str, tf.Tensor],
    output_size: int,
    training: bool,
    scale_range: tuple[float, float] = (0.6, 1.4),
    scale_step: float = 0.1,
    fit_to_output: bool = True,
    crop_border: float = 128.0,
    flip: bool = True,
    jitter: float = 0.4,
    lighting_std: float = 0.1,
    min_area_fraction: float = 0.0,
    pad_value: float = 0.0,
    seed: Any = None,
) -> dict[str, tf.Tensor]:
    """A raw example -> fixed-size example (see the module docstring).

    Args:
      example: dict with "image" [H, W, 3], "boxes" [N, 4] (x1, y1, x2, y2 pixels), "classes" [N],
        "is_crowd" [N]; other keys (image_id, ...) pass through.
      output_size: S, the side of the square output.
      training: random augmentation if True, else the deterministic fit-resize + pad.
      scale_range, scale_step: training resize factor drawn from lo, lo+step, ..., hi (both ends
        included; step 0 = continuous); the factor multiplies S / max(H, W) when `fit_to_output`,
        else the native resolution (CornerNet on COCO).
      crop_border: the window centre is drawn at least this far (CornerNet's halving rule for small
        images) from the resized image's edges, in output pixels.
      flip: random horizontal flip with probability 0.5 (training).
      jitter, lighting_std: colour jitter strength and PCA lighting std (training; 0 disables).
      min_area_fraction: boxes keeping less than this fraction of their area after clipping are
        dropped (boxes with zero clipped width or height always are).
      pad_value: value (0-255 scale) of pixels outside the image.
      seed: None, an int or a [2] int tensor (stateless); the same seed gives the same output.

    Returns:
      The example with "image" float32 [S, S, 3] (0-255), "boxes" float32 [M, 4] clipped to [0, S],
      "classes" and "is_crowd" [M] (same rows kept), plus "scale" float32 (sx, sy), "offset" float32
      (ox, oy), "flipped" bool, "original_size" int32 (H, W).
    """
    image = example["image"]
    original_size = tf.shape(image)[:2]
    size_f = tf.cast(original_size, tf.float32)
    longest = tf.reduce_max(size_f)
    if training:
        seeds = tf.random.experimental.stateless_split(_seed(seed), 5)
        factor = _random_scale(scale_range, scale_step, seeds[0])
        if fit_to_output:
            factor = factor * output_size / longest
        resized = tf.maximum(tf.round(size_f * factor), 1.0)
        border = _border(crop_border, resized)  # (by, bx)
        centre = border + tf.random.stateless_uniform([2], seeds[1]) * (resized - 2.0 * border)
        top_left = tf.cast(tf.floor(centre - output_size / 2.0), tf.int32)  # (oy, ox)
        offset = tf.reverse(top_left, [0])
    else:
        resized = tf.maximum(tf.round(size_f * (output_size / longest)), 1.0)
        offset = tf.zeros([2], tf.int32)
    out, boxes, scale = scale_and_crop(image, example["boxes"], resized, offset, output_size, pad_value)
    boxes, keep = clip_boxes(boxes, output_size, min_area_fraction)
    flipped = tf.constant(False)
    if training and flip:
        flipped = tf.random.stateless_uniform([], seeds[2]) < 0.5
        out, boxes = tf.cond(flipped, lambda: flip_horizontal(out, boxes), lambda: (out, boxes))
    if training and (jitter > 0 or lighting_std > 0):
        out = color_jitter(out, seeds[3], jitter, lighting_std)
    result = dict(example)
    result.update(
        image=tf.ensure_shape(out, [output_size, output_size, 3]),
        boxes=tf.boolean_mask(boxes, keep),
        classes=tf.boolean_mask(example["classes"], keep),
        is_crowd=tf.boolean_mask(example["is_crowd"], keep),
        scale=scale,
        offset=tf.cast(offset, tf.float32),
        flipped=flipped,
        original_size=tf.cast(original_size, tf.int32),
    )
    return result


def unmap_boxes(
    boxes: tf.Tensor,
    scale: tf.Tensor,
    offset: tf.Tensor,
    flipped: tf.Tensor | bool = False,
    output_size: int | None = None,
) -> tf.Tensor:
    """Output-image boxes [..., N, 4] -> original-image pixels, inverting `augment`.

    `scale`, `offset` ([..., 2]) and `flipped` ([...]) are the example's entries (batched alike);
    `output_size` is needed only when some example is flipped. Not clipped to the original image.
    """
    boxes = tf.convert_to_tensor(boxes, tf.float32)
    scale4 = tf.tile(tf.convert_to_tensor(scale, tf.float32), [1] * (len(boxes.shape) - 2) + [2])
    shift4 = tf.tile(tf.convert_to_tensor(offset, tf.float32), [1] * (len(boxes.shape) - 2) + [2])
    if output_size is not None:
        x1, y1, x2, y2 = tf.unstack(boxes, 4, axis=-1)
        mirrored = tf.stack([output_size - x2, y1, output_size - x1, y2], axis=-1)
        flip = tf.convert_to_tensor(flipped, tf.bool)[..., None, None]
        boxes = tf.where(flip, mirrored, boxes)
    return (boxes + shift4[..., None, :]) / scale4[..., None, :]


def pad_to_max(example: dict[str, tf.Tensor], max_boxes: int) -> dict[str, tf.Tensor]:
    """Fixed-size targets for batching: the first `max_boxes` rows, padded with zeros (boxes), -1
    (classes) and False (is_crowd); adds "num_boxes" int32 (kept rows) and "box_mask" float32 [max]
    (1 for real rows). Rows beyond `max_boxes` (crowd or not) are dropped."""
    n = tf.minimum(tf.shape(example["boxes"])[0], max_boxes)
    pad = max_boxes - n

    def fit(x: tf.Tensor, value: Any) -> tf.Tensor:
        rest = [[0, 0]] * (len(x.shape) - 1)
        x = tf.pad(x[:n], [[0, pad]] + rest, constant_values=value)
        return tf.ensure_shape(x, [max_boxes] + x.shape[1:].as_list())

    result = dict(example)
    result.update(
        boxes=fit(tf.cast(example["boxes"], tf.float32), 0.0),
        classes=fit(tf.cast(example["classes"], tf.int32), -1),
        is_crowd=fit(tf.cast(example["is_crowd"], tf.bool), False),
        num_boxes=n,
        box_mask=tf.sequence_mask(n, max_boxes, tf.float32),
    )
    return result


def augment_dataset(
    dataset: tf.data.Dataset, output_size: int, training: bool, seed: int | None = None, **kwargs: Any
) -> tf.data.Dataset:
    """Maps `augment` over a dataset of raw examples; with a `seed`, element i gets the i-th seed of
    a seeded random stream, so the whole pipeline (given a fixed element order) is reproducible."""
    if training and seed is not None:
        seeds = tf.data.Dataset.random(seed=seed).batch(2, drop_remainder=True)
        return tf.data.Dataset.zip(dataset, seeds).map(
            lambda ex, s: augment(ex, output_size, True, seed=s, **kwargs),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    return dataset.map(
        lambda ex: augment(ex, output_size, training, **kwargs),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
