"""official/evaluation/phrase_grounding.py on hand-computed cases (info-ground spec check 6; the parity with the
authors' compute_recall / compute_pt_acc on random phrases is benchmarks/info_ground_eval_parity.py, recorded in
benchmarks/results/info_ground_eval_parity.json): inclusive-pixel IoU, IoU exactly 0.5 (the reference's + 1e-6
keeps it below the bar), boxes touching, ties, padded regions, empty rankings, the strict pointing game."""

from __future__ import annotations

import numpy as np
import pytest

from official.evaluation.phrase_grounding import (
    GroundingAccuracy,
    box_iou,
    pointing_hit,
    rank_regions,
    recall_hits,
)


def test_inclusive_pixel_iou():
    assert box_iou([0, 0, 9, 9], [0, 0, 9, 9]) == pytest.approx(100 / (100 + 1e-6), abs=0)
    # 10 x 10 and 10 x 5 inside it: 50 / 100 -> 0.49999999 (+ 1e-6 in the union): not a hit at IoU >= 0.5
    assert box_iou([0, 0, 9, 9], [0, 0, 9, 4]) == pytest.approx(50 / (100 + 1e-6), abs=0)
    assert recall_hits(np.array([[0, 0, 9, 9]]), np.array([[0, 0, 9, 4]]), (1,)) == [0]
    # sharing the column x = 9 counts as no overlap (x2 <= x1 is an empty intersection in the reference)
    assert box_iou([0, 0, 9, 9], [9, 0, 18, 9]) == 0.0
    # one pixel more overlap: x in [8, 9] -> 2 x 10 = 20 over 100 + 110 - 20
    assert box_iou([0, 0, 9, 9], [8, 0, 18, 9]) == pytest.approx(20 / (190 + 1e-6), abs=0)
    assert box_iou([3, 3, 3, 8], [3, 3, 3, 8]) == 0.0  # zero width: no area (the reference fails on it)


def test_recall_at_k_first_hit_counts_for_all_larger_k():
    gt = np.array([[50, 50, 69, 69], [0, 0, 19, 19]])
    ranked = np.array([[80, 80, 90, 90], [30, 30, 40, 40], [1, 1, 19, 19], [50, 50, 69, 69]])
    assert recall_hits(ranked, gt, (1, 2, 3, 10)) == [0, 0, 1, 1]
    assert recall_hits(ranked[3:], gt) == [1, 1, 1]
    assert recall_hits(np.zeros((0, 4)), gt) == [0, 0, 0]  # every region padded
    assert recall_hits(ranked, np.zeros((0, 4))) == [0, 0, 0]  # no ground truth box
    eleventh = np.concatenate([np.tile([[80, 80, 90, 90]], (10, 1)), [[0, 0, 19, 19]]])
    assert recall_hits(eleventh, gt) == [0, 0, 0]  # beyond R@10


def test_pointing_game_is_strictly_inside():
    top = np.array([[0, 0, 10, 10], [50, 50, 60, 60]])  # centre (5, 5)
    assert pointing_hit(top, np.array([[4, 0, 20, 20]])) == 1
    assert pointing_hit(top, np.array([[5, 0, 20, 20]])) == 0  # centre on the left edge
    assert pointing_hit(top, np.array([[0, 0, 20, 5]])) == 0  # centre on the bottom edge
    assert pointing_hit(top, np.array([[49, 49, 61, 61], [0, 0, 6, 6]])) == 1  # any ground-truth box; top-1 only
    assert pointing_hit(top[1:], np.array([[0, 0, 6, 6]])) == 0
    assert pointing_hit(np.zeros((0, 4)), np.array([[0, 0, 6, 6]])) == 0


def test_ranking_ties_and_pads():
    assert rank_regions([0.5, 0.7, 0.7, 0.1], [1, 1, 1, 1]).tolist() == [1, 2, 0, 3]  # ties: lower index first
    assert rank_regions([0.9, 0.2, 0.3, 0.9], [0, 1, 1, 0]).tolist() == [2, 1]  # pads never ranked
    assert rank_regions([0.9, 0.9], [0, 0]).tolist() == []


def test_accumulated_percentages():
    metric = GroundingAccuracy()
    assert metric.result()["accuracy"] == 0.0 and metric.result()["phrases"] == 0  # no phrase: no division by 0
    gt = np.array([[0, 0, 19, 19]])
    far = [[60, 60, 70, 70]]
    metric.update(np.array([[0, 0, 19, 19], *far]), gt)  # R@1, pointing
    metric.update(np.array([*far, *far, [1, 0, 19, 19]]), gt)  # R@5 only
    metric.update(np.array([*far] * 6 + [[0, 0, 18, 19]]), gt)  # R@10 only
    metric.update(np.array([[2, 2, 30, 30]]), gt)  # IoU 324 / 917: miss; centre (16, 16) inside: pointing
    metric.update(np.zeros((0, 4)), gt)  # all regions padded
    result = metric.result()
    assert (result["phrases"], result["hits@1"], result["pointing_hits"]) == (5, 1, 2)
    assert (result["accuracy"], result["recall@5"], result["recall@10"], result["pointing"]) == (20.0, 40.0, 60.0, 40.0)
