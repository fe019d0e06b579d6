"""PointContrast's two objectives on matched voxels of two views (lib/ddp_trainer.py), in keras.ops.

Both take the flat per-voxel features of a batch, f0 (N0, C) and f1 (N1, C), and the positive matches
`matches` (N0, K): for each view-0 voxel the view-1 voxels within the match radius (flat indices,
valid entries first, -1 after; `flat_matches`). Random choices use keras.random with the given seed
(a SeedGenerator in training), and every count is static (top-k over random scores of valid items).
- PointInfoNCE (`PointNCELossTrainer`): the view-0 voxels with a match are the queries, one random match
  of each is its key, npos (4,096) pairs are drawn; logits = q k^T / tau; cross-entropy with the diagonal
  as the target.
- Hardest-contrastive (FCGF, `HardestContrastiveLossTrainer`): num_pos positive pairs and num_hn
  candidate voxels per view; positive loss mean ReLU(|f0 - f1|^2 - pos_thresh); for each positive, the
  nearest candidate of the other view (Euclidean, sqrt(d^2 + 1e-7)) that is not a true match gives
  ReLU(neg_thresh - d)^2; total = pos + (neg01 + neg10) / 2.
"""

from __future__ import annotations

import keras
from keras import ops


def flat_matches(matches):
    """(B, V, K) per-sample match indices -> (B * V, K) indices into the flattened batch (-1 kept)."""
    batch, capacity, k = ops.shape(matches)[0], ops.shape(matches)[1], matches.shape[-1]
    offsets = (ops.arange(batch, dtype="int32") * capacity)[:, None, None]
    m = ops.cast(matches, "int32")
    return ops.reshape(ops.where(m >= 0, m + offsets, -1), (-1, k))


def _random_pick(valid, count: int, seed):
    """Indices of `count` distinct random entries of valid (N,), valid ones first, and their validity."""
    scores = ops.where(valid, keras.random.uniform(ops.shape(valid), seed=seed), -1.0)
    _, idx = ops.top_k(scores, count)
    return ops.cast(idx, "int32"), ops.take(valid, idx)


def sample_infonce_pairs(matches, valid0, npos: int, seed=None):
    """(q, k, valid) (npos,): one random match k per query q, npos distinct queries with a match."""
    n = matches.shape[0]
    count = ops.sum(ops.cast(matches >= 0, "int32"), axis=1)
    has = (count > 0) & ops.cast(valid0, "bool")
    u = keras.random.uniform((ops.shape(matches)[0],), seed=seed)
    j = ops.minimum(ops.cast(ops.floor(u * ops.cast(count, "float32")), "int32"), ops.maximum(count - 1, 0))
    keys = ops.take_along_axis(matches, j[:, None], axis=1)[:, 0]
    q, ok = _random_pick(has, min(npos, n) if n is not None else npos, seed)
    return q, ops.maximum(ops.take(keys, q), 0), ok


def point_info_nce(f0, f1, q, k, valid, tau: float):
    """Mean cross-entropy of logits (F0[q] F1[k]^T) / tau with the diagonal as the positive class."""
    logits = ops.matmul(ops.take(f0, q, axis=0), ops.transpose(ops.take(f1, k, axis=0))) / tau
    logits = ops.where(valid[None, :], logits, -1e9)  # absent pairs are no candidates
    ce = ops.logsumexp(logits, axis=1) - ops.diagonal(logits)
    w = ops.cast(valid, ce.dtype)
    return ops.sum(ce * w) / ops.maximum(ops.sum(w), 1.0)


def _dist(a, b):
    d2 = ops.sum(ops.square(a[:, None, :] - b[None, :, :]), axis=-1)
    return ops.sqrt(ops.maximum(d2, 0.0) + 1e-7)


def _masked_mean(x, w):
    w = ops.cast(w, x.dtype)
    return ops.sum(x * w) / ops.maximum(ops.sum(w), 1.0)


def hardest_contrastive(f0, f1, matches, valid0, valid1, num_pos: int, num_hn: int,
                        pos_thresh: float = 0.1, neg_thresh: float = 1.4, seed=None) -> dict:
    """{"loss", "pos_loss", "neg_loss"} of the hardest-negative contrastive loss."""
    n0, k = matches.shape[0], matches.shape[1]
    n1 = f1.shape[0]
    pair_valid = ops.reshape((matches >= 0) & ops.cast(valid0, "bool")[:, None], (-1,))
    pick, pos_ok = _random_pick(pair_valid, min(num_pos, n0 * k), seed)
    pos0 = pick // k
    pos1 = ops.maximum(ops.take(ops.reshape(matches, (-1,)), pick), 0)
    sel0, ok0 = _random_pick(ops.cast(valid0, "bool"), min(num_hn, n0), seed)
    sel1, ok1 = _random_pick(ops.cast(valid1, "bool"), min(num_hn, n1), seed)
    pf0, pf1 = ops.take(f0, pos0, axis=0), ops.take(f1, pos1, axis=0)
    far = 1e6
    d01 = ops.where(ok1[None, :], _dist(pf0, ops.take(f1, sel1, axis=0)), far)
    d10 = ops.where(ok0[None, :], _dist(pf1, ops.take(f0, sel0, axis=0)), far)
    nn01 = ops.take(sel1, ops.cast(ops.argmin(d01, axis=1), "int32"))  # view-1 voxel nearest each positive's f0
    nn10 = ops.take(sel0, ops.cast(ops.argmin(d10, axis=1), "int32"))
    # a "negative" that is a true match of the anchor is no negative (the official hash test)
    true01 = ops.any(ops.take(matches, pos0, axis=0) == nn01[:, None], axis=1)
    true10 = ops.any(ops.take(matches, nn10, axis=0) == pos1[:, None], axis=1)
    pos_loss = _masked_mean(ops.relu(ops.sum(ops.square(pf0 - pf1), axis=1) - pos_thresh), pos_ok)
    neg01 = _masked_mean(ops.square(ops.relu(neg_thresh - ops.min(d01, axis=1))), pos_ok & ~true01)
    neg10 = _masked_mean(ops.square(ops.relu(neg_thresh - ops.min(d10, axis=1))), pos_ok & ~true10)
    neg_loss = (neg01 + neg10) / 2
    return {"loss": pos_loss + neg_loss, "pos_loss": pos_loss, "neg_loss": neg_loss}
