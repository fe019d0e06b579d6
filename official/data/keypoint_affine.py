"""The top-down person crop: box -> (center, scale) -> 2x3 affine -> warped crop, in numpy and in TF.

Conventions (RSN `lib/utils/transforms.py` get_affine_transform / affine_transform, the same as HRNet):
- pixel centres sit at integer coordinates (cv2.warpAffine's convention, and ImageProjectiveTransform's);
- `center` (x, y) and `scale` (w, h) describe the source region in PIXELS (RSN/HRNet store scale / 200;
  multiply their scale by `keypoint_constants.PIXEL_STD` to get ours);
- `output_size` is (height, width), like RSN's INPUT_SHAPE;
- the affine maps `center` to (W/2, H/2) of the crop (not (W-1)/2) and the source width scale[0] to W
  pixels, rotated by `rotation` degrees. RSN builds it from three point pairs (centre, centre + the
  rotated up vector, a third point perpendicular to both) and cv2.getAffineTransform; three pairs of a
  similarity give the closed form used here:
      M = (W / scale_w) * [[cos r, sin r], [-sin r, cos r]],   t = (W/2, H/2) - M @ center.
  Only scale[0] sets the zoom: callers first make scale match the crop's aspect ratio
  (`fit_aspect_ratio`), as RSN does, so the height fits as well.

The TF functions run in graph mode inside tf.data: `warp_affine` is ImageProjectiveTransformV3 with
bilinear sampling and zero fill (cv2.warpAffine's INTER_LINEAR / BORDER_CONSTANT 0 without its 1/32-pixel
fixed-point rounding).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

# ----------------------------------------------------------------------------------------------------
# numpy


def fit_aspect_ratio(scale: Any, aspect_ratio: float) -> np.ndarray:
    """Grows the short side of (w, h) [..., 2] so that w / h == aspect_ratio (RSN JointsDataset)."""
    scale = np.array(scale, np.float64)
    w, h = scale[..., 0], scale[..., 1]
    wide = w > aspect_ratio * h
    return np.stack([np.where(wide, w, h * aspect_ratio), np.where(wide, w / aspect_ratio, h)], axis=-1)


def box_to_center_scale(
    bbox: Any, aspect_ratio: float, extension: tuple[float, float] = (1.0, 1.0)
) -> tuple[np.ndarray, np.ndarray]:
    """(x, y, w, h) [..., 4] -> center [..., 2], scale [..., 2] (pixels): centre x + w/2, y + h/2; size
    (w, h) times `extension` (x, y), then fitted to `aspect_ratio` (width / height)."""
    bbox = np.asarray(bbox, np.float64)
    center = bbox[..., :2] + bbox[..., 2:] / 2.0
    scale = bbox[..., 2:] * np.asarray(extension, np.float64)
    return center, fit_aspect_ratio(scale, aspect_ratio)


def crop_affine(center: Any, scale: Any, rotation: float, output_size: tuple[int, int]) -> np.ndarray:
    """The 2x3 float64 matrix mapping source pixels to crop pixels (see the module docstring)."""
    cx, cy = (float(v) for v in np.asarray(center, np.float64).reshape(2))
    src_w = float(np.asarray(scale, np.float64).reshape(-1)[0])
    out_h, out_w = output_size
    r = np.deg2rad(float(rotation))
    k = out_w / src_w
    a, b = k * np.cos(r), k * np.sin(r)
    return np.array(
        [[a, b, out_w / 2.0 - a * cx - b * cy], [-b, a, out_h / 2.0 + b * cx - a * cy]], np.float64
    )


def invert_affine(matrix: Any) -> np.ndarray:
    """Inverse of a 2x3 affine (crop -> source)."""
    m = np.asarray(matrix, np.float64)
    lin_inv = np.linalg.inv(m[:, :2])
    return np.concatenate([lin_inv, -lin_inv @ m[:, 2:]], axis=1)


def apply_affine(points: Any, matrix: Any) -> np.ndarray:
    """Maps (x, y) points [..., 2] through a 2x3 affine."""
    pts = np.asarray(points, np.float64)
    m = np.asarray(matrix, np.float64)
    return pts @ m[:, :2].T + m[:, 2]


# ----------------------------------------------------------------------------------------------------
# TensorFlow (graph-safe; float32)


def fit_aspect_ratio_tf(scale: tf.Tensor, aspect_ratio: float) -> tf.Tensor:
    """TF twin of `fit_aspect_ratio` for (w, h) [..., 2]."""
    scale = tf.cast(scale, tf.float32)
    w, h = scale[..., 0], scale[..., 1]
    wide = w > aspect_ratio * h
    return tf.stack([tf.where(wide, w, h * aspect_ratio), tf.where(wide, w / aspect_ratio, h)], axis=-1)


def crop_affine_tf(
    center: tf.Tensor, scale: tf.Tensor, rotation: tf.Tensor | float, output_size: tuple[int, int]
) -> tf.Tensor:
    """TF twin of `crop_affine`: float32 [2, 3] (computed in float64, where pixel offsets of a few
    hundred keep their sub-1e-4 precision)."""
    center = tf.cast(tf.reshape(center, [2]), tf.float64)
    src_w = tf.cast(tf.reshape(scale, [-1])[0], tf.float64)
    out_h, out_w = float(output_size[0]), float(output_size[1])
    r = tf.cast(rotation, tf.float64) * (np.pi / 180.0)
    k = out_w / src_w
    a, b = k * tf.cos(r), k * tf.sin(r)
    cx, cy = center[0], center[1]
    m = tf.stack(
        [
            tf.stack([a, b, out_w / 2.0 - a * cx - b * cy]),
            tf.stack([-b, a, out_h / 2.0 + b * cx - a * cy]),
        ]
    )
    return tf.cast(m, tf.float32)


def invert_affine_tf(matrix: tf.Tensor) -> tf.Tensor:
    """TF twin of `invert_affine` for one [2, 3] matrix (closed-form 2x2 inverse, float64 inside)."""
    m = tf.cast(matrix, tf.float64)
    a, b, c, d = m[0, 0], m[0, 1], m[1, 0], m[1, 1]
    det = a * d - b * c
    lin = tf.stack([tf.stack([d, -b]), tf.stack([-c, a])]) / det
    t = -tf.linalg.matvec(lin, m[:, 2])
    return tf.cast(tf.concat([lin, t[:, None]], axis=1), tf.float32)


def apply_affine_tf(points: tf.Tensor, matrix: tf.Tensor) -> tf.Tensor:
    """Maps (x, y) points [..., 2] through a [2, 3] affine; float32."""
    pts = tf.cast(points, tf.float32)
    m = tf.cast(matrix, tf.float32)
    return tf.tensordot(pts, m[:, :2], [[-1], [1]]) + m[:, 2]


def warp_affine(
    image: tf.Tensor, matrix: tf.Tensor, output_size: tuple[int, int], fill_value: float = 0.0
) -> tf.Tensor:
    """Crop [H, W, C] through the source->crop affine `matrix`: float32 [out_h, out_w, C], bilinear,
    `fill_value` outside the image (like cv2.warpAffine(image, matrix, (out_w, out_h), INTER_LINEAR))."""
    inv = invert_affine_tf(matrix)  # ImageProjectiveTransform maps OUTPUT pixels to input pixels
    transform = tf.concat([tf.reshape(inv, [6]), tf.zeros([2], tf.float32)], axis=0)[None]
    images = tf.cast(image, tf.float32)[None]
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transform,
        output_shape=tf.constant(output_size, tf.int32),
        fill_value=tf.constant(fill_value, tf.float32),
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )[0]
    return tf.ensure_shape(out, [output_size[0], output_size[1], image.shape[-1]])
