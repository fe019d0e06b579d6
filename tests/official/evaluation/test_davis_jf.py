"""DAVIS J&F (official/evaluation/davis_jf.py) against hand-computed cases and an independent re-derivation
with pixel loops and point distances (spec check 6; parity with davis2017-evaluation itself is
benchmarks/davis_jf_parity.py, recorded in benchmarks/results/davis_jf_parity.json)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from official.evaluation import davis_jf


def _pixel_boundary(mask: np.ndarray) -> set[tuple[int, int]]:
    """Boundary by the definition, pixel by pixel: a pixel differs from its east, south or south-east
    neighbour, coordinates past the last row/column clamped to it."""
    h, w = mask.shape
    out = set()
    for r in range(h):
        for c in range(w):
            for dr, dc in ((0, 1), (1, 0), (1, 1)):
                if mask[r, c] != mask[min(r + dr, h - 1), min(c + dc, w - 1)]:
                    out.add((r, c))
    return out


def _distance_f(gt: np.ndarray, pred: np.ndarray, radius: float) -> float:
    """Boundary F from point distances: a boundary pixel matches when some pixel of the other boundary
    lies within `radius` (Euclidean, inclusive)."""
    gb, pb = _pixel_boundary(gt), _pixel_boundary(pred)
    if not gb or not pb:
        return float(gb == pb)

    def matched(a, b):
        pts = np.array(sorted(b), float)
        return sum(np.min(np.sum((pts - np.array(p, float)) ** 2, 1)) <= radius**2 for p in a)

    precision, recall = matched(pb, gb) / len(pb), matched(gb, pb) / len(gb)
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _pixels(shape, *points) -> np.ndarray:
    m = np.zeros(shape, bool)
    for p in points:
        m[p] = True
    return m


def test_region_j_hand_cases():
    gt, pred = np.zeros((4, 4), bool), np.zeros((4, 4), bool)
    gt[0:2, 0:2], pred[1:3, 1:3] = True, True
    assert davis_jf.region_j(gt, pred) == pytest.approx(1 / 7)  # 1 shared pixel, 7 in the union
    assert davis_jf.region_j(gt, np.zeros_like(gt)) == 0.0
    assert davis_jf.region_j(np.zeros_like(gt), np.zeros_like(gt)) == 1.0  # DAVIS: empty union scores 1
    void = _pixels((4, 4), (0, 0))
    assert davis_jf.region_j(gt, pred, void) == pytest.approx(1 / 6)
    np.testing.assert_allclose(davis_jf.region_j(np.stack([gt, gt]), np.stack([pred, gt])), [1 / 7, 1.0])


def test_boundary_map_hand_cases():
    square = np.zeros((5, 5), bool)
    square[1:3, 1:3] = True  # the ring is offset half a pixel towards the origin
    want = {(0, 0), (0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1), (2, 2)}
    assert set(zip(*np.nonzero(davis_jf.boundary_map(square)), strict=True)) == want
    assert not davis_jf.boundary_map(np.ones((3, 3), bool)).any()  # the frame edge is no boundary
    right = np.zeros((3, 3), bool)
    right[:, 2] = True  # touching the right border: only the column left of it
    assert set(zip(*np.nonzero(davis_jf.boundary_map(right)), strict=True)) == {(0, 1), (1, 1), (2, 1)}


def test_contour_f_hand_cases():
    shape = (64, 64)  # diagonal 90.5 px -> tolerance ceil(0.72) = 1 px, a 4-neighbour cross
    assert davis_jf.boundary_radius(shape) == 1.0
    assert davis_jf.boundary_radius((480, 854)) == 8.0  # DAVIS 480p: ceil(0.008 * 979.6)
    one = _pixels(shape, (10, 10))
    assert davis_jf.contour_f(one, one) == 1.0
    assert davis_jf.contour_f(one, _pixels(shape, (10, 11))) == 1.0  # every boundary pixel 1 px away
    assert davis_jf.contour_f(one, _pixels(shape, (12, 12))) == 0.0  # nearest pairs diagonal: no match
    assert davis_jf.contour_f(one, _pixels(shape, (11, 11))) == pytest.approx(0.75)  # P = R = 3/4
    assert davis_jf.contour_f(one, np.zeros(shape, bool)) == 0.0
    assert davis_jf.contour_f(np.zeros(shape, bool), one) == 0.0
    assert davis_jf.contour_f(np.zeros(shape, bool), np.zeros(shape, bool)) == 1.0
    assert davis_jf.contour_f(one, _pixels(shape, (12, 12)), bound_th=3) == 1.0  # a 3-pixel tolerance


def test_contour_f_matches_distance_rederivation():
    rng = np.random.default_rng(1)
    for i in range(6):
        shape = (18 + i, 25 - i)
        noise = ndimage.gaussian_filter(rng.standard_normal(shape), 2.0)
        gt = noise > 0.1
        pred = np.roll(gt, (i % 3 - 1, 1), (0, 1)) ^ (rng.random(shape) < 0.03)
        if i == 5:
            gt[:, -3:], pred[-2:, :] = True, True  # objects touching the right / bottom border
        assert set(zip(*np.nonzero(davis_jf.boundary_map(gt)), strict=True)) == _pixel_boundary(gt)
        for bound_th in (davis_jf.BOUND_TH, 2):
            radius = davis_jf.boundary_radius(shape, bound_th)
            assert davis_jf.contour_f(gt, pred, bound_th=bound_th) == pytest.approx(
                _distance_f(gt, pred, radius), abs=1e-12)
        inter, union = np.sum(gt & pred), np.sum(gt | pred)
        assert davis_jf.region_j(gt, pred) == pytest.approx(inter / union)


def test_sequence_statistics_hand_case():
    v = [1.0, 0.9, 0.8, 0.6, 0.5, 0.4, 0.2, 0.0]  # 8 frames: bins [0:3] and [5:8] (edges 0, 2, 4, 5, 7)
    mean, recall, decay = davis_jf.sequence_statistics(v)
    assert mean == pytest.approx(0.55)
    assert recall == pytest.approx(0.5)  # 0.5 itself is not above 0.5
    assert decay == pytest.approx(0.9 - 0.2)
    assert davis_jf.sequence_statistics([0.7]) == pytest.approx((0.7, 1.0, 0.0))


def test_evaluate_sequence_protocol_and_table():
    t, shape = 5, (16, 20)
    gt = np.zeros((t, *shape), np.uint8)
    gt[:, 2:8, 3:9] = 1
    gt[:, 10:14, 12:18] = 2
    gt[0, 0, :] = 255  # void: background, not an object
    gt[2:, 0:2, 0:2] = 3  # an id absent from the first frame is no object
    clean = np.where((gt == 255) | (gt == 3), 0, gt)
    pred = clean.copy()
    pred[0], pred[-1] = 0, 0  # the first and last frames are not scored
    pred[2][pred[2] == 2] = 0  # object 2 missed in one of the 3 scored frames
    scores = davis_jf.evaluate_sequence(gt, pred)
    assert scores["J"].shape == (2, 3)
    np.testing.assert_allclose(scores["J"], [[1, 1, 1], [1, 0, 1]])
    np.testing.assert_allclose(scores["F"], [[1, 1, 1], [1, 0, 1]])
    metric = davis_jf.DavisJF()
    metric.update("a", gt, pred)
    metric.update("b", gt, clean)
    table = metric.result()
    assert sorted(metric.per_object) == ["a_1", "a_2", "b_1", "b_2"]
    # objects' J means 1, 2/3, 1, 1 -> 11/12; recall 1, 2/3, 1, 1; decay 0 except a_2: 3 frames give bin
    # edges 0, 1, 1, 2, 2, first bin [1, 0] (mean 1/2), last bin [1] -> -1/2
    assert table["J-Mean"] == pytest.approx(11 / 12)
    assert table["J-Recall"] == pytest.approx(11 / 12)
    assert table["J-Decay"] == pytest.approx(-0.5 / 4)
    assert table["J&F-Mean"] == pytest.approx((table["J-Mean"] + table["F-Mean"]) / 2)
    with pytest.raises(ValueError, match="predicted id 3 > 2 objects"):
        davis_jf.evaluate_sequence(gt, np.where(gt == 255, 0, gt))
