"""PSNR / SSIM equal scikit-image's on random image pairs and edge cases (DRV spec card check 7)."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from official.evaluation.image_quality import psnr, ssim


@pytest.mark.parametrize("shape,data_range", [((32, 32, 3), 1.0), ((20, 33, 1), 255.0), ((7, 9, 3), 1.0)])
def test_psnr_ssim_equal_skimage(shape, data_range):
    rng = np.random.default_rng(sum(shape))
    a = rng.uniform(0, data_range, size=(4,) + shape)
    noise = rng.normal(scale=0.1 * data_range, size=a.shape) * rng.uniform(0.1, 1.0, (4, 1, 1, 1))
    b = np.clip(a + noise, 0, data_range)
    b[1] = a[1] * 0.5 + 0.25 * data_range  # structured difference
    b[2] = np.roll(a[2], 1, axis=0)
    ours_p = np.asarray(psnr(a, b, data_range))
    ours_s = np.asarray(ssim(a, b, data_range))
    for i in range(4):
        ref_p = peak_signal_noise_ratio(a[i], b[i], data_range=data_range)
        ref_s = structural_similarity(a[i], b[i], data_range=data_range, channel_axis=-1)
        assert abs(ours_p[i] - ref_p) < 1e-6, (i, ours_p[i], ref_p)
        assert abs(ours_s[i] - ref_s) < 1e-6, (i, ours_s[i], ref_s)


def test_edge_cases():
    a = np.random.default_rng(0).uniform(size=(1, 16, 16, 3))
    assert np.isinf(np.asarray(psnr(a, a)))[0]
    assert abs(float(np.asarray(ssim(a, a))[0]) - 1.0) < 1e-12
    const = np.full((1, 16, 16, 1), 0.3)  # zero variance: SSIM from the means only
    ref = structural_similarity(const[0], const[0] * 0 + 0.6, data_range=1.0, channel_axis=-1)
    assert abs(float(np.asarray(ssim(const, const * 0 + 0.6))[0]) - ref) < 1e-9
    with pytest.raises(ValueError, match="win_size"):
        ssim(np.zeros((1, 5, 5, 1)), np.zeros((1, 5, 5, 1)))
