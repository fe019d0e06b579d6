"""Visibility-aware distance (card check 7): parts missing from the query do not count; equal to a
per-pair loop written from the official arm_eval_func formula."""

from __future__ import annotations

import numpy as np

from research.reid.isp import distance


def _loop(qp, qg, qv, gp, gg, gv):
    def cos(a, b):
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

    out = np.zeros((len(qp), len(gp)))
    for i in range(len(qp)):
        for j in range(len(gp)):
            num = (cos(qg[i], gg[j]) + 1) / 2
            den = 1.0
            for k in range(qp.shape[1]):
                if qv[i, k] and gv[j, k]:
                    num += (cos(qp[i, k], gp[j, k]) + 1) / 2
                    den += 1
            out[i, j] = 1 - num / den
    return out


def test_hidden_parts_do_not_count():
    rng = np.random.default_rng(0)
    qp, qg = rng.normal(size=(1, 6, 8)), rng.normal(size=(1, 16))
    qv = np.array([[1, 1, 0, 0, 0, 0]])  # only parts 1 and 2 visible in the query
    gp, gg, gv = rng.normal(size=(3, 6, 8)), rng.normal(size=(3, 16)), np.ones((3, 6))
    before = distance.visibility_aware_distance(qp, qg, qv, gp, gg, gv)
    changed = gp.copy()
    changed[:, 4] = rng.normal(size=(3, 8))  # gallery part 5
    after = distance.visibility_aware_distance(qp, qg, qv, changed, gg, gv)
    np.testing.assert_allclose(before, after, atol=1e-12)
    changed[:, 1] = rng.normal(size=(3, 8))  # gallery part 2 is shared: it counts
    assert np.abs(distance.visibility_aware_distance(qp, qg, qv, changed, gg, gv) - before).max() > 1e-3


def test_equals_the_pairwise_formula():
    rng = np.random.default_rng(1)
    qp, qg, qv = rng.normal(size=(4, 6, 5)), rng.normal(size=(4, 10)), rng.integers(0, 2, (4, 6))
    gp, gg, gv = rng.normal(size=(7, 6, 5)), rng.normal(size=(7, 10)), rng.integers(0, 2, (7, 6))
    got = distance.visibility_aware_distance(qp, qg, qv, gp, gg, gv, chunk=3)
    np.testing.assert_allclose(got, _loop(qp, qg, qv, gp, gg, gv), atol=1e-12)


def test_split_features_layout():
    f = np.arange(2 * 8 * 3, dtype=float).reshape(2, 24)  # K = 7, D = 3: 6 parts, global, fore
    parts, gf = distance.split_features(f, 7)
    assert parts.shape == (2, 6, 3) and gf.shape == (2, 6)
    np.testing.assert_array_equal(parts[0, 1], [3, 4, 5])
    np.testing.assert_array_equal(gf[1], f[1, 18:])
