"""Top-down keypoint decoding: heatmaps (batch, h, w, K) -> image keypoints (batch, K, 2) and scores.

RSN's test-time rule (`exps/*/test.py` get_results and compute_on_dataset, `lib/utils/transforms.py`
flip_back), step by step:

1. Flip test: the heatmaps of the mirrored crop are mirrored back along the width and each left/right
   pair of channels is swapped (`flip_heatmaps`), then averaged with the plain heatmaps. RSN does NOT
   shift the flipped heatmaps by one pixel (HRNet's `shift_heatmap` option); we follow RSN.
2. Each channel is zero-padded by `border` = 10 pixels on every side and blurred with
   cv2.GaussianBlur(ksize, sigma 0) (COCO ksize 5, MPII 9: `dataset/attribute.py` TEST.GAUSSIAN_KERNEL).
   cv2's default border is BORDER_REFLECT_101 (`gaussian_blur`); with the zero frame wider than the
   kernel radius this equals zero padding of the heatmap. The blur spills up to a radius outside the
   heatmap, and the argmax below runs over the whole padded map, as in RSN.
3. Peak: (x, y) = the first maximum in row-major order (np.argmax); that pixel is set to 0 and the
   next maximum (px, py) taken anywhere in the padded map (normally a neighbour). The peak moves
   `shift` = 0.25 px along the unit vector towards it: x += 0.25 (px - x) / L, y += 0.25 (py - y) / L
   with L = sqrt((px - x)^2 + (py - y)^2) (no move when L <= 1e-3), so a diagonal second peak moves
   0.25 / sqrt(2) in x and y. Then x is clamped to [0, w - 1] and y to [0, h - 1] (heatmap pixels).
4. Score: the UNBLURRED heatmap at (round(y), round(x)) mapped by value / 255 + 0.5 (RSN's targets peak
   at 255: `dataset/JointsDataset.py` generate_heatmap); `score_scale` / `score_offset` change that.
5. Heatmap -> crop: x_crop = stride * x + stride / 2 (RSN: x * 4 + 2).
6. Crop -> image (no rotation, as at test time):
       x_img = x_crop / input_w * scale_w + center_x - scale_w / 2, likewise y with input_h, scale_h.
   `scale` is the source region's (w, h) in PIXELS (RSN's `scale * 200`). This is the inverse of the
   standard crop affine (get_affine_transform: center -> (input_w / 2, input_h / 2), scale_w -> input_w
   pixels) whenever scale_w / scale_h = input_w / input_h, which the crop's aspect-ratio fit ensures.

Only keras.ops (runs under TensorFlow graphs and JAX); argmax ties resolve to the first index on
every backend (np.argmax's rule) because it is computed as min(index where value == max).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from keras import ops

# cv2.getGaussianKernel uses these fixed kernels for ksize <= 7 when sigma <= 0 (its smallGaussianTab).
_CV2_SMALL_KERNELS = {
    1: (1.0,),
    3: (0.25, 0.5, 0.25),
    5: (0.0625, 0.25, 0.375, 0.25, 0.0625),
    7: (0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125),
}


def gaussian_kernel_1d(kernel_size: int, sigma: float = 0.0) -> tuple[float, ...]:
    """cv2.getGaussianKernel(kernel_size, sigma) as Python floats (sums to 1).

    sigma <= 0 means cv2's default sigma = 0.3 ((kernel_size - 1) / 2 - 1) + 0.8, except that for odd
    sizes up to 7 cv2 uses fixed binomial kernels (5 -> [1, 4, 6, 4, 1] / 16). This is OpenCV <= 4, the
    library RSN ran with; OpenCV 5 also tabulates a binomial kernel for size 9 ([4, 13, 30, 51, 60, ...]
    / 256) where 4.x computes sigma 1.7, which would change MPII's kernel-9 decoding slightly.
    """
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be a positive odd integer, got {kernel_size}")
    if sigma <= 0 and kernel_size in _CV2_SMALL_KERNELS:
        return _CV2_SMALL_KERNELS[kernel_size]
    if sigma <= 0:
        sigma = 0.3 * ((kernel_size - 1) * 0.5 - 1) + 0.8
    r = kernel_size // 2
    w = [math.exp(-((i - r) ** 2) / (2.0 * sigma * sigma)) for i in range(kernel_size)]
    total = sum(w)
    return tuple(v / total for v in w)


def _taps(x, weights: Sequence[float], axis: int):
    """Valid 1-D correlation of x with `weights` along axis 1 or 2 (shrinks that axis by len - 1)."""
    n = len(weights)
    out = None
    for i, w in enumerate(weights):
        end = i - (n - 1) or None
        part = x[:, i:end] if axis == 1 else x[:, :, i:end]
        out = part * w if out is None else out + part * w
    return out


def gaussian_blur(heatmaps, kernel_size: int = 5, sigma: float = 0.0):
    """cv2.GaussianBlur(map, (k, k), sigma) per channel, cv2's default border BORDER_REFLECT_101.

    Args:
      heatmaps: (batch, height, width, K); height and width must exceed kernel_size // 2.
    Returns:
      (batch, height, width, K), separable (rows then columns), in the input's float dtype.
    """
    weights = gaussian_kernel_1d(kernel_size, sigma)
    r = kernel_size // 2
    if r == 0:
        return heatmaps
    # numpy / tf "reflect" = reflection without repeating the edge = cv2's BORDER_REFLECT_101.
    padded = ops.pad(heatmaps, [[0, 0], [r, r], [r, r], [0, 0]], mode="reflect")
    return _taps(_taps(padded, weights, axis=1), weights, axis=2)


def flip_heatmaps(heatmaps, flip_pairs: Sequence[Sequence[int]]):
    """Heatmaps of the horizontally flipped crop -> heatmaps in the original crop's frame.

    Mirrors the width axis and swaps each (left, right) pair of channels (RSN `flip_back`; no one-pixel
    shift). heatmaps: (batch, height, width, K).
    """
    k = heatmaps.shape[-1]
    if k is None:
        raise ValueError("flip_heatmaps needs a static number of channels")
    perm = list(range(k))
    for a, b in flip_pairs:
        perm[a], perm[b] = b, a
    mirrored = ops.flip(heatmaps, axis=2)
    return ops.take(mirrored, ops.convert_to_tensor(perm, "int32"), axis=3)


def _first_argmax(flat):
    """Index of the first maximum along the last axis (np.argmax's tie rule on every backend)."""
    n = ops.shape(flat)[-1]
    top = ops.max(flat, axis=-1, keepdims=True)
    positions = ops.cast(ops.arange(n), "int32")
    return ops.min(ops.where(flat == top, positions, n), axis=-1)


def decode_peaks(
    heatmaps,
    kernel_size: int = 5,
    shift: float = 0.25,
    border: int = 10,
    score_scale: float = 1.0 / 255.0,
    score_offset: float = 0.5,
):
    """RSN's sub-pixel peaks in heatmap pixels (steps 2-4 of the module docstring).

    Args:
      heatmaps: (batch, h, w, K) raw network output (flip-averaged if flip test is used).
      kernel_size: cv2.GaussianBlur size (RSN: COCO 5, MPII 9); 1 = no blur.
      shift: step towards the second maximum, in heatmap pixels.
      border: zero frame added before the blur (RSN: 10).
      score_scale, score_offset: score = heatmap * score_scale + score_offset at the rounded peak.
    Returns:
      coords (batch, K, 2) float32 (x, y) heatmap pixels, scores (batch, K) float32.
    """
    x = ops.cast(heatmaps, "float32")
    shape = ops.shape(x)
    h, w = shape[1], shape[2]
    padded = ops.pad(x, [[0, 0], [border, border], [border, border], [0, 0]])
    blurred = gaussian_blur(padded, kernel_size)
    wp = w + 2 * border
    flat = ops.reshape(ops.transpose(blurred, (0, 3, 1, 2)), (shape[0], shape[3], -1))  # (B, K, hp*wp)
    first = _first_argmax(flat)
    positions = ops.cast(ops.arange(ops.shape(flat)[-1]), "int32")
    flat = ops.where(positions == first[..., None], 0.0, flat)
    second = _first_argmax(flat)
    x1 = ops.cast(first % wp, "float32")
    y1 = ops.cast(first // wp, "float32")
    dx = ops.cast(second % wp, "float32") - x1
    dy = ops.cast(second // wp, "float32") - y1
    length = ops.sqrt(dx * dx + dy * dy)
    moves = length > 1e-3
    safe = ops.where(moves, length, 1.0)
    px = x1 - border + ops.where(moves, shift * dx / safe, 0.0)
    py = y1 - border + ops.where(moves, shift * dy / safe, 0.0)
    px = ops.clip(px, 0.0, ops.cast(w - 1, "float32"))
    py = ops.clip(py, 0.0, ops.cast(h - 1, "float32"))
    # round half to even like Python's round() on numpy floats; clamped, so always a valid pixel
    index = ops.cast(ops.round(py), "int32") * w + ops.cast(ops.round(px), "int32")
    raw = ops.reshape(ops.transpose(x, (0, 3, 1, 2)), (shape[0], shape[3], -1))
    peak = ops.squeeze(ops.take_along_axis(raw, index[..., None], axis=-1), axis=-1)
    scores = peak * score_scale + score_offset
    return ops.stack([px, py], axis=-1), scores


def heatmap_to_image(coords, center, scale, input_size: Sequence[int], stride: int = 4):
    """Heatmap pixels -> image pixels through the crop (steps 5-6 of the module docstring).

    Args:
      coords: (batch, K, 2) (x, y) in heatmap pixels.
      center: (batch, 2) crop centre (x, y) in image pixels.
      scale: (batch, 2) source region (w, h) in image PIXELS (RSN's scale * 200).
      input_size: crop (height, width) in pixels, e.g. (256, 192).
      stride: crop pixels per heatmap pixel.
    Returns:
      (batch, K, 2) float32 image coordinates (pixel centres at integers).
    """
    coords = ops.cast(coords, "float32")
    center = ops.cast(center, "float32")[:, None, :]
    scale = ops.cast(scale, "float32")[:, None, :]
    crop = coords * float(stride) + stride / 2.0
    size = ops.convert_to_tensor([float(input_size[1]), float(input_size[0])], "float32")  # (w, h)
    return crop / size * scale + center - scale * 0.5


def decode_heatmaps(
    heatmaps,
    center,
    scale,
    flipped_heatmaps=None,
    flip_pairs: Sequence[Sequence[int]] | None = None,
    input_size: Sequence[int] | None = None,
    stride: int = 4,
    kernel_size: int = 5,
    shift: float = 0.25,
    border: int = 10,
    score_scale: float = 1.0 / 255.0,
    score_offset: float = 0.5,
):
    """RSN's whole test-time decoding (module docstring steps 1-6).

    Args:
      heatmaps: (batch, h, w, K) of the crop.
      center, scale: (batch, 2) crop centre and region size (w, h) in image pixels.
      flipped_heatmaps: optional (batch, h, w, K) of the mirrored crop; averaged in after
        `flip_heatmaps` (needs `flip_pairs`).
      input_size: crop (height, width); default (stride * h, stride * w).
      Other arguments: see `decode_peaks` and `heatmap_to_image`.
    Returns:
      keypoints (batch, K, 2) image (x, y), scores (batch, K).
    """
    if flipped_heatmaps is not None:
        if flip_pairs is None:
            raise ValueError("flipped_heatmaps needs flip_pairs")
        heatmaps = (
            ops.cast(heatmaps, "float32") + flip_heatmaps(ops.cast(flipped_heatmaps, "float32"), flip_pairs)
        ) * 0.5
    if input_size is None:
        h, w = heatmaps.shape[1], heatmaps.shape[2]
        if h is None or w is None:
            raise ValueError("input_size is required when the heatmap size is not static")
        input_size = (stride * h, stride * w)
    coords, scores = decode_peaks(heatmaps, kernel_size, shift, border, score_scale, score_offset)
    return heatmap_to_image(coords, center, scale, input_size, stride), scores
