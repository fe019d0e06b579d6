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
