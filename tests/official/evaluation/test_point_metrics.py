"""Point metrics: F-score by hand and against pykdtree, kd-tree Chamfer against pykdtree (the keras.ops
loss is checked against cKDTree in tests/official/losses), exact EMD on a permuted copy and by hand."""

from __future__ import annotations

import numpy as np
from pykdtree.kdtree import KDTree

from official.evaluation import point_metrics


def _pykd(src, tgt):
    d, _ = KDTree(tgt.astype(np.float64)).query(src.astype(np.float64), k=1)
    return d


def test_fscore_hand_case_and_empty():
    pred = np.array([[0, 0, 0], [1, 0, 0]], np.float32)
    gt = np.array([[0, 0, 0]], np.float32)
    f, precision, recall = point_metrics.fscore(pred, gt, 0.5)
    assert (precision, recall) == (0.5, 1.0)
    np.testing.assert_allclose(f, 2 * 0.5 / 1.5)
    # distance exactly at the threshold counts (ConvONet's <=)
    assert point_metrics.fscore(pred, gt, 1.0) == (1.0, 1.0, 1.0)
    assert point_metrics.fscore(np.zeros((0, 3)), gt, 0.5) == (0.0, 0.0, 0.0)


def test_fscore_and_chamfer_equal_pykdtree():
    rng = np.random.default_rng(0)
    pred = rng.uniform(-0.5, 0.5, (300, 3))
    gt = rng.uniform(-0.5, 0.5, (250, 3))
    acc, comp = _pykd(pred, gt), _pykd(gt, pred)
    got = point_metrics.fscores(pred, gt, (0.05, 0.1))
    for t in (0.05, 0.1):
        p, r = np.mean(acc <= t), np.mean(comp <= t)
        np.testing.assert_allclose(got[t], (2 * p * r / (p + r), p, r), atol=1e-12)
        assert point_metrics.fscore(pred, gt, t) == got[t]
    np.testing.assert_allclose(point_metrics.chamfer_distance(pred, gt), np.mean(acc**2) + np.mean(comp**2), rtol=1e-12)
    np.testing.assert_allclose(point_metrics.chamfer_distance(pred, gt, squared=False), acc.mean() + comp.mean(), rtol=1e-12)


def test_emd_exact_permuted_copy_and_hand_case():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(40, 3))
    shuffle = rng.permutation(40)
    cost, perm = point_metrics.emd_exact(a, a[shuffle])
    assert cost == 0.0 and np.array_equal(shuffle[perm], np.arange(40))
    # two points on a line: crossing would cost (3 + 1) / 2 = 2; the optimum keeps order, (1 + 1) / 2 = 1
    cost, perm = point_metrics.emd_exact(np.array([[0.0, 0, 0], [2, 0, 0]]), np.array([[3.0, 0, 0], [1, 0, 0]]))
    assert cost == 1.0 and list(perm) == [1, 0]
