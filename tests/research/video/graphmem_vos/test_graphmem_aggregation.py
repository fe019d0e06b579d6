"""Soft aggregation (research/video/graphmem_vos/aggregation.py): spec check 5 and the release's formula."""

from __future__ import annotations

import numpy as np

from research.video.graphmem_vos.aggregation import soft_aggregate


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_two_objects_give_normalised_odds():
    probs = np.array([0.7, 0.2], np.float32).reshape(1, 1, 1, 2)
    logits = np.asarray(soft_aggregate(probs))[0, 0, 0]
    odds = np.array([0.3 * 0.8 / (1 - 0.24), 0.7 / 0.3, 0.2 / 0.8])  # background 0.3 x 0.8 = 0.24
    np.testing.assert_allclose(_softmax(logits), odds / odds.sum(), atol=1e-5)
    np.testing.assert_allclose(_softmax(logits), [0.109, 0.805, 0.086], atol=1e-3)  # the card's figures


def test_matches_release_formula_with_padded_slots():
    rng = np.random.default_rng(0)
    probs = rng.uniform(0, 1, (2, 3, 4, 3)).astype(np.float32)
    probs[0, 0, 0, 0] = 1.0  # clamped
    mask = np.array([[True, True, False], [True, False, False]])
    got = np.asarray(soft_aggregate(probs, mask))
    for b, n in enumerate(mask.sum(1)):
        em = np.zeros((3, 4, 4))  # Soft_aggregation: K = 4 slots, objects beyond num_objects stay 0
        em[..., 0] = np.prod(1 - probs[b, ..., :n], -1)
        em[..., 1:n + 1] = probs[b, ..., :n]
        em = np.clip(em.astype(np.float32), np.float32(1e-7), np.float32(1 - 1e-7))  # float32, as the release
        np.testing.assert_allclose(got[b], np.log(em / (1 - em)), rtol=1e-4, atol=1e-3)
