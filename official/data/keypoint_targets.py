"""RSN's multi-kernel Gaussian heatmap targets and per-keypoint validity, as TF ops for tf.data.

How RSN renders a target (`dataset/JointsDataset.py` generate_heatmap): for each keypoint with valid >= 1
it maps the crop coordinate to the heatmap grid (x * W_out / W_in, truncated with int()), sets that
pixel to 1 in an all-zero float32 map, applies cv2.GaussianBlur(map, (k, k), 0) and divides by
max / 255, so every rendered keypoint peaks at 255 and the MSE loss (`lib/utils/loss.py`) works on that
0-255 scale (test.py decodes with score = heatmap / 255 + 0.5). Keypoints with valid < 1 get an all-zero
map. One map set per kernel size in `DATASET.TRAIN.GAUSSIAN_KERNELS` = (15, 11, 9, 7, 5), coarse to fine.

Why this is exact without cv2: blurring a one-pixel impulse with a separable kernel gives the outer
product of two 1-D responses, and each 1-D response is a column of a fixed [n, n] matrix (the kernel
with cv2's default BORDER_REFLECT_101 folding near the edges). So a target is two gathers and an outer
product, with the kernel equal to cv2.getGaussianKernel(k, 0) (its fixed tables for k <= 9, the
sigma = 0.3 * ((k - 1) / 2 - 1) + 0.8 formula above).
"""

from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf

from official.core.errors import BadValueError

RSN_KERNELS = (15, 11, 9, 7, 5)  # RSN attribute.py TRAIN.GAUSSIAN_KERNELS (coarse to fine)
RSN_HEATMAP_PEAK = 255.0  # generate_heatmap: heatmaps[i] /= maxi / 255

# cv2's bit-exact small kernels for sigma <= 0 (imgproc smooth: getGaussianKernelBitExact), k = 1..9.
_SMALL_KERNELS = {
    1: (1.0,),
    3: (0.25, 0.5, 0.25),
    5: (0.0625, 0.25, 0.375, 0.25, 0.0625),
    7: (0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125),
    9: tuple(v / 256.0 for v in (4, 13, 30, 51, 60, 51, 30, 13, 4)),
}


def gaussian_kernel_1d(ksize: int) -> np.ndarray:
    """cv2.getGaussianKernel(ksize, 0) as float32 [ksize] (what GaussianBlur uses on float32 maps)."""
    if ksize <= 0 or ksize % 2 == 0:
        raise BadValueError(f"ksize: a Gaussian kernel size must be odd and positive, got {ksize}")
    if ksize in _SMALL_KERNELS:
        return np.asarray(_SMALL_KERNELS[ksize], np.float32)
    sigma = 0.3 * ((ksize - 1) * 0.5 - 1.0) + 0.8
    x = np.arange(ksize, dtype=np.float64) - (ksize - 1) / 2.0
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return (g / g.sum()).astype(np.float32)


def _reflect101(i: int, n: int) -> int:
    """cv2.borderInterpolate(i, n, BORDER_REFLECT_101): ... 2 1 | 0 1 2 ... n-1 | n-2 ..."""
    if n == 1:
        return 0
    while i < 0 or i >= n:
        i = -i if i < 0 else 2 * (n - 1) - i
    return i


@functools.lru_cache(maxsize=64)
@tf.autograph.experimental.do_not_convert  # numpy loops: autograph would turn them into slow traced code
def blur_matrix(size: int, ksize: int) -> np.ndarray:
    """float32 [size, size]: column p is the 1-D Gaussian blur (reflect-101 border) of an impulse at p.
    Cached and read-only (tf.data traces the renderer once per pipeline)."""
    g = gaussian_kernel_1d(ksize).astype(np.float64)
    r = ksize // 2
    m = np.zeros((size, size), np.float64)
    for y in range(size):
        for k in range(ksize):
            m[y, _reflect101(y + k - r, size)] += g[k]
    m = m.astype(np.float32)
    m.setflags(write=False)
    return m


def crop_validity(keypoints: tf.Tensor, input_size: tuple[int, int]) -> tf.Tensor:
    """v [K] after cropping: a labeled keypoint (v > 0) whose crop coordinate lies outside
    [0, W-1] x [0, H-1] becomes 0 (RSN JointsDataset); others keep their v (0, 1 or 2)."""
    kp = tf.cast(keypoints, tf.float32)
    x, y, v = kp[:, 0], kp[:, 1], kp[:, 2]
    inside = (x >= 0) & (x <= input_size[1] - 1) & (y >= 0) & (y <= input_size[0] - 1)
    return tf.where((v > 0) & inside, v, tf.zeros_like(v))


def heatmap_indices(
    keypoints: tf.Tensor, input_size: tuple[int, int], heatmap_size: tuple[int, int]
) -> tuple[tf.Tensor, tf.Tensor]:
    """(iy, ix) int32 [K]: the heatmap pixel RSN lights for each crop keypoint (int() truncation,
    clipped to the grid so that invalid keypoints still index safely)."""
    kp = tf.cast(keypoints, tf.float32)
    ty = kp[:, 1] * (heatmap_size[0] / input_size[0])
    tx = kp[:, 0] * (heatmap_size[1] / input_size[1])
    iy = tf.clip_by_value(tf.cast(ty, tf.int32), 0, heatmap_size[0] - 1)  # cast truncates like int()
    ix = tf.clip_by_value(tf.cast(tx, tf.int32), 0, heatmap_size[1] - 1)
    return iy, ix


def render_heatmaps(
    keypoints: tf.Tensor,
    input_size: tuple[int, int],
    heatmap_size: tuple[int, int],
    kernels: tuple[int, ...] = RSN_KERNELS,
    peak: float = RSN_HEATMAP_PEAK,
) -> tf.Tensor:
    """RSN targets for one person: float32 [len(kernels), H_out, W_out, K], channels last.

    Args:
      keypoints: [K, 3] (x, y, valid) in crop pixels; valid is the `crop_validity` output. Maps are
        drawn for valid >= 1 (RSN draws occluded keypoints too; its loss weights them later).
      input_size, heatmap_size: (height, width) of the crop and of the heatmap.
      kernels: Gaussian kernel sizes, one map set each.
      peak: value of every drawn maximum (255 as in RSN; 1.0 for unit-peak targets).
    """
    kp = tf.cast(keypoints, tf.float32)
    iy, ix = heatmap_indices(kp, input_size, heatmap_size)
    drawn = kp[:, 2] >= 1.0
    maps = []
    for ksize in kernels:
        col = tf.gather(tf.constant(blur_matrix(heatmap_size[0], ksize)), iy, axis=1)  # [H, K]
        row = tf.gather(tf.constant(blur_matrix(heatmap_size[1], ksize)), ix, axis=1)  # [W, K]
        heat = col[:, None, :] * row[None, :, :]  # [H, W, K]
        top = tf.reduce_max(col, axis=0) * tf.reduce_max(row, axis=0)  # == max of each map
        heat = heat / (top / peak)
        maps.append(tf.where(drawn, heat, tf.zeros_like(heat)))
    return tf.stack(maps, axis=0)
