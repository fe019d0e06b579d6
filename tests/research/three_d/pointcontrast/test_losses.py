"""PointInfoNCE, hardest-contrastive and the correspondence metric (PointContrast card checks 5, 6, metric)."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from research.three_d.pointcontrast import losses, metrics


def _np(x):
    return np.asarray(x)


def test_infonce_identical_features_is_log_npos():
    n = 16
    f = np.ones((n, 4), np.float32) / 2
    q = k = np.arange(n, dtype=np.int32)
    loss = float(losses.point_info_nce(f, f, q, k, np.ones(n, bool), 0.4))
    np.testing.assert_allclose(loss, np.log(n), rtol=1e-6)


def test_infonce_one_hot_matched_tends_to_zero():
    n = 8
    f = np.eye(n, dtype=np.float32)
    q = k = np.arange(n, dtype=np.int32)
    assert float(losses.point_info_nce(f, f, q, k, np.ones(n, bool), 0.01)) < 1e-30 + 1e-6
    # keys shifted by one: every query's positive is a wrong feature -> large loss (the diagonal matters)
    assert float(losses.point_info_nce(f, f, q, np.roll(k, 1), np.ones(n, bool), 0.01)) > 50


def test_infonce_matches_numpy_and_is_permutation_invariant():
    rng = np.random.default_rng(0)
    f0, f1 = rng.normal(size=(30, 5)).astype(np.float32), rng.normal(size=(40, 5)).astype(np.float32)
    q, k = rng.choice(30, 12, replace=False).astype(np.int32), rng.choice(40, 12, replace=False).astype(np.int32)
    valid = np.ones(12, bool)
    valid[-2:] = False  # padded pairs: neither rows nor candidate columns
    tau = 0.07
    logits = f0[q[:10]] @ f1[k[:10]].T / tau
    logits = logits - logits.max(1, keepdims=True)
    want = np.mean(-np.diag(logits) + np.log(np.exp(logits).sum(1)))
    got = float(losses.point_info_nce(f0, f1, q, k, valid, tau))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    perm = rng.permutation(10)
    perm = np.concatenate([perm, [10, 11]])
    np.testing.assert_allclose(float(losses.point_info_nce(f0, f1, q[perm], k[perm], valid, tau)), got, rtol=1e-6)


def test_infonce_sampling_draws_true_matches():
    rng = np.random.default_rng(1)
    matches = np.full((50, 4), -1, np.int32)
    for i in range(0, 50, 2):  # odd queries have no match
        c = rng.integers(1, 5)
        matches[i, :c] = rng.choice(60, c, replace=False)
    valid0 = np.ones(50, bool)
    valid0[:4] = False
    q, k, ok = (_np(t) for t in losses.sample_infonce_pairs(matches, valid0, 30, seed=3))
    assert ok.sum() == 23 and len(set(q[ok])) == 23  # 25 matched queries, 2 masked out
    assert all(k[i] in matches[q[i]] and q[i] % 2 == 0 and q[i] >= 4 for i in np.flatnonzero(ok))


def _hardest(f0, f1, matches, **kw):
    n0, n1 = len(f0), len(f1)
    out = losses.hardest_contrastive(f0, f1, matches, np.ones(n0, bool), np.ones(n1, bool), 64, 64, seed=0, **kw)
    return {k: float(v) for k, v in out.items()}


def test_hardest_contrastive_zero_and_positive():
    # positives coincide, other points are >= 2 apart in feature space: zero
    f = np.eye(6, dtype=np.float32) * 2.0
    matches = np.full((6, 2), -1, np.int32)
    matches[:, 0] = np.arange(6)
    out = _hardest(f, f, matches)
    assert out["loss"] == 0.0 and out["pos_loss"] == 0.0
    # one negative inside the margin: positive negative loss
    g = f.copy()
    g[1] = f[0] + 0.05
    out = _hardest(f, g, matches)
    assert out["neg_loss"] > 0.1
    # a "negative" that is a true match is not penalised: let view-1 point 1 also match view-0 point 0
    matches2 = matches.copy()
    matches2[0, 1] = 1
    g2 = f.copy()
    g2[1] = f[0] + 0.05
    assert _hardest(f, g2, matches2)["neg_loss"] < _hardest(f, g2, matches)["neg_loss"]
    # positives apart by more than sqrt(pos_thresh): positive loss = mean(d^2 - 0.1)
    h = f + np.array([0.5, 0, 0, 0, 0, 0], np.float32)
    np.testing.assert_allclose(_hardest(f, h, matches)["pos_loss"], 0.25 - 0.1, rtol=1e-5)


def test_correspondence_metric_matches_kdtree_reference():
    rng = np.random.default_rng(2)
    v, k = 300, 3
    f0 = rng.normal(size=(v, 8)).astype(np.float32)
    f1 = f0[rng.permutation(v)] + 0.3 * rng.normal(size=(v, 8)).astype(np.float32)
    matches = np.full((v, k), -1, np.int32)
    hit = rng.random(v) < 0.8
    matches[hit, 0] = rng.integers(0, v, hit.sum())
    valid0 = rng.random(v) < 0.95
    correct, n = metrics.correspondence_hits(f0, f1, matches, valid0, 64, np.random.default_rng(5))
    q, keys = metrics.sample_queries(matches, valid0, 64, np.random.default_rng(5))
    _, nn = cKDTree(f1[keys]).query(f0[q], k=1)
    want = int(sum(keys[j] in matches[i] for i, j in zip(q, nn, strict=True)))
    assert n == 64 and correct == want
    # identical features and unique matches: all correct; chance-level features: about 1 / n
    perm = rng.permutation(v)
    m1 = np.full((v, k), -1, np.int32)
    m1[:, 0] = np.argsort(perm)
    assert metrics.correspondence_hits(f0, f0[perm], m1, np.ones(v, bool), 64, rng) == (64, 64)
