"""decode.top_corners (two-stage top-k, the batch-1 XLA:GPU compile fix) equals one stable top-k over
H * W * C: same scores, same flat indices, ties at the lower index first."""

from __future__ import annotations

import numpy as np
import pytest

from official.vision.cpn import decode


def stable_top_k(heat: np.ndarray, k: int):
    flat = heat.reshape(heat.shape[0], -1)
    index = np.argsort(-flat, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(flat, index, axis=1), index


@pytest.mark.parametrize("shape, k", [((1, 16, 16, 5), 70), ((2, 9, 5, 2), 7), ((3, 4, 4, 1), 16), ((1, 3, 2, 2), 5)])
@pytest.mark.parametrize("levels", [None, 4])  # None: distinct values; 4: values in steps of 1/4, many ties
def test_top_corners_equals_one_stable_top_k(shape, k, levels):
    heat = np.random.default_rng(0).uniform(size=shape).astype("float32")
    if levels:
        heat = np.round(heat * levels) / levels
    out = decode.top_corners(heat, k)
    scores, index = stable_top_k(heat, k)
    channels, width = shape[3], shape[2]
    np.testing.assert_array_equal(np.asarray(out["scores"]), scores)
    np.testing.assert_array_equal(np.asarray(out["cells"]) * channels + np.asarray(out["classes"]), index)
    np.testing.assert_array_equal(np.asarray(out["xs"]), (index // channels) % width)
    np.testing.assert_array_equal(np.asarray(out["ys"]), (index // channels) // width)


def test_peak_nms_and_gather_cells_match_numpy():
    """official/ops/heatmap_peaks.py (shared by CPN and RTM3D): 3x3 peak NMS keeps exactly the cells equal
    to their neighbourhood maximum; gather_cells reads (B, H, W, D) at flat y * W + x indices."""
    from official.ops import heatmap_peaks

    heat = np.random.default_rng(1).uniform(size=(2, 6, 7, 3)).astype("float32")
    padded = np.pad(heat, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=-np.inf)
    local_max = np.max([padded[:, dy:dy + 6, dx:dx + 7] for dy in range(3) for dx in range(3)], axis=0)
    np.testing.assert_array_equal(np.asarray(heatmap_peaks.peak_nms(heat)), np.where(heat == local_max, heat, 0.0))
    cells = np.array([[0, 8, 41], [13, 20, 6]], np.int32)
    got = np.asarray(heatmap_peaks.gather_cells(heat, cells))
    want = np.stack([heat[b, cells[b] // 7, cells[b] % 7] for b in range(2)])
    np.testing.assert_array_equal(got, want)
    assert decode.top_corners is heatmap_peaks.top_corners  # CPN's decode re-exports the shared op
