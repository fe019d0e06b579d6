"""RoIAlign agrees with a literal numpy transcription of the bilinear-sampling algorithm to 1e-5."""

import math

import numpy as np
import pytest

from official.ops.roi_align import roi_align


def _bilinear(fm: np.ndarray, y: float, x: float) -> np.ndarray:
    h, w = fm.shape[:2]
    if y < -1.0 or y > h or x < -1.0 or x > w:
        return np.zeros(fm.shape[2], np.float64)
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(math.floor(y)), int(math.floor(x))
    if y0 >= h - 1:
        y0 = y1 = h - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= w - 1:
        x0 = x1 = w - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0
    return (
        (1 - ly) * (1 - lx) * fm[y0, x0]
        + (1 - ly) * lx * fm[y0, x1]
        + ly * (1 - lx) * fm[y1, x0]
        + ly * lx * fm[y1, x1]
    )


def reference(features, boxes, out, scale, ratio, mode):
    b, n = boxes.shape[:2]
    result = np.zeros((b, n, out, out, features.shape[-1]), np.float64)
    for bi in range(b):
        for ni in range(n):
            x1, y1, x2, y2 = [float(v) * scale for v in boxes[bi, ni]]
            if mode == "aligned":
                x1, y1, x2, y2 = x1 - 0.5, y1 - 0.5, x2 - 0.5, y2 - 0.5
                rw, rh = x2 - x1, y2 - y1
            elif mode == "legacy":
                rw, rh = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
            else:
                rw, rh = max(x2 + scale - x1, 0.0), max(y2 + scale - y1, 0.0)
            bh, bw = rh / out, rw / out
            for py in range(out):
                for px in range(out):
                    acc = 0.0
                    for iy in range(ratio):
                        yy = y1 + py * bh + (iy + 0.5) * bh / ratio
                        for ix in range(ratio):
                            xx = x1 + px * bw + (ix + 0.5) * bw / ratio
                            acc = acc + _bilinear(features[bi].astype(np.float64), yy, xx)
                    result[bi, ni, py, px] = acc / (ratio * ratio)
    return result


@pytest.mark.parametrize("mode", ["aligned", "legacy", "mmdet_v1"])
@pytest.mark.parametrize("ratio,scale", [(1, 1.0), (2, 0.25)])
def test_matches_numpy_reference(mode, ratio, scale):
    rng = np.random.default_rng(3)
    features = rng.normal(size=(2, 11, 13, 5)).astype(np.float32)
    size = 1.0 / scale
    # Boxes inside, straddling the border, tiny, degenerate (x2 < x1) and fully outside.
    boxes = np.array(
        [
            [[1.2, 2.5, 8.7, 9.1], [-2.0, -1.5, 4.0, 3.0], [5.0, 5.0, 5.3, 5.2], [9.0, 3.0, 7.0, 10.0]],
            [[0.0, 0.0, 12.9, 10.9], [11.5, 9.5, 14.0, 13.0], [3.3, 1.1, 3.3, 6.6], [-9.0, -9.0, -4.0, -3.0]],
        ],
        np.float32,
    ) * size
    got = np.asarray(roi_align(features, boxes, 7, spatial_scale=scale, sampling_ratio=ratio, mode=mode))
    want = reference(features, boxes, 7, scale, ratio, mode)
    assert got.shape == (2, 4, 7, 7, 5)
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)


def test_constant_feature_map_and_errors():
    features = np.full((1, 8, 8, 3), 2.5, np.float32)
    boxes = np.array([[[1.0, 1.0, 6.0, 6.0]]], np.float32)
    np.testing.assert_allclose(np.asarray(roi_align(features, boxes, 3, sampling_ratio=2)), 2.5, atol=1e-6)
    with pytest.raises(ValueError, match="mode"):
        roi_align(features, boxes, mode="bogus")
    with pytest.raises(ValueError, match="sampling_ratio"):
        roi_align(features, boxes, sampling_ratio=0)
