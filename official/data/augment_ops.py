"""The 16 AutoAugment image ops (plus Identity) as TF ops, for tf.data on CPU.

Every op takes an (h, w, 3) image on the 0-255 scale (uint8 or float32) and returns float32 0-255, so the
ops compose on the float images of `image_preprocessing` without rounding in between. The ops mirror the
PIL functions that AutoAugment (Cubuk et al. 2019) and timm apply, and tests/official/data/test_autoaugment.py
checks each against PIL:
- ShearX/Y, TranslateX/Y, Rotate: `Image.transform(AFFINE, resample=NEAREST)` / `Image.rotate`, including
  PIL's pixel-centre convention (see `affine`), rotating about PIL's centre (w / 2, h / 2).
- AutoContrast, Invert, Equalize, Solarize, Posterize: `PIL.ImageOps` (Equalize uses PIL's lut exactly).
- Color, Contrast, Brightness, Sharpness: `PIL.ImageEnhance` (blend with a degenerate image, clipped);
  PIL rounds its degenerate image and truncates to uint8, we keep floats (differences below 2 levels).
Ops that need integer grey levels (Equalize, Posterize) round the float image first.

`OPS[name](image, magnitude, seed)` maps AutoAugment's magnitude 0..10 to the op's parameter with the
ranges of the AutoAugment paper (table in its appendix) as timm's "increasing" level functions write them,
so that magnitude 0 is the identity for every parametrised op:
shear 0.3 * m/10, rotate 30 deg * m/10, enhance factor 1 + 0.9 * m/10 (0.1..1.9), all with a random sign;
translate 0.45 * m/10 of the image side (AutoAugment's 150 px of 331 px; a fraction so it means the same at
32-224 px, as timm's translate_rel); Solarize threshold 256 * (1 - m/10); Posterize 8 - int(4 * m/10) bits;
Cutout a square of side 0.2 * m/10 of the shorter side; SamplePairing blend weight 0.4 * m/10.
Note: the original AutoAugment code maps Color/Contrast/Sharpness to 0.1 + 1.8 * m/10 without a sign and
Posterize to 4 - int(4 * m/10) bits; we follow the identity-at-0 convention (documented in autoaugment.py).
Pixels the affine ops uncover and the Cutout square are grey 128 (timm's and Model Garden's fill).
SamplePairing needs a second image; per image we blend with the image rotated by 180 degrees (the ImageNet
policy does not use it). Random choices (signs, Cutout centre) are stateless, from the `[2]` seed.
"""

from __future__ import annotations

import math

import tensorflow as tf

FILL = 128.0  # grey for pixels uncovered by affine ops and for Cutout (timm / Model Garden)
MAX_LEVEL = 10.0  # AutoAugment's magnitude scale 0..10
_LUMA = (0.299, 0.587, 0.114)  # ITU-R 601-2, as PIL's convert("L")


def split_seed(seed: tf.Tensor | None, count: int) -> list[tf.Tensor]:
    """`count` independent `[2]` int64 seeds from `seed`; None draws a fresh (unreproducible) one."""
    if seed is None:
        seed = tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int64)
    seeds = tf.random.experimental.stateless_split(tf.cast(tf.reshape(seed, [2]), tf.int64), count)
    return [seeds[i] for i in range(count)]


def _float(image: tf.Tensor) -> tf.Tensor:
    return tf.cast(image, tf.float32)


def _levels(image: tf.Tensor) -> tf.Tensor:
    """Integer grey levels 0..255 (int32) of a 0-255 image."""
    return tf.cast(tf.clip_by_value(tf.round(_float(image)), 0.0, 255.0), tf.int32)


def _grey(image: tf.Tensor) -> tf.Tensor:
    """(h, w, 1) luma, PIL's convert("L") weights without its rounding."""
    return tf.reduce_sum(_float(image) * tf.constant(_LUMA, tf.float32), axis=-1, keepdims=True)


