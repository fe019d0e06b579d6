"""MPII PCKh (official/evaluation/mpii_pckh.py) on a hand-made case with known numbers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.io import savemat

from official.evaluation import mpii_pckh


def _case():
    """4 persons, 16 joints. Persons 0-2: head box 30x40 (diagonal 50 -> 0.6 * 50 = 30 px unit);
    person 3: 60x80 (unit 60 px). Errors in pixels, directions random."""
    rng = np.random.default_rng(0)
    n = 4
    errors = np.empty((n, 16))
    errors[0] = 2.0  # 0.067: correct at 0.1 and 0.5
    errors[1] = 10.0  # 0.33: correct at 0.5 only
    errors[1, 8] = 3.15  # 0.105: wrong at 0.1, correct at the scripts' "0.1" (= 0.11)
    errors[2, :8] = 20.0  # 0.67: wrong
    errors[2, 8:] = 2.0
    errors[3] = 20.0  # 20 / 60 = 0.33: correct at 0.5 (it would not be with person 0's head)
    visible = np.ones((16, n))
    visible[9, 3] = visible[15, 3] = 0
    errors[3, [9, 15]] = 100.0  # invisible: never counted
    gt = rng.uniform(50, 400, (16, 2, n))  # 1-based
    angle = rng.uniform(0, 2 * np.pi, (n, 16))
    preds_1b = np.transpose(gt, (2, 0, 1)) + errors[..., None] * np.stack([np.cos(angle), np.sin(angle)], -1)
    heads = np.zeros((2, 2, n))
    heads[0] = rng.uniform(0, 100, (2, n))
    heads[1] = heads[0] + np.array([[30, 30, 30, 60], [40, 40, 40, 80]])
    return preds_1b, gt, visible, heads


def test_pckh_hand_case():
    preds_1b, gt, visible, heads = _case()
    out = mpii_pckh.evaluate_pckh(preds_1b - 1.0, gt, visible, heads)  # 0-based predictions
    # joints 0-7: persons 0, 1, 3 correct, 2 wrong -> 75; joints 8-15: all visible ones correct -> 100
    np.testing.assert_allclose(out["per_joint"], [75.0] * 8 + [100.0] * 8)
    expected = {
        "Head": 100.0,
        "Shoulder": 100.0,
        "Elbow": 100.0,
        "Wrist": 100.0,
        "Hip": 75.0,
        "Knee": 75.0,
        "Ankle": 75.0,
    }
    for name, value in expected.items():
        assert out[name] == pytest.approx(value), name
    # Mean without pelvis/thorax: joints 0-5 3/4 each, 8 and 10-14 4/4, 9 and 15 3/3 -> 48 / 54
    assert out["Mean"] == pytest.approx(100 * 48 / 54)
    # at 0.1: joints 0-5 person 0 only; 8, 10-14 persons 0 and 2; 9, 15 persons 0 and 2 of 3 -> 22 / 54
    assert out["PCKh@0.1"] == pytest.approx(100 * 22 / 54)
    # the scripts' Mean@0.1 uses threshold 0.11: person 1's neck (0.105) also counts -> 23 / 54
    assert out["Mean@0.1"] == pytest.approx(100 * 23 / 54)
    same = mpii_pckh.evaluate_pckh(preds_1b, gt, visible, heads, one_based=True)
    assert same["Mean"] == out["Mean"] and same["Mean@0.1"] == out["Mean@0.1"]
    shifted = mpii_pckh.evaluate_pckh(preds_1b, gt, visible, heads)  # 1-based passed as 0-based: +1 px
    assert shifted["Mean@0.1"] != out["Mean@0.1"]


def test_gt_mat_and_evaluator(tmp_path):
    preds_1b, gt, visible, heads = _case()
    path = str(tmp_path / "gt_valid.mat")
    names = np.array([np.array([n]) for n in mpii_pckh.MPII_JOINTS], dtype=object).reshape(1, 16)
    savemat(
        path, {"dataset_joints": names, "jnt_missing": 1 - visible, "pos_gt_src": gt, "headboxes_src": heads}
    )
    loaded = mpii_pckh.load_gt_mat(path)
    assert loaded["joint_names"] == mpii_pckh.MPII_JOINTS
    evaluator = mpii_pckh.MpiiPckhEvaluator(path)
    evaluator.add(preds_1b[:2] - 1.0)
    evaluator.add(np.concatenate([preds_1b[2:] - 1.0, np.ones((2, 16, 1))], -1))  # (x, y, score) is fine
    out = evaluator.evaluate()
    assert out["Mean"] == pytest.approx(100 * 48 / 54) and out["Hip"] == pytest.approx(75.0)
    with pytest.raises(ValueError, match="predictions"):
        mpii_pckh.evaluate_pckh(preds_1b[:3], gt, visible, heads)
