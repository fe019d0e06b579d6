"""Diagram distances equal gudhi's (Hera Wasserstein, exact bottleneck) on random diagrams with ties and
essential points; the optimal transport plan equals the assignment on square uniform problems."""

import gudhi  # noqa: E402  required (pyproject dev extra): a missing install fails, never skips
import numpy as np
import pytest
from gudhi import hera  # noqa: E402
from scipy.optimize import linear_sum_assignment

from official.evaluation.diagram_distance import (
    bottleneck_distance,
    optimal_transport_plan,
    wasserstein_distance,
    wasserstein_matching,
)


def _diagram(rng, n, essential=0, ties=False):
    birth = rng.random(n)
    death = birth + rng.random(n)
    if ties:
        birth, death = np.round(birth, 1), np.round(death, 1) + 0.1
    finite = np.stack([birth, death], 1)
    return np.concatenate([finite, np.stack([rng.random(essential), np.full(essential, np.inf)], 1)])


def _pairs(seed=0, count=30):
    rng = np.random.default_rng(seed)
    for t in range(count):
        ess = t % 3
        # Hera's auction does not return when one finite part is empty and delta is small: >= 1 finite point here
        yield _diagram(rng, 1 + rng.integers(0, 8), ess, t % 2 == 0), _diagram(rng, 1 + rng.integers(0, 8), ess, t % 4 == 0)


@pytest.mark.parametrize("order,internal_p", [(1.0, np.inf), (2.0, 2.0), (1.0, 1.0), (2.0, np.inf)])
def test_wasserstein_equals_gudhi_hera(order, internal_p):
    for x, y in _pairs():
        ours = wasserstein_distance(x, y, order, internal_p)
        ref = hera.wasserstein_distance(x, y, order=order, internal_p=internal_p, delta=1e-7)
        assert ours == pytest.approx(ref, rel=1e-6, abs=1e-12)


def test_bottleneck_equals_gudhi_exact():
    for x, y in _pairs(seed=1):
        assert bottleneck_distance(x, y) == pytest.approx(gudhi.bottleneck_distance(x, y, 0), abs=1e-12)


def test_edge_cases():
    empty = np.zeros((0, 2))
    point = np.array([[0.0, 1.0]])
    assert wasserstein_distance(empty, empty) == 0.0 and bottleneck_distance(empty, empty) == 0.0
    assert wasserstein_distance(point, empty) == pytest.approx(0.5)  # to the diagonal, max norm
    assert wasserstein_distance(point, empty, 2.0, 2.0) == pytest.approx(np.sqrt(0.5))
    assert bottleneck_distance(point, empty) == gudhi.bottleneck_distance(point, empty, 0)
    essential = np.array([[0.0, np.inf]])
    assert wasserstein_distance(essential, point) == np.inf  # essential counts differ
    assert bottleneck_distance(essential, point) == np.inf == gudhi.bottleneck_distance(essential, point)
    assert wasserstein_distance(essential, np.array([[0.25, np.inf]])) == 0.25
    with pytest.raises(ValueError, match="births"):
        wasserstein_distance(np.array([[np.inf, 1.0]]), empty)


def test_matching_realises_the_distance():
    rng = np.random.default_rng(5)
    x, y = _diagram(rng, 6), _diagram(rng, 4)
    dist, matching = wasserstein_matching(x, y, order=2.0, internal_p=2.0)
    total = 0.0
    for i, j in matching:
        if i >= 0 and j >= 0:
            total += np.sum((x[i] - y[j]) ** 2)
        else:
            p = x[i] if i >= 0 else y[j]
            total += (p[1] - p[0]) ** 2 / 2
    assert np.sqrt(total) == pytest.approx(dist)
    assert sorted(i for i, _ in matching if i >= 0) == list(range(6))
    assert sorted(j for _, j in matching if j >= 0) == list(range(4))


def test_transport_plan_is_the_assignment_on_square_problems():
    rng = np.random.default_rng(6)
    cost = rng.random((5, 5))
    plan = optimal_transport_plan(cost)
    rows, cols = linear_sum_assignment(cost)
    np.testing.assert_allclose(plan[rows, cols], 0.2, atol=1e-9)
    rect = optimal_transport_plan(rng.random((4, 6)))
    np.testing.assert_allclose(rect.sum(1), 0.25, atol=1e-9)
    np.testing.assert_allclose(rect.sum(0), 1 / 6, atol=1e-9)