def _blend(degenerate: tf.Tensor, image: tf.Tensor, factor) -> tf.Tensor:
    """PIL's Image.blend(degenerate, image, factor), the core of ImageEnhance; clipped to 0-255."""
    factor = tf.cast(factor, tf.float32)
    return tf.clip_by_value(degenerate + factor * (_float(image) - degenerate), 0.0, 255.0)


# ---- geometric ops ---------------------------------------------------------------------------------


def affine(image: tf.Tensor, coeffs, fill: float = FILL) -> tf.Tensor:
    """PIL's `Image.transform(size, AFFINE, (a, b, c, d, e, f), NEAREST, fillcolor=fill)`.

    Output pixel (x, y) reads input at (a x + b y + c, d x + e y + f). PIL evaluates that at pixel centres
    (x + 0.5, y + 0.5) and floors; ImageProjectiveTransformV3 evaluates at integer indices and rounds, so the
    same pixel is read when the offsets move by (a + b - 1) / 2 and (d + e - 1) / 2.
    """
    a, b, c, d, e, f = (tf.cast(v, tf.float32) for v in coeffs)
    transform = tf.stack([a, b, c + (a + b - 1.0) / 2.0, d, e, f + (d + e - 1.0) / 2.0, 0.0, 0.0])
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=_float(image)[None],
        transforms=transform[None],
        output_shape=tf.shape(image)[:2],
        fill_value=tf.constant(fill, tf.float32),
        interpolation="NEAREST",
        fill_mode="CONSTANT",
    )
    return out[0]


def shear_x(image: tf.Tensor, factor) -> tf.Tensor:
    """PIL/timm shear_x: input x = x + factor * y."""
    return affine(image, (1.0, factor, 0.0, 0.0, 1.0, 0.0))


def shear_y(image: tf.Tensor, factor) -> tf.Tensor:
    """PIL/timm shear_y: input y = factor * x + y."""
    return affine(image, (1.0, 0.0, 0.0, factor, 1.0, 0.0))


def translate_x(image: tf.Tensor, pixels) -> tf.Tensor:
    """PIL/timm translate_x_abs: input x = x + pixels (content moves left for positive pixels)."""
    return affine(image, (1.0, 0.0, pixels, 0.0, 1.0, 0.0))


def translate_y(image: tf.Tensor, pixels) -> tf.Tensor:
    """PIL/timm translate_y_abs: input y = y + pixels (content moves up for positive pixels)."""
    return affine(image, (1.0, 0.0, 0.0, 0.0, 1.0, pixels))


def rotate(image: tf.Tensor, degrees) -> tf.Tensor:
    """PIL's `Image.rotate(degrees, NEAREST, fillcolor=FILL)`: counter-clockwise about (w / 2, h / 2)."""
    shape = tf.shape(image)
    cx = tf.cast(shape[1], tf.float32) / 2.0
    cy = tf.cast(shape[0], tf.float32) / 2.0
    theta = -tf.cast(degrees, tf.float32) * (math.pi / 180.0)
    a, b = tf.cos(theta), tf.sin(theta)
    d, e = -tf.sin(theta), tf.cos(theta)
    c = a * -cx + b * -cy + cx
    f = d * -cx + e * -cy + cy
    return affine(image, (a, b, c, d, e, f))


# ---- colour ops ------------------------------------------------------------------------------------


def invert(image: tf.Tensor) -> tf.Tensor:
    """PIL ImageOps.invert: 255 - x."""
    return 255.0 - _float(image)


def auto_contrast(image: tf.Tensor) -> tf.Tensor:
    """PIL ImageOps.autocontrast (cutoff 0): each channel's min..max stretched to 0..255; flat channels kept."""
    x = _float(image)
    lo = tf.reduce_min(x, axis=[0, 1])
    hi = tf.reduce_max(x, axis=[0, 1])
    stretched = (x - lo) * (255.0 / tf.maximum(hi - lo, 1e-6))
    return tf.where(hi > lo, tf.clip_by_value(stretched, 0.0, 255.0), x)


