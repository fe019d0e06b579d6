"""ExchNet's ops: exchange (spec check 3), asymmetric loss (check 4), DCC descent (check 5), diversity losses."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from research.retrieval.exchnet import dcc, losses


def test_exchange_fraction_and_selection():
    keep = np.asarray(losses.exchange_mask((2500, 4), keras.random.SeedGenerator(3)))
    assert keep.size == 10_000 and abs(1.0 - keep.mean() - 0.5) <= 0.02  # swapped fraction 0.5 +/- 0.02
    again = np.asarray(losses.exchange_mask((2500, 4), keras.random.SeedGenerator(3)))
    np.testing.assert_array_equal(keep, again)  # seeded: the same draws
    rng = np.random.default_rng(0)
    parts, anchors = rng.normal(size=(3, 4, 5)), rng.normal(size=(3, 4, 5))
    mask = np.array([[1, 0, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1]], np.float32)
    mixed = np.asarray(losses.exchange_parts(parts.astype("float32"), anchors.astype("float32"), mask))
    np.testing.assert_allclose(mixed, np.where(mask[..., None] > 0, parts, anchors), rtol=1e-6)
    skewed = np.asarray(losses.exchange_mask((2000, 5), keras.random.SeedGenerator(1), keep_prob=0.8))
    assert abs(skewed.mean() - 0.8) < 0.02


def test_asymmetric_pair_loss_minima():
    q = 12
    rng = np.random.default_rng(1)
    u = rng.choice([-1.0, 1.0], size=(1, q)).astype("float32")
    assert float(losses.pairwise_hash_loss(u, u, np.ones((1, 1), "float32"))[0, 0]) == 0.0
    # S = -1: over codes at every Hamming distance from u, the loss is minimal (0) only at u.v = -q
    values = []
    for flips in range(q + 1):
        v = u.copy()
        v[0, :flips] *= -1
        values.append(float(losses.pairwise_hash_loss(u, v, -np.ones((1, 1), "float32"))[0, 0]))
    assert int(np.argmin(values)) == q and values[q] == 0.0 and min(values[:q]) > 0
    np.testing.assert_allclose(values, [(q - 2 * f + q) ** 2 for f in range(q + 1)])
    # the batch loss: square term + gamma quantisation, over batch x database
    v_db = rng.choice([-1.0, 1.0], size=(5, q)).astype("float32")
    u2 = np.tanh(rng.normal(size=(3, q))).astype("float32")
    sim = np.asarray(losses.similarity(np.array([0, 1, 0]), np.array([0, 0, 1, 1, 2])))
    total, square, quant = losses.asymmetric_loss(u2, v_db, sim, v_db[:3], 7.0)
    ref_sq = np.sum((u2 @ v_db.T - q * sim) ** 2) / 15
    assert float(square) == pytest.approx(ref_sq, rel=1e-5)
    assert float(quant) == pytest.approx(7.0 * np.sum((v_db[:3] - u2) ** 2) / 15, rel=1e-5)
    assert float(total) == pytest.approx(float(square) + float(quant), rel=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_dcc_sweep_never_increases_the_objective(seed):
    rng = np.random.default_rng(seed)
    n, m, q, gamma = 40, 15, 12, 200.0 if seed % 2 else 3.0
    labels = rng.integers(0, 4, n)
    omega = np.sort(rng.choice(n, m, replace=False))
    u = np.tanh(rng.normal(size=(m, q)))
    sim = dcc.similarity_matrix(labels[omega], labels)
    v = rng.choice([-1.0, 1.0], size=(n, q))
    values = [dcc.objective(v, u, sim, omega, gamma)]
    for _ in range(3):
        v = dcc.dcc_update(v, u, sim, omega, gamma)
        values.append(dcc.objective(v, u, sim, omega, gamma))
    assert np.all(np.diff(values) <= 1e-6 * values[0]) and values[-1] < values[0]
    assert set(np.unique(v)) <= {-1.0, 1.0}
    # each bit is an exact minimiser: flipping any single column entry never helps
    base = values[-1]
    for i, k in [(0, 0), (omega[0], 3), (n - 1, q - 1)]:
        w = v.copy()
        w[i, k] *= -1
        assert dcc.objective(w, u, sim, omega, gamma) >= base - 1e-6 * base


def test_diversity_losses_hand_values():
    m = 3
    disjoint = np.zeros((1, 3, 1, m), "float32")
    for j in range(m):
        disjoint[0, j, 0, j] = 1.0
    same = np.ones((2, 2, 2, m), "float32")
    assert float(losses.spatial_diversity(disjoint)) == 0.0
    assert float(losses.spatial_diversity(same)) == pytest.approx(m * (m - 1) / 2)
    assert float(losses.spatial_diversity(same, "hellinger")) == pytest.approx(m * (m - 1) / 2, rel=1e-4)
    assert float(losses.spatial_diversity(same, "none")) == 0.0
    eye = np.eye(m, dtype="float32")[None]
    assert float(losses.channel_diversity(eye)) == pytest.approx(0.0, abs=1e-6)
    assert float(losses.channel_diversity(np.ones((1, m, 4), "float32"))) == pytest.approx(m * (m - 1), rel=1e-5)
    with pytest.raises(ValueError, match="spatial_loss"):
        losses.spatial_diversity(same, "l2")
