"""RSN heatmap losses: OHKM selection, visibility masks, kernel assignment and level weights.

Expected values come from the spec card's checks (OHKM of 0..16 = 12.5) and from a NumPy transcription
of the rules the spec and the authors' lib/utils/loss.py state, never from the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from official.losses.keypoint_mse import RSNLoss, keypoint_mse, keypoint_ohkm_mse, rsn_loss

K, H, W = 17, 8, 6


def gaussian_maps(centers, sigma=1.5, shift=0.0):
    """(K, H, W) -> channels-last (H, W, K) Gaussians peaking at 255 (the official target scale)."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    maps = [255.0 * np.exp(-((yy - cy) ** 2 + (xx - cx - shift) ** 2) / (2 * sigma**2)) for cy, cx in centers]
    return np.stack(maps, axis=-1).astype(np.float32)


def per_keypoint_constant_error(values):
    """pred - target whose per-keypoint mean squared error equals `values` exactly."""
    target = np.zeros((1, H, W, K), np.float32)
    pred = np.sqrt(np.asarray(values, np.float32))[None, None, None, :] * np.ones((1, H, W, K), np.float32)
    return pred, target


def test_ohkm_keeps_the_8_hardest_of_17():
    pred, target = per_keypoint_constant_error(np.arange(K))
    valid = np.full((1, K), 2.0, np.float32)
    assert float(keypoint_ohkm_mse(pred, target, valid)) == pytest.approx(12.5, rel=1e-6)  # mean(9..16)


def test_ohkm_excludes_unlabelled_keypoints():
    pred, target = per_keypoint_constant_error(np.arange(K))
    valid = np.full((1, K), 2.0, np.float32)
    valid[0, [16, 15]] = 0.0  # unlabelled / outside the crop: masked; v = 1 (occluded) still counts
    valid[0, 14] = 1.0
    assert float(keypoint_ohkm_mse(pred, target, valid)) == pytest.approx(np.mean(np.arange(7, 15)), rel=1e-6)
    # With fewer than 8 labelled keypoints the zeros of the masked ones fill the top 8 (mean divides by 8).
    valid = np.zeros((1, K, 1), np.float32)
    valid[0, :3] = 2.0
    assert float(keypoint_ohkm_mse(pred, target, valid)) == pytest.approx((0 + 1 + 2) / 8, rel=1e-6)


def test_plain_level_zeroes_targets_of_keypoints_not_visible():
    rng = np.random.default_rng(0)
    target = rng.uniform(0, 255, size=(2, H, W, K)).astype(np.float32)
    pred = np.zeros_like(target)
    valid = np.full((2, K), 1.0, np.float32)  # v = 1: not > 1, the target becomes 0 and so does the loss
    assert float(keypoint_mse(pred, target, valid)) == 0.0
    valid[:, 0] = 2.0
    expected = np.mean(np.square(target[..., 0])) / K
    assert float(keypoint_mse(pred, target, valid)) == pytest.approx(expected, rel=1e-5)


def _targets(batch=2, shift=0.0):
    """(batch, 5, H, W, K) targets for kernels 15, 11, 9, 7, 5 (sigmas shrinking coarse -> fine)."""
    rng = np.random.default_rng(1)
    centers = rng.uniform([1, 1], [H - 2, W - 2], size=(K, 2))
    return np.stack(
        [np.stack([gaussian_maps(centers, sigma, shift) for sigma in (3.0, 2.2, 1.8, 1.4, 1.0)])] * batch
    ).astype(np.float32)


def test_zero_for_perfect_predictions_and_grows_with_shift():
    targets = _targets()
    valid = np.full((2, K), 2.0, np.float32)
    stages, levels = 2, 4
    # Stage 0 levels predict kernels 0..3 (15..7 px), the last stage kernels 1..4 (11..5 px).
    perfect = np.stack([targets[:, [0, 1, 2, 3]], targets[:, [1, 2, 3, 4]]], axis=1)
    assert perfect.shape == (2, stages, levels, H, W, K)
    assert float(rsn_loss(perfect, targets, valid)) == 0.0
    losses = []
    for shift in (0.5, 1.0, 2.0):
        moved = _targets(shift=shift)
        pred = np.stack([moved[:, [0, 1, 2, 3]], moved[:, [1, 2, 3, 4]]], axis=1)
        losses.append(float(rsn_loss(pred, targets, valid)))
    assert 0.0 < losses[0] < losses[1] < losses[2]
    # Without coarse-to-fine the last stage also takes kernels 0..3: the same predictions are now wrong.
    assert float(rsn_loss(perfect, targets, valid, coarse_to_fine=False)) > 0.0


def numpy_rsn_loss(preds, targets, valid, top_k=8):
    """Transcription of the stated rules: plain MSE (targets * [v > 1]) / 4 on levels 0-2, OHKM top-k of
    per-keypoint MSE * [v > 0] on level 3; last stage shifted one kernel sharper; sum over all."""
    preds, targets, valid = (a.astype(np.float64) for a in (preds, targets, valid))
    num_stages = preds.shape[1]
    total = 0.0
    for s in range(num_stages):
        shift = 1 if s == num_stages - 1 else 0
        for j in range(4):
            p, t = preds[:, s, j], targets[:, j + shift]
            if j < 3:
                t = t * (valid > 1)[:, None, None, :]
                total += np.mean((p - t) ** 2) / 4
            else:
                per = np.mean((p - t) ** 2, axis=(1, 2)) * (valid > 0)
                total += np.mean(np.sort(per, axis=-1)[:, -top_k:].mean(axis=-1))
    return total


@pytest.mark.parametrize("stages", [1, 2])
def test_matches_numpy_transcription(stages):
    rng = np.random.default_rng(stages)
    targets = rng.uniform(0, 255, size=(3, 5, H, W, K)).astype(np.float32)
    preds = rng.normal(100, 60, size=(3, stages, 4, H, W, K)).astype(np.float32)
    valid = rng.integers(0, 3, size=(3, K)).astype(np.float32)
    expected = numpy_rsn_loss(preds, targets, valid)
    total, terms = rsn_loss(preds, targets, valid, return_terms=True)
    assert float(total) == pytest.approx(expected, rel=1e-5)
    assert sorted(terms) == [f"stage{s}_level{j}" for s in range(stages) for j in range(4)]
    assert float(sum(terms.values())) == pytest.approx(expected, rel=1e-5)
    loss = RSNLoss()
    assert float(loss({"targets": targets, "valid": valid}, preds)) == pytest.approx(expected, rel=1e-5)
    assert RSNLoss.from_config(loss.get_config()).get_config() == loss.get_config()
    xla = tf.function(lambda p, t, v: rsn_loss(p, t, v), jit_compile=True)
    assert float(xla(preds, targets, valid)) == pytest.approx(expected, rel=1e-5)


def test_too_few_kernels_is_an_error():
    with pytest.raises(ValueError, match="target kernels"):
        rsn_loss(np.zeros((1, 1, 4, H, W, K), np.float32), np.zeros((1, 4, H, W, K), np.float32), np.ones((1, K)))
