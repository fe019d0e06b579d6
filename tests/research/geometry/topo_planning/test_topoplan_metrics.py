"""Spec checks 5 and 6: accuracy / PAcc against a numpy reference of train.py's formulas, rollout success and
SPL on a hand-made graph, and the weighted cross-entropy (ones = plain mean; weights clipped at 1000)."""

from __future__ import annotations

import numpy as np
import pytest

from official.evaluation import planning
from research.geometry.topo_planning import losses


def test_accuracy_and_pacc_match_the_original_formulas():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4, 32, 32)).astype(np.float32)
    actions = rng.integers(0, 32, (4, 32))
    actions[:, :10] = np.argmax(logits[:, :10], -1)  # some right answers
    lengths = rng.integers(0, 8, (4, 32))
    flat_pred = np.argmax(logits.reshape(-1, 32), 1)  # train.py views (B*N, N)
    correct = flat_pred == actions.reshape(-1)
    assert planning.action_accuracy(logits, actions) == pytest.approx(correct.sum() / correct.size)
    metrics = planning.PlanningMetrics()
    metrics.update_accuracy(logits, actions, lengths, np.ones((4, 32)))
    result = metrics.result()
    for m in range(2, 7):
        mask = lengths.reshape(-1) >= m
        want = (correct * mask).sum() / (mask.sum() + 1e-8)
        assert planning.path_accuracy(logits, actions, lengths, m) == pytest.approx(want, abs=1e-9)
        assert result[f"pacc_{m}"] == pytest.approx(want, abs=1e-9)
    assert result["action_accuracy"] == pytest.approx(correct.mean())
    assert planning.path_accuracy(logits, actions, np.zeros_like(lengths), 2) == 0.0  # empty mask: 0 / 1e-8
    mask = np.ones((4, 32))
    mask[:, 16:] = 0
    assert planning.action_accuracy(logits, actions, mask) == pytest.approx(correct.reshape(4, 32)[:, :16].mean())


def test_rollout_success_and_spl():
    """Path 0-1-2-3 (unit edges) plus a shortcut 0-3 of length 2.5: optimal from 0 is the shortcut."""
    adj = np.zeros((4, 4))
    for i, j in ((0, 1), (1, 2), (2, 3), (0, 3)):
        adj[i, j] = adj[j, i] = 1
    lengths = np.ones((4, 4))
    lengths[0, 3] = lengths[3, 0] = 2.5
    shortest = np.array([2.5, 2.0, 1.0, 0.0])
    success, spl = planning.rollout_scores(np.array([3, 2, 3, 3]), 3, adj, lengths, shortest)
    assert success == [1.0, 1.0, 1.0] and spl == pytest.approx([1.0, 1.0, 1.0])
    success, spl = planning.rollout_scores(np.array([1, 2, 3, 3]), 3, adj, lengths, shortest)  # the long way
    assert success == [1.0, 1.0, 1.0] and spl[0] == pytest.approx(2.5 / 3.0)
    success, _ = planning.rollout_scores(np.array([2, 0, 3, 3]), 3, adj, lengths, shortest)  # 0-2 is no edge
    assert success == [0.0, 0.0, 1.0]  # 1 -> 0 -> 2 fails too
    success, _ = planning.rollout_scores(np.array([1, 0, 3, 3]), 3, adj, lengths, shortest)  # a loop
    assert success == [0.0, 0.0, 1.0]


def test_weighted_loss_ones_is_mean_cross_entropy_and_clips_at_1000():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(2, 32, 32)).astype(np.float32) * 3
    actions = rng.integers(0, 32, (2, 32))
    shifted = logits - logits.max(-1, keepdims=True)
    ce = -(np.take_along_axis(shifted, actions[..., None], -1)[..., 0] - np.log(np.exp(shifted).sum(-1)))
    plain = float(losses.weighted_action_loss(logits, actions, np.ones((2, 32), np.float32)))
    assert plain == pytest.approx(ce.mean(), rel=1e-5)
    assert float(losses.weighted_action_loss(logits, actions)) == pytest.approx(plain, rel=1e-6)
    weights = rng.uniform(0, 3, (2, 32)).astype(np.float32)
    weights[0, :4] = 5000.0
    want = (ce * np.minimum(weights, 1000.0)).mean()
    assert float(losses.weighted_action_loss(logits, actions, weights)) == pytest.approx(want, rel=1e-5)
    mask = np.ones((2, 32), np.float32)
    mask[1, 20:] = 0
    want = (ce * mask).sum() / mask.sum()
    assert float(losses.weighted_action_loss(logits, actions, None, mask)) == pytest.approx(want, rel=1e-5)
