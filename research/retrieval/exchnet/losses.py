"""ExchNet's training-time ops in keras.ops: feature exchange, asymmetric hashing loss, diversity losses.

- Exchange (Eq. 8): per sample and part, xi ~ U(0, 1); the part keeps its own feature when
  xi >= 1 - keep_prob (keep_prob 0.5: the paper's Bernoulli(0.5)) and takes its class anchor C_y^j
  otherwise. Inference never exchanges.
- Asymmetric loss (Eqs. 9-12, ADSH): sum_ij (u_i . v_j - q S_ij)^2 + gamma sum_i ||v_{idx(i)} - u_i||^2 with
  u = tanh(h), V the database codes (fixed in this step), normalised by batch x database size as ADSH.
- Diversity (Eqs. 5-7, exact forms unverified; the spec's recommended ones, chosen by name):
  spatial "min_overlap" = sum over j < k of sum_hw min(a_j, a_k) of the L1-normalised maps,
  "hellinger" = sum over j < k of sum_hw sqrt(a_j a_k) (Bhattacharyya overlap), "none";
  channel "cosine" = sum over j != k of cos(f_j, f_k) of the part features, "none". Batch means.
"""

from __future__ import annotations

import keras
from keras import ops

SPATIAL_LOSSES = ("min_overlap", "hellinger", "none")
CHANNEL_LOSSES = ("cosine", "none")


def exchange_mask(batch_parts_shape, seed, keep_prob: float = 0.5):
    """(batch, M) float 1 = keep the sample's own part feature, 0 = take the class anchor."""
    draw = keras.random.uniform(batch_parts_shape, seed=seed)
    return ops.cast(draw >= 1.0 - keep_prob, "float32")


def exchange_parts(parts, anchors_of_labels, keep):
    """parts, anchors_of_labels (batch, M, C'), keep (batch, M) -> exchanged parts (Eq. 8)."""
    keep = ops.expand_dims(ops.cast(keep, parts.dtype), -1)
    return keep * parts + (1.0 - keep) * ops.cast(anchors_of_labels, parts.dtype)


def pairwise_hash_loss(u, v, similarity):
    """(u . v - q S)^2 for codes u (n, q), v (m, q) and S (n, m) in {-1, +1}: (n, m) (Eq. 11)."""
    q = ops.cast(ops.shape(u)[-1], u.dtype)
    return ops.square(ops.matmul(u, ops.transpose(v)) - q * similarity)


def similarity(labels_a, labels_b):
    """S (n, m): +1 where the class labels agree, -1 elsewhere."""
    same = ops.equal(ops.expand_dims(labels_a, 1), ops.expand_dims(labels_b, 0))
    return 2.0 * ops.cast(same, "float32") - 1.0


def asymmetric_loss(u, database_codes, sim, own_codes, gamma: float):
    """(sum (u V^T - q S)^2 + gamma sum ||V_idx - u||^2) / (batch x database); returns (total, square, quantisation)."""
    norm = ops.cast(ops.shape(u)[0] * ops.shape(database_codes)[0], "float32")
    square = ops.sum(pairwise_hash_loss(u, database_codes, sim)) / norm
    quant = gamma * ops.sum(ops.square(own_codes - u)) / norm
    return square + quant, square, quant


def _pair_mask(m: int, strict_upper: bool):
    rows = ops.expand_dims(ops.arange(m), 1)
    cols = ops.expand_dims(ops.arange(m), 0)
    return ops.cast(rows < cols if strict_upper else rows != cols, "float32")


def spatial_diversity(maps, kind: str = "min_overlap"):
    """Overlap of the attention maps (batch, h, w, M), batch mean; 0 when no two maps share a position."""
    if kind == "none":
        return ops.zeros(())
    if kind not in SPATIAL_LOSSES:
        raise ValueError(f"spatial_loss: expected one of {SPATIAL_LOSSES}, got {kind!r}")
    m = ops.shape(maps)[-1]
    a = ops.reshape(maps, (ops.shape(maps)[0], -1, m))
    a = a / ops.maximum(ops.sum(a, axis=1, keepdims=True), 1e-8)  # L1 over positions
    aj, ak = ops.expand_dims(a, 3), ops.expand_dims(a, 2)  # (b, hw, M, 1), (b, hw, 1, M)
    pair = ops.minimum(aj, ak) if kind == "min_overlap" else ops.sqrt(aj * ak + 1e-12)
    overlap = ops.sum(pair, axis=1)  # (b, M, M)
    return ops.mean(ops.sum(overlap * _pair_mask(int(maps.shape[-1]), True), axis=(1, 2)))


def channel_diversity(parts, kind: str = "cosine"):
    """sum over j != k of cos(f_j, f_k) of the part features (batch, M, C'), batch mean."""
    if kind == "none":
        return ops.zeros(())
    if kind not in CHANNEL_LOSSES:
        raise ValueError(f"channel_loss: expected one of {CHANNEL_LOSSES}, got {kind!r}")
    f = parts / ops.maximum(ops.sqrt(ops.sum(ops.square(parts), axis=-1, keepdims=True)), 1e-8)
    gram = ops.matmul(f, ops.transpose(f, (0, 2, 1)))
    return ops.mean(ops.sum(gram * _pair_mask(int(parts.shape[1]), False), axis=(1, 2)))