def _equalize_channel(x: tf.Tensor, levels: tf.Tensor) -> tf.Tensor:
    """PIL ImageOps.equalize for one channel: lut[i] = (step // 2 + #pixels below i) // step.

    step = (#pixels - #pixels at the top level) // 255, as Pillow 13 (older Pillow and Model Garden use 256).
    """
    hist = tf.math.bincount(levels, minlength=256, maxlength=256, dtype=tf.int32)
    last = tf.gather(hist, tf.reduce_max(levels))  # count of the highest level present
    step = (tf.reduce_sum(hist) - last) // 255
    below = tf.cumsum(hist, exclusive=True)
    lut = tf.minimum((step // 2 + below) // tf.maximum(step, 1), 255)
    return tf.where(step > 0, tf.cast(tf.gather(lut, levels), tf.float32), x)


def equalize(image: tf.Tensor) -> tf.Tensor:
    """PIL ImageOps.equalize per channel on the rounded grey levels (a single-level channel is kept)."""
    x, levels = _float(image), _levels(image)
    return tf.stack([_equalize_channel(x[..., i], levels[..., i]) for i in range(3)], axis=-1)


def solarize(image: tf.Tensor, threshold) -> tf.Tensor:
    """PIL ImageOps.solarize: levels >= threshold become 255 - x (threshold 256 is the identity)."""
    x = _float(image)
    return tf.where(x < tf.cast(threshold, tf.float32), x, 255.0 - x)


def posterize(image: tf.Tensor, bits) -> tf.Tensor:
    """PIL ImageOps.posterize: keep the `bits` most significant bits of each level (8 bits: unchanged)."""
    bits = tf.cast(bits, tf.int32)
    step = tf.cast(tf.bitwise.left_shift(1, 8 - bits), tf.float32)  # 2 ** (8 - bits)
    kept = tf.floor(tf.cast(_levels(image), tf.float32) / step) * step
    return tf.where(bits >= 8, _float(image), kept)


def color(image: tf.Tensor, factor) -> tf.Tensor:
    """PIL ImageEnhance.Color: blend with the greyscale image (0: grey, 1: unchanged)."""
    return _blend(_grey(image), image, factor)


def contrast(image: tf.Tensor, factor) -> tf.Tensor:
    """PIL ImageEnhance.Contrast: blend with a flat image at the rounded mean grey level."""
    mean = tf.floor(tf.reduce_mean(_grey(image)) + 0.5)
    return _blend(mean, image, factor)


def brightness(image: tf.Tensor, factor) -> tf.Tensor:
    """PIL ImageEnhance.Brightness: blend with black, i.e. factor * x clipped."""
    return _blend(tf.zeros([], tf.float32), image, factor)


def sharpness(image: tf.Tensor, factor) -> tf.Tensor:
    """PIL ImageEnhance.Sharpness: blend with ImageFilter.SMOOTH ([[1,1,1],[1,5,1],[1,1,1]] / 13).

    PIL's 3x3 filter leaves the one-pixel border unchanged, so the border is kept here too.
    """
    x = _float(image)
    kernel = tf.constant([[1, 1, 1], [1, 5, 1], [1, 1, 1]], tf.float32) / 13.0
    kernel = tf.tile(kernel[:, :, None, None], [1, 1, 3, 1])
    smooth = tf.nn.depthwise_conv2d(x[None], kernel, [1, 1, 1, 1], "VALID")[0]
    smooth = tf.pad(smooth, [[1, 1], [1, 1], [0, 0]])
    interior = tf.pad(tf.ones_like(smooth[1:-1, 1:-1]), [[1, 1], [1, 1], [0, 0]])
    degenerate = tf.where(interior > 0, smooth, x)
    return _blend(degenerate, x, factor)


def cutout(image: tf.Tensor, size, seed: tf.Tensor) -> tf.Tensor:
    """A `size` x `size` square of grey FILL at a uniform random centre, clipped at the borders."""
    x = _float(image)
    shape = tf.shape(x)
    cy_seed, cx_seed = split_seed(seed, 2)
    cy = tf.random.stateless_uniform([], cy_seed, 0, shape[0], dtype=tf.int32)
    cx = tf.random.stateless_uniform([], cx_seed, 0, shape[1], dtype=tf.int32)
    size = tf.cast(size, tf.int32)
    top, left = cy - size // 2, cx - size // 2
    rows = tf.range(shape[0])[:, None, None]
    cols = tf.range(shape[1])[None, :, None]
    inside = (rows >= top) & (rows < top + size) & (cols >= left) & (cols < left + size)
    return tf.where(inside, FILL, x)


def sample_pairing(image: tf.Tensor, weight) -> tf.Tensor:
    """SamplePairing without a second image: blend with the image rotated by 180 degrees."""
    x = _float(image)
    weight = tf.cast(weight, tf.float32)
    return (1.0 - weight) * x + weight * tf.reverse(x, axis=[0, 1])


# ---- magnitude (0..10) -> parameter, and the op table -----------------------------------------------


def _fraction(magnitude) -> tf.Tensor:
    return tf.clip_by_value(tf.cast(magnitude, tf.float32), 0.0, MAX_LEVEL) / MAX_LEVEL


def _signed(value: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """value with its sign flipped with probability 0.5."""
    flip = tf.random.stateless_uniform([], seed) < 0.5
    return tf.where(flip, -value, value)


def _side(image: tf.Tensor, axis: int) -> tf.Tensor:
    return tf.cast(tf.shape(image)[axis], tf.float32)


OPS = {
    "Identity": lambda image, m, seed: _float(image),
    "ShearX": lambda image, m, seed: shear_x(image, _signed(0.3 * _fraction(m), seed)),
    "ShearY": lambda image, m, seed: shear_y(image, _signed(0.3 * _fraction(m), seed)),
    "TranslateX": lambda image, m, seed: translate_x(image, _signed(0.45 * _fraction(m) * _side(image, 1), seed)),
    "TranslateY": lambda image, m, seed: translate_y(image, _signed(0.45 * _fraction(m) * _side(image, 0), seed)),
    "Rotate": lambda image, m, seed: rotate(image, _signed(30.0 * _fraction(m), seed)),
    "AutoContrast": lambda image, m, seed: auto_contrast(image),
    "Invert": lambda image, m, seed: invert(image),
    "Equalize": lambda image, m, seed: equalize(image),
    "Solarize": lambda image, m, seed: solarize(image, 256.0 * (1.0 - _fraction(m))),
    "Posterize": lambda image, m, seed: posterize(image, 8 - tf.cast(tf.floor(4.0 * _fraction(m)), tf.int32)),
    "Contrast": lambda image, m, seed: contrast(image, 1.0 + _signed(0.9 * _fraction(m), seed)),
    "Color": lambda image, m, seed: color(image, 1.0 + _signed(0.9 * _fraction(m), seed)),
    "Brightness": lambda image, m, seed: brightness(image, 1.0 + _signed(0.9 * _fraction(m), seed)),
    "Sharpness": lambda image, m, seed: sharpness(image, 1.0 + _signed(0.9 * _fraction(m), seed)),
    "Cutout": lambda image, m, seed: cutout(
        image, tf.round(0.2 * _fraction(m) * tf.minimum(_side(image, 0), _side(image, 1))), seed
    ),
    "SamplePairing": lambda image, m, seed: sample_pairing(image, 0.4 * _fraction(m)),
}
"""name -> fn(image, magnitude 0..10, `[2]` seed) -> float32 0-255 image."""
