"""Batch-hard triplet loss (card check 6): 0 when every negative is more than the margin farther than every
positive, positive and equal to a hand computation otherwise; label-smoothed CE against its closed form;
center loss."""

from __future__ import annotations

import numpy as np

from official.losses import triplet
from official.losses.classification import SparseLabelSmoothingCrossEntropy


def _np_batch_hard(x, labels, margin):
    d = np.sqrt(np.maximum(((x[:, None] - x[None]) ** 2).sum(-1), 1e-12))
    same = labels[:, None] == labels[None]
    ap = np.where(same, d, -np.inf).max(1)
    an = np.where(same, np.inf, d).min(1)
    return np.maximum(ap - an + margin, 0).mean()


def test_triplet_zero_when_negatives_are_far_enough():
    labels = np.array([0, 0, 1, 1])
    # positives 0.1 apart, negatives >= 1.0 away: every d_an - d_ap > 0.3
    x = np.array([[0.0, 0.0], [0.1, 0.0], [1.0, 1.0], [1.1, 1.0]], np.float32)
    assert float(triplet.batch_hard_triplet_loss(x, labels, 0.3)) == 0.0


def test_triplet_positive_and_equal_to_hand_computation():
    labels = np.array([0, 0, 1, 1])
    x = np.array([[0.0, 0.0], [0.5, 0.0], [0.6, 0.0], [1.5, 0.0]], np.float32)
    # anchor 0: ap 0.5, an 0.6 -> 0.2; anchor 1: ap 0.5, an 0.1 -> 0.7; anchor 2: ap 0.9, an 0.1 -> 1.1; anchor 3: ap 0.9, an 1.0 -> 0.2
    got = float(triplet.batch_hard_triplet_loss(x, labels, 0.3))
    np.testing.assert_allclose(got, (0.2 + 0.7 + 1.1 + 0.2) / 4, atol=1e-5)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 5)).astype(np.float32)
    labels = np.repeat(np.arange(4), 2)
    np.testing.assert_allclose(float(triplet.batch_hard_triplet_loss(x, labels, 0.3)), _np_batch_hard(x, labels, 0.3), atol=1e-5)


def test_label_smoothed_ce_closed_form():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(6, 5)).astype(np.float32)
    labels = rng.integers(0, 5, 6)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    target = np.full((6, 5), 0.1 / 5) + 0.9 * np.eye(5)[labels]  # (1 - eps) y + eps / K
    want = -(target * logp).sum(1).mean()
    got = float(SparseLabelSmoothingCrossEntropy(0.1)(labels, logits))
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_center_loss():
    x = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]], np.float32)
    centers = np.array([[0.0, 0.0], [1.0, 1.0]], np.float32)
    got = float(triplet.center_loss(x, np.array([0, 1, 1]), centers))
    np.testing.assert_allclose(got, (1.0 + 2.0 + 0.0) / 3, atol=1e-5)
