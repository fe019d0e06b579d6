"""Topology scores: the Betti distribution distance equals scipy's; the diagram set distance equals the best
permutation on equal-size sets and is 0 for a set against itself; Betti counts of drawn rings."""

import itertools

import numpy as np
import pytest
from scipy.stats import wasserstein_distance as scipy_w1

from official.evaluation.diagram_distance import wasserstein_distance
from official.evaluation.topology_metrics import (
    betti_distribution_distance,
    diagram_set_distance,
    diagrams_of,
    topology_scores,
)


def test_betti_distance_equals_scipy():
    rng = np.random.default_rng(0)
    for _ in range(20):
        a, b = rng.integers(0, 6, rng.integers(1, 9)), rng.integers(0, 6, rng.integers(1, 9))
        assert betti_distribution_distance(a, b) == pytest.approx(scipy_w1(a, b), abs=1e-12)
    assert betti_distribution_distance([2, 2], [2]) == 0.0


def test_set_distance_is_the_best_permutation():
    rng = np.random.default_rng(1)
    diagrams = [np.stack([b, b + rng.random(3)], 1) for b in rng.random((8, 3))]
    a, b = diagrams[:4], diagrams[4:]
    best = min(np.mean([wasserstein_distance(a[i], b[j]) for i, j in enumerate(p)])
               for p in itertools.permutations(range(4)))
    assert diagram_set_distance(a, b) == pytest.approx(best, abs=1e-9)
    assert diagram_set_distance(a, a[::-1]) == pytest.approx(0.0, abs=1e-9)


def _cells(n_rings: int) -> np.ndarray:
    image = np.ones((32, 32))
    for k in range(n_rings):  # disjoint dark squares outlines: one loop each
        r0 = 2 + 10 * k
        image[r0:r0 + 8, 2:10] = -1.0
        image[r0 + 1:r0 + 7, 3:9] = 1.0
    return image


def test_scores_count_loops():
    real = np.stack([_cells(2), _cells(2)])
    fake = np.stack([_cells(1), _cells(3)])
    assert [len(d) for d in diagrams_of(fake, 1, 0.5)] == [1, 3]
    scores = topology_scores(fake, real, 1, 0.5)
    assert scores["betti1_fake_mean"] == 2.0 and scores["betti1_error"] == 0.0
    assert scores["betti1_w1"] == pytest.approx(1.0)
    assert scores["diagram1_distance"] == pytest.approx(1.0)  # one unmatched (-1, 1) point, 1 from the diagonal
    assert topology_scores(real, real, 1, 0.5)["diagram1_distance"] == pytest.approx(0.0, abs=1e-9)
