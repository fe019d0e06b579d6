"""PK identity sampling for metric learning (reid-strong-baseline `RandomIdentitySampler`).

One epoch: each identity's images are shuffled (identities with fewer than K images are drawn with
replacement up to K) and cut into groups of K (a remainder below K is dropped); then P identities that
still have groups are drawn at random, one group each, until fewer than P identities are left. The
epoch's length is fixed by the data: sum over identities of max(n, K) - max(n, K) mod K (the official
`__len__`), of which the whole P x K batches are used.
"""

from __future__ import annotations

import numpy as np


def epoch_length(pids: np.ndarray, k: int) -> int:
    """Examples in one sampler epoch (the official estimate, before cutting into whole batches)."""
    counts = np.maximum(np.unique(np.asarray(pids), return_counts=True)[1], k)
    return int(np.sum(counts - counts % k))


def pk_epoch(pids: np.ndarray, p: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of one epoch, a whole number of consecutive P x K batches (each: P identities x K images)."""
    pids = np.asarray(pids)
    groups: dict[int, list[np.ndarray]] = {}
    for pid in np.unique(pids):
        index = np.flatnonzero(pids == pid)
        if len(index) < k:
            index = rng.choice(index, size=k, replace=True)
        index = rng.permutation(index)
        groups[int(pid)] = [index[i:i + k] for i in range(0, len(index) - k + 1, k)]
    available = sorted(groups)
    batches = []
    while len(available) >= p:
        chosen = rng.choice(len(available), size=p, replace=False)
        picked = [available[i] for i in chosen]
        batches.append(np.concatenate([groups[pid].pop(0) for pid in picked]))
        available = [pid for pid in available if groups[pid]]
    return np.concatenate(batches) if batches else np.zeros((0,), np.int64)


def pk_indices(pids: np.ndarray, p: int, k: int, epochs: int, seed: int = 0) -> np.ndarray:
    """`epochs` sampler epochs back to back (each reshuffled): the index stream of a training run."""
    if p < 1 or k < 1:
        raise ValueError(f"PK sampler: P and K must be >= 1, got P={p}, K={k}")
    if len(np.unique(pids)) < p:
        raise ValueError(f"PK sampler: {len(np.unique(pids))} identities cannot fill P={p} per batch")
    rng = np.random.default_rng(seed)
    return np.concatenate([pk_epoch(pids, p, k, rng) for _ in range(epochs)]).astype(np.int64)
