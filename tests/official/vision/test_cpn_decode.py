"""CPN stage-1 decoding and score fusion on hand-made heatmaps (spec checks 2 and 3)."""

import numpy as np
import pytest

from official.vision.cpn import decode

H = W = 16
C = 3
BIG, SMALL = 8.0, -20.0  # logits: sigmoid(8) ~ 0.99966, sigmoid(-20) ~ 0


def heatmaps(tl_peaks, br_peaks):
    """Logit maps (1, H, W, C) with the given (y, x, class, logit) peaks on a near-zero background."""
    tl = np.full((1, H, W, C), SMALL, np.float32)
    br = np.full((1, H, W, C), SMALL, np.float32)
    for y, x, c, v in tl_peaks:
        tl[0, y, x, c] = v
    for y, x, c, v in br_peaks:
        br[0, y, x, c] = v
    return tl, br


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def test_k70_gives_4900_rows():
    tl, br = heatmaps([(2, 3, 1, 2.0)], [(10, 12, 1, 1.0)])
    pairs = decode.corner_proposals(np.tile(tl, (1, 5, 5, 1)), np.tile(br, (1, 5, 5, 1)), 70)
    assert tuple(np.asarray(pairs["boxes"]).shape) == (1, 4900, 4)
    assert tuple(np.asarray(pairs["scores"]).shape) == (1, 4900)


def test_one_peak_pair_gives_exactly_one_valid_box():
    tl, br = heatmaps([(2, 3, 1, 2.0)], [(10, 12, 1, 1.0)])
    pairs = decode.corner_proposals(tl, br, 8)
    scores = np.asarray(pairs["scores"])[0]
    boxes = np.asarray(pairs["boxes"])[0]
    # Pairs of two real corners (both scores > 0.1; the background is ~2e-9) that are valid: one.
    real = (np.asarray(pairs["tl_scores"])[0] > 0.1) & (np.asarray(pairs["br_scores"])[0] > 0.1)
    assert np.flatnonzero(real & np.asarray(pairs["valid"])[0]).tolist() == [0]
    assert int(np.argmax(scores)) == 0
    np.testing.assert_allclose(scores[0], (sigmoid(2.0) + sigmoid(1.0)) / 2, rtol=1e-6)
    np.testing.assert_array_equal(boxes[0], [3, 2, 12, 10])  # (x1, y1, x2, y2) on the output grid
    assert int(np.asarray(pairs["classes"])[0, 0]) == 1
    assert bool(np.asarray(pairs["valid"])[0, 0])


def test_class_mismatch_is_rejected():
    tl, br = heatmaps([(2, 3, 0, 2.0)], [(10, 12, 2, 1.0)])
    pairs = decode.corner_proposals(tl, br, 8)
    scores = np.asarray(pairs["scores"])[0]
    assert not bool(np.asarray(pairs["valid"])[0, 0])
    np.testing.assert_allclose(scores[0], (sigmoid(2.0) + sigmoid(1.0)) / 2 - 1.0, rtol=1e-6)
    real = (np.asarray(pairs["tl_scores"])[0] > 0.1) & (np.asarray(pairs["br_scores"])[0] > 0.1)
    assert not np.any(real & np.asarray(pairs["valid"])[0])  # the only pair of real corners is rejected


@pytest.mark.parametrize("br_yx", [(10, 1), (1, 12), (0, 0)])  # left of, above, both
def test_inverted_pair_is_rejected(br_yx):
    tl, br = heatmaps([(2, 3, 1, 2.0)], [(br_yx[0], br_yx[1], 1, 1.0)])
    pairs = decode.corner_proposals(tl, br, 8)
    assert not bool(np.asarray(pairs["valid"])[0, 0])
    assert float(np.asarray(pairs["scores"])[0, 0]) < 0.0


def test_peak_nms_keeps_local_maxima_only():
    tl, br = heatmaps([(5, 5, 0, 3.0), (5, 6, 0, 2.0)], [(12, 12, 0, 3.0)])
    top = decode.top_corners(np.asarray(decode.peak_nms(sigmoid(tl))), 2)
    np.testing.assert_allclose(np.asarray(top["scores"])[0], [sigmoid(3.0), sigmoid(SMALL)], rtol=1e-6)
    assert (float(np.asarray(top["xs"])[0, 0]), float(np.asarray(top["ys"])[0, 0])) == (5.0, 5.0)


def test_offsets_refine_boxes():
    tl, br = heatmaps([(2, 3, 1, 2.0)], [(10, 12, 1, 1.0)])
    tl_off = np.zeros((1, H, W, 2), np.float32)
    br_off = np.zeros((1, H, W, 2), np.float32)
    tl_off[0, 2, 3] = [0.25, 0.5]
    br_off[0, 10, 12] = [0.75, 0.125]
    pairs = decode.corner_proposals(tl, br, 8)
    refined = np.asarray(decode.refine_boxes(pairs, tl_off, br_off))[0, 0]
    np.testing.assert_allclose(refined, [3.25, 2.5, 12.75, 10.125])


def test_score_fusion():
    np.testing.assert_allclose(float(decode.fuse_scores(0.8, 0.6)), 1.18, rtol=1e-6)
    np.testing.assert_allclose(float(decode.fuse_scores(0.0, 0.0)), 0.0, atol=1e-7)
    grid = np.linspace(0.0, 1.0, 11, dtype=np.float32)
    fused = np.asarray(decode.fuse_scores(grid[:, None], grid[None, :]))
    assert np.all(np.diff(fused, axis=0) > 0) and np.all(np.diff(fused, axis=1) > 0)


@pytest.mark.parametrize("br_off_xy,valid", [((0.1, 0.9), False), ((0.9, 0.1), False), ((0.5, 0.5), True)])
def test_offsets_that_invert_a_grid_box_reject_it(br_off_xy, valid):
    """Issue 24: corners in the same grid column / row pass the grid test; their offsets decide. The
    top-left offset is (0.5, 0.5): a bottom-right offset of 0.1 in x (or y) inverts the refined box,
    0.5 gives a zero-size box, which CornerNet's `br < tl` test keeps."""
    tl, br = heatmaps([(4, 6, 1, 2.0)], [(4, 6, 1, 1.0)])  # both corners in cell (y 4, x 6)
    tl_off = np.zeros((1, H, W, 2), np.float32)
    br_off = np.zeros((1, H, W, 2), np.float32)
    tl_off[0, 4, 6] = [0.5, 0.5]
    br_off[0, 4, 6] = br_off_xy
    pairs = decode.corner_proposals(tl, br, 8)
    assert bool(np.asarray(pairs["valid"])[0, 0])  # the grid test alone lets it through
    refined = decode.refine_boxes(pairs, tl_off, br_off)
    checked = decode.reject_inverted(pairs, refined)
    assert bool(np.asarray(checked["valid"])[0, 0]) is valid
    grid_score = float(np.asarray(pairs["scores"])[0, 0])
    np.testing.assert_allclose(float(np.asarray(checked["scores"])[0, 0]), grid_score - (0.0 if valid else 1.0), rtol=1e-6)
    # already-rejected pairs are not pushed down twice
    rejected = ~np.asarray(pairs["valid"])[0]
    np.testing.assert_array_equal(np.asarray(checked["scores"])[0][rejected], np.asarray(pairs["scores"])[0][rejected])
