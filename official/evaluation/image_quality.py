"""PSNR and SSIM as scikit-image computes them (skimage.metrics, 0.26), batched, in keras.ops.

- psnr: 10 log10(data_range^2 / MSE) per image (skimage.metrics.peak_signal_noise_ratio).
- ssim: skimage.metrics.structural_similarity's defaults: 7x7 uniform window, K1 = 0.01, K2 = 0.03,
  sample covariance (N / (N - 1)), the mean of the SSIM map over pixels at least 3 from the border and
  over channels (channel_axis=-1). skimage filters with mode='reflect' and then crops those 3 pixels, so the
  kept values only ever see interior pixels: a 'valid' 7x7 box sum gives the same numbers.
Images are (..., H, W, C); outputs have the leading shape. Use float64 inputs for 1e-6 agreement.
"""

from __future__ import annotations

from keras import ops


def psnr(a, b, data_range: float = 1.0):
    """Peak signal-to-noise ratio in dB per image over the last three axes (inf for identical images)."""
    a = ops.convert_to_tensor(a)
    b = ops.cast(b, a.dtype)
    mse = ops.mean(ops.square(a - b), axis=(-3, -2, -1))
    return 10.0 * ops.log10(data_range * data_range / mse)


def _box_mean(x, size: int):
    """Mean over valid size x size windows of (..., H, W, C) -> (..., H - size + 1, W - size + 1, C)."""
    h, w = x.shape[-3], x.shape[-2]
    rows = sum(x[..., i : h - size + 1 + i, :, :] for i in range(size))
    cols = sum(rows[..., :, j : w - size + 1 + j, :] for j in range(size))
    return cols / float(size * size)


def ssim(a, b, data_range: float = 1.0, win_size: int = 7, k1: float = 0.01, k2: float = 0.03):
    """Mean structural similarity per image, equal to skimage's structural_similarity(channel_axis=-1)."""
    a = ops.convert_to_tensor(a)
    b = ops.cast(b, a.dtype)
    if a.shape[-3] < win_size or a.shape[-2] < win_size:
        raise ValueError(f"ssim: images of {a.shape[-3]}x{a.shape[-2]} are smaller than win_size={win_size}")
    n = win_size * win_size
    cov_norm = n / (n - 1.0)
    ux, uy = _box_mean(a, win_size), _box_mean(b, win_size)
    uxx, uyy, uxy = _box_mean(a * a, win_size), _box_mean(b * b, win_size), _box_mean(a * b, win_size)
    vx = cov_norm * (uxx - ux * ux)
    vy = cov_norm * (uyy - uy * uy)
    vxy = cov_norm * (uxy - ux * uy)
    c1 = (k1 * data_range) ** 2
    c2 = (k2 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return ops.mean(s, axis=(-3, -2, -1))
