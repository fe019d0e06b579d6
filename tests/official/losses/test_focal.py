"""Focal loss: ~0 on perfect predictions, positive otherwise, normalised by positives (spec check 4)."""

import numpy as np

from official.losses.focal import masked_smooth_l1, penalty_reduced_focal_loss


def numpy_focal(logits, target):
    p = np.clip(1 / (1 + np.exp(-logits.astype(np.float64))), 1e-4, 1 - 1e-4)
    pos = target == 1
    pos_loss = (np.log(p) * (1 - p) ** 2)[pos].sum()
    neg_loss = (np.log(1 - p) * p**2 * (1 - target) ** 4)[~pos].sum()
    n = pos.sum()
    return -(pos_loss + neg_loss) / n if n else -neg_loss


def test_perfect_prediction_is_zero_and_wrong_is_positive():
    target = np.zeros((2, 8, 8, 3), np.float32)
    target[0, 2, 3, 1] = 1.0
    target[1, 5, 5, 0] = 1.0
    perfect = np.where(target == 1, 30.0, -30.0).astype(np.float32)
    assert abs(float(penalty_reduced_focal_loss(perfect, target))) < 1e-4
    wrong = -perfect
    assert float(penalty_reduced_focal_loss(wrong, target)) > 1.0


def test_matches_numpy_on_gaussian_targets():
    rng = np.random.default_rng(0)
    target = rng.uniform(0, 0.99, (2, 6, 7, 4)).astype(np.float32)
    target[0, 1, 2, 3] = target[1, 4, 4, 0] = target[1, 0, 6, 2] = 1.0
    logits = rng.normal(size=target.shape).astype(np.float32)
    np.testing.assert_allclose(float(penalty_reduced_focal_loss(logits, target)), numpy_focal(logits, target), rtol=1e-5)
    # no positive at all: the sum is not divided
    t0 = np.minimum(target, 0.9)
    np.testing.assert_allclose(float(penalty_reduced_focal_loss(logits, t0)), numpy_focal(logits, t0), rtol=1e-5)


def test_normalised_by_positives_and_masked_rows():
    logits = np.array([[0.3], [-0.2], [1.5], [0.0]], np.float32)
    labels = np.array([[1.0], [0.0], [1.0], [1.0]], np.float32)
    weights = np.array([[1.0], [1.0], [1.0], [0.0]], np.float32)
    got = float(penalty_reduced_focal_loss(logits, labels, weights))
    np.testing.assert_allclose(got, numpy_focal(logits[:3], labels[:3]), rtol=1e-5)
    # doubling every positive entry doubles both sums and N_pos: the loss is unchanged
    twice = float(penalty_reduced_focal_loss(np.concatenate([logits[:3]] * 2), np.concatenate([labels[:3]] * 2)))
    np.testing.assert_allclose(twice, got, rtol=1e-5)


def test_smooth_l1_offsets():
    pred = np.array([[[0.1, 0.2], [0.9, 0.0], [5.0, 5.0]]], np.float32)
    target = np.array([[[0.3, 0.2], [0.4, 2.5], [0.0, 0.0]]], np.float32)
    mask = np.array([[1.0, 1.0, 0.0]], np.float32)
    want = (0.5 * 0.2**2 + 0.5 * 0.5**2 + (2.5 - 0.5)) / (2 + 1e-4)
    np.testing.assert_allclose(float(masked_smooth_l1(pred, target, mask)), want, rtol=1e-5)
