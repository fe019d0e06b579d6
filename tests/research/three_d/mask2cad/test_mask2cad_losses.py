"""Spec card check 3 (embedding loss) and the head losses against numpy / torch references."""

import numpy as np
import torch

from research.three_d.mask2cad import losses


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _reference_embed(e, v, pos, neg, tau=0.15, c=1.5, hard=None):
    """The card's exp form, row by row, in float64."""
    s = _unit(e) @ _unit(v).T / tau
    rows = []
    for i in range(len(e)):
        sn = s[i][neg[i] > 0]
        if hard is not None:
            sn = np.sort(sn)[::-1][:hard]
        noise = c * np.sum(np.exp(sn))
        sp = s[i][pos[i] > 0]
        if len(sp):
            rows.append(np.mean(-np.log(np.exp(sp) / (np.exp(sp) + noise))))
    return np.mean(rows)


def test_check3_equal_similarities_give_log_one_plus_c_n():
    v = np.tile([[0.3, -0.2, 0.9, 0.1]], (8, 1))  # all views the same: every similarity is equal
    e = np.array([[1.0, 2.0, -1.0, 0.5]])
    pos = np.array([[1, 1, 0, 0, 0, 0, 0, 0]], np.float32)
    neg = np.array([[0, 0, 1, 1, 1, 1, 1, 0]], np.float32)
    value = float(losses.embedding_loss(e, v, pos, neg))
    np.testing.assert_allclose(value, np.log(1 + 1.5 * 5), rtol=1e-5)


def test_check3_decreases_towards_positives_and_matches_reference():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(12, 16))
    pos = np.zeros((1, 12), np.float32)
    pos[0, 0] = 1
    neg = np.zeros((1, 12), np.float32)
    neg[0, 3:10] = 1
    start = rng.normal(size=16)
    target = _unit(v[0])
    values = []
    for a in np.linspace(0.0, 0.6, 5):  # (the optimum also moves away from negatives)
        e = ((1 - a) * _unit(start) + a * _unit(target))[None]
        values.append(float(losses.embedding_loss(e, v, pos, neg)))
        np.testing.assert_allclose(values[-1], _reference_embed(e, v, pos, neg), rtol=1e-4)
    assert np.all(np.diff(values) < 0), values


def test_embedding_loss_batch_hard_negatives_and_padding():
    rng = np.random.default_rng(1)
    e, v = rng.normal(size=(5, 8)), rng.normal(size=(10, 8))
    pos = (rng.random((5, 10)) < 0.2).astype(np.float32)
    pos[:, 0] = 1
    neg = ((rng.random((5, 10)) < 0.6) & (pos == 0)).astype(np.float32)
    np.testing.assert_allclose(float(losses.embedding_loss(e, v, pos, neg)), _reference_embed(e, v, pos, neg),
                               rtol=1e-4)
    np.testing.assert_allclose(float(losses.embedding_loss(e, v, pos, neg, num_hard_negatives=2)),
                               _reference_embed(e, v, pos, neg, hard=2), rtol=1e-4)
    valid = np.array([1, 1, 0, 1, 0], np.float32)
    np.testing.assert_allclose(float(losses.embedding_loss(e, v, pos, neg, valid=valid)),
                               _reference_embed(e[valid > 0], v, pos[valid > 0], neg[valid > 0]), rtol=1e-4)


def test_head_losses_match_torch():
    rng = np.random.default_rng(2)
    r, c = 6, 3
    classes = rng.integers(0, c, r)
    logits = rng.normal(size=(r, c, 16)).astype(np.float32)
    bins = rng.integers(0, 16, r)
    deltas = rng.normal(scale=0.3, size=(r, c, 4)).astype(np.float32)
    delta_t = rng.normal(scale=0.3, size=(r, 4)).astype(np.float32)
    offsets = rng.normal(scale=0.2, size=(r, c, 2)).astype(np.float32)
    offset_t = rng.normal(scale=0.2, size=(r, 2)).astype(np.float32)
    idx = torch.arange(r), torch.as_tensor(classes)
    ce = torch.nn.functional.cross_entropy(torch.as_tensor(logits)[idx], torch.as_tensor(bins))
    np.testing.assert_allclose(float(losses.rotation_classification_loss(logits, classes, bins)), ce.item(),
                               rtol=1e-5)
    hub = torch.nn.functional.huber_loss(torch.as_tensor(deltas)[idx], torch.as_tensor(delta_t), delta=0.15)
    np.testing.assert_allclose(float(losses.rotation_residual_loss(deltas, classes, delta_t)), hub.item(), rtol=1e-5)
    hub = torch.nn.functional.huber_loss(torch.as_tensor(offsets)[idx], torch.as_tensor(offset_t), delta=0.15)
    np.testing.assert_allclose(float(losses.centre_loss(offsets, classes, offset_t)), hub.item(), rtol=1e-5)
    valid = np.array([1, 0, 1, 1, 0, 1], np.float32)
    keep = valid > 0
    ce = torch.nn.functional.cross_entropy(torch.as_tensor(logits[keep])[torch.arange(keep.sum()),
                                                                        torch.as_tensor(classes[keep])],
                                           torch.as_tensor(bins[keep]))
    np.testing.assert_allclose(float(losses.rotation_classification_loss(logits, classes, bins, valid)), ce.item(),
                               rtol=1e-5)
