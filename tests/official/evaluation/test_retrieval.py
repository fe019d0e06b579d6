"""Hashing retrieval metrics against brute-force references (ExchNet spec checks 1 and 2).

faiss (the spec's IndexBinaryFlat reference) is not installed here: the Hamming ranking is checked
against a brute-force numpy count of differing bits and (q - u.v) / 2, and AP against scikit-learn's
average_precision_score per query.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from official.core.errors import BadValueError
from official.evaluation import retrieval


def _codes(rng, n, q):
    return rng.choice([-1, 1], size=(n, q))


@pytest.mark.parametrize("q", [12, 24, 32, 48, 7])
def test_hamming_popcount_equals_inner_product_identity(q):
    rng = np.random.default_rng(q)
    u, v = _codes(rng, 30, q), _codes(rng, 40, q)
    got = retrieval.hamming_distance(u, v)
    brute = np.array([[int(np.sum(a != b)) for b in v] for a in u])
    np.testing.assert_array_equal(got, brute)
    np.testing.assert_array_equal(got, (q - u @ v.T) // 2)
    packed = retrieval.pack_codes(u)
    assert packed.dtype == np.uint8 and packed.shape == (30, (q + 7) // 8)
    np.testing.assert_array_equal(np.unpackbits(packed, axis=1, count=q), (u > 0).astype(np.uint8))


def _brute_ap(dist_row, rel_row):
    order = sorted(range(len(dist_row)), key=lambda j: (dist_row[j], j))
    hits, total = 0, 0.0
    for rank, j in enumerate(order, 1):
        if rel_row[j]:
            hits += 1
            total += hits / rank
    return total / hits if hits else 0.0


def test_map_equals_sklearn_average_precision_without_ties():
    rng = np.random.default_rng(0)
    dist = rng.random((25, 60))  # continuous: no ties
    labels_q, labels_db = rng.integers(0, 4, 25), rng.integers(0, 4, 60)
    rel = labels_q[:, None] == labels_db[None, :]
    ours = retrieval.average_precisions(dist, rel)
    ref = np.array([average_precision_score(rel[i], -dist[i]) for i in range(25)])
    np.testing.assert_allclose(ours, ref, atol=1e-6)
    assert retrieval.mean_average_precision(dist, rel) == pytest.approx(ref.mean(), abs=1e-6)


def test_hamming_map_ties_follow_database_order():
    rng = np.random.default_rng(1)
    q, db = _codes(rng, 15, 12), _codes(rng, 80, 12)
    lq, ldb = rng.integers(0, 3, 15), rng.integers(0, 3, 80)
    dist = retrieval.hamming_distance(q, db)
    rel = lq[:, None] == ldb[None, :]
    brute = [_brute_ap(dist[i], rel[i]) for i in range(15)]
    np.testing.assert_allclose(retrieval.average_precisions(dist, rel), brute, atol=1e-12)
    metrics = retrieval.retrieval_metrics(q, lq, db, ldb, precision_ks=(5,))
    assert metrics["mAP"] == pytest.approx(np.mean(brute), abs=1e-12)
    order = np.argsort(dist, axis=1, kind="stable")[:, :5]
    assert metrics["precision@5"] == pytest.approx(np.take_along_axis(rel, order, 1).mean())


def test_edge_cases_hand_values():
    # relevant items at ranks 1 and 3: AP = (1/1 + 2/3) / 2
    dist = np.array([[0, 1, 2, 3]])
    rel = np.array([[True, False, True, False]])
    assert retrieval.mean_average_precision(dist, rel) == pytest.approx((1 + 2 / 3) / 2)
    # all tied: database order decides (relevant at index 2 -> rank 3)
    assert retrieval.mean_average_precision(np.zeros((1, 4)), np.array([[0, 0, 1, 0]], bool)) == pytest.approx(1 / 3)
    # no relevant item: AP 0, or left out with skip_empty
    none = np.array([[False] * 4, [True, False, False, False]])
    assert retrieval.mean_average_precision(np.zeros((2, 4)), none) == pytest.approx(0.5)
    assert retrieval.mean_average_precision(np.zeros((2, 4)), none, skip_empty=True) == pytest.approx(1.0)
    assert retrieval.precision_at_k(dist, rel, 2) == pytest.approx(0.5)
    with pytest.raises(BadValueError, match="equal width"):
        retrieval.hamming_distance_packed(np.zeros((2, 2), np.uint8), np.zeros((2, 3), np.uint8))
