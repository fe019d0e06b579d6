"""Card check 6, the corrupted sketch: clean when both probabilities are 0; exactly one patch x patch window
differs (and holds clean * other there) when p_patch is 1; clean * noise when p_noise is 1; the seeded draw
repeats, picks the three cases at the card's rates and keeps windows inside the image; and the objective
feeds G_A the corrupted sketch while its cycle target stays the clean one."""

import numpy as np
import pytest

from research.generative.sketch2photo import noise


def _images(rng, b=3, side=128):
    # values away from +-1 and 0 so that every pixel of a multiplied window changes
    return [rng.uniform(0.2, 0.9, (b, side, side, 1)).astype(np.float32) * rng.choice([-1, 1], (b, side, side, 1))
            for _ in range(3)]


def test_probabilities_zero_and_one():
    rng = np.random.default_rng(0)
    clean, stroke, other = _images(rng)
    u = rng.uniform(size=3).astype(np.float32)
    offsets = np.array([[0, 0], [78, 78], [13, 61]], np.int32)
    out = np.asarray(noise.compose(clean, stroke, other, u, offsets, p_noise=0.0, p_patch=0.0))
    np.testing.assert_array_equal(out, clean)
    out = np.asarray(noise.compose(clean, stroke, other, u, offsets, p_noise=1.0, p_patch=0.0))
    np.testing.assert_allclose(out, clean * stroke, rtol=1e-6)
    out = np.asarray(noise.compose(clean, stroke, other, u, offsets, p_noise=0.0, p_patch=1.0))
    for i, (y, x) in enumerate(offsets):
        rows, cols = np.nonzero(out[i, ..., 0] != clean[i, ..., 0])
        assert len(rows) == 50 * 50
        assert (rows.min(), rows.max(), cols.min(), cols.max()) == (y, y + 49, x, x + 49)
        np.testing.assert_allclose(out[i, y:y + 50, x:x + 50], clean[i, y:y + 50, x:x + 50] * other[i, y:y + 50, x:x + 50],
                                   rtol=1e-6)


def test_seeded_draws_rates_and_windows():
    clean = -np.ones((400, 64, 64, 1), np.float32)  # all black: a noise product gives `stroke`, a window gives -other
    stroke = np.full_like(clean, 0.5)
    other = np.full_like(clean, 0.25)
    out = np.asarray(noise.corrupt(clean, stroke, other, seed=3, patch=25))
    np.testing.assert_array_equal(out, np.asarray(noise.corrupt(clean, stroke, other, seed=3, patch=25)))
    noisy = np.all(out == -0.5, axis=(1, 2, 3))
    patched = np.any(out == -0.25, axis=(1, 2, 3))
    assert not np.any(noisy & patched)
    assert noisy.mean() == pytest.approx(0.2, abs=0.06) and patched.mean() == pytest.approx(0.3, abs=0.07)
    for image in out[patched]:
        rows, cols = np.nonzero(image[..., 0] == -0.25)
        assert len(rows) == 25 * 25 and rows.max() - rows.min() == 24 and cols.max() <= 63
    assert noise.patch_size(128) == 50 and noise.patch_size(32) == 12
    with pytest.raises(ValueError, match="larger"):
        noise.corrupt(clean[:1, :16, :16], stroke[:1, :16, :16], other[:1, :16, :16], seed=0, patch=20)
