"""The topological loss: its gradient is non-zero exactly at the critical pixels and equals finite
differences there; a gradient step moves the diagram towards its target; the OT assignment recovers a
permutation of the references."""

import numpy as np
import pytest
import tensorflow as tf

from official.evaluation.diagram_distance import wasserstein_distance
from official.losses.topology import generated_diagrams, topological_loss, topology_targets
from official.ops.cubical_persistence import cubical_persistence


def _loss_and_grad(images, targets):
    x = tf.constant(images, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = topological_loss(x, targets)
    return float(loss), tape.gradient(loss, x).numpy()


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(0)
    images = rng.random((2, 12, 12))  # distinct values: critical pixels are stable under a small step
    references = [np.array([[0.1, 0.9], [0.3, 0.5]]), np.array([[0.2, 0.95]])]
    return images, references, topology_targets(images, references, dimension=1, max_points=32)


def test_gradient_is_nonzero_exactly_at_critical_pixels(case):
    images, _, targets = case
    _, grad = _loss_and_grad(images, targets)
    expected = np.zeros_like(images).reshape(2, -1)
    for i in range(2):
        m = targets["mask"][i] > 0
        for key, value in (("birth_index", "target_birth"), ("death_index", "target_death")):
            idx = targets[key][i, m]
            np.add.at(expected[i], idx, 2.0 * (images[i].ravel()[idx] - targets[value][i, m]) / 2.0)
    np.testing.assert_allclose(grad.reshape(2, -1), expected, rtol=1e-5, atol=1e-7)
    critical = set(targets["birth_index"][0, targets["mask"][0] > 0]) | set(targets["death_index"][0, targets["mask"][0] > 0])
    assert set(np.flatnonzero(grad[0])) <= critical and len(np.flatnonzero(grad[0])) > 0


def test_gradient_equals_finite_differences(case):
    images, references, targets = case
    _, grad = _loss_and_grad(images, targets)
    eps = 1e-6
    for pixel in list(targets["death_index"][0, :3]) + list(targets["birth_index"][0, :3]) + [0, 7]:
        plus, minus = images.copy(), images.copy()
        plus[0].flat[pixel] += eps
        minus[0].flat[pixel] -= eps
        # the critical pixels and the matching are recomputed: they do not change under a small step
        lp = _loss_and_grad(plus, topology_targets(plus, references, 1, 32))[0]
        lm = _loss_and_grad(minus, topology_targets(minus, references, 1, 32))[0]
        assert (lp - lm) / (2 * eps) == pytest.approx(grad[0].flat[pixel], abs=1e-5)


def test_a_gradient_step_moves_the_diagram_towards_its_target(case):
    images, references, targets = case
    before = [wasserstein_distance(d.points, references[r], 2.0, 2.0)
              for d, r in zip(generated_diagrams(images, 1, 32), targets["reference"], strict=False)]
    _, grad = _loss_and_grad(images, targets)
    moved = images - 0.05 * grad
    after = [wasserstein_distance(d.points, references[r], 2.0, 2.0)
             for d, r in zip(generated_diagrams(moved, 1, 32), targets["reference"], strict=False)]
    assert all(a < b for a, b in zip(after, before, strict=False)), (before, after)


def test_assignment_recovers_permuted_references_and_zero_loss():
    rng = np.random.default_rng(1)
    images = rng.random((3, 10, 10))
    own = [d.points for d in generated_diagrams(images, 1, 64)]
    targets = topology_targets(images, [own[2], own[0], own[1]], 1, 64)
    np.testing.assert_array_equal(targets["reference"], [1, 2, 0])
    assert _loss_and_grad(images, targets)[0] == pytest.approx(0.0, abs=1e-12)


def test_dimension_zero_skips_the_essential_class():
    image = np.random.default_rng(2).random((1, 8, 8))
    targets = topology_targets(image, [np.zeros((0, 2))], dimension=0, max_points=64)
    assert int(targets["mask"].sum()) == len(cubical_persistence(image[0], (0,))[0]) - 1
