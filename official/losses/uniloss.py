"""UniLoss (Liu, Wang, Deng, ECCV 2020): a surrogate loss built from the metric itself.

A batch metric is refactored as scores -> pairwise differences d = s_a - s_b -> binary vector
b = sign(d) -> M(b). Training relaxes b to b~ = 2 sigmoid(d) - 1 and replaces M by an inverse-distance
weighted (IDW) interpolation over anchor binary vectors b_k whose metric values M(b_k) are computed
exactly: M~(b~) = sum_k w_k M(b_k) / sum_k w_k, w_k = 1 / ||b~ - b_k||. The loss is -M~.

Everything here is fixed-shape keras.ops code (runs under XLA and on JAX): a task lays its comparisons
out as a dense tensor of differences with a `valid` mask (entries outside the mask are 0 in b~ and in
every anchor, so they add nothing to any distance), instead of the variable-length vectors of the
official code (princeton-vl/uniloss). Anchor values are constants (stop_gradient); autodiff of M~ gives
the gradient. `gradient="official"` instead reproduces the official hand-written backward, whose
normalisation term has the opposite sign to d M~ / d b~ (see the model card, official/training/uniloss).

Anchor sampling follows the official code (nsingle = 16, 49 anchors): the all-correct vector; 16
"good" anchors = all-correct with one random valid bit flipped; 16 "nearby" anchors = sign(b~) with
one random bit among those that differ from all-correct flipped (if none differ: all-correct with one
random flip); 16 "bad" anchors = uniformly random signs.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import ops

GRADIENTS = ("exact", "official")


def _float(x):
    """float64 stays float64 (gradient checks); anything else becomes float32."""
    x = ops.convert_to_tensor(x)
    return x if keras.backend.standardize_dtype(x.dtype) == "float64" else ops.cast(x, "float32")


def relax(d):
    """b~ = 2 sigmoid(d) - 1 in (-1, 1): the continuous stand-in for sign(d)."""
    return 2.0 * ops.sigmoid(d) - 1.0


def hard_sign(x, valid):
    """sign(x) on valid entries (+1 for x > 0, -1 otherwise: a tie counts as a wrong comparison), 0 elsewhere."""
    return ops.where(valid, ops.where(x > 0, 1.0, -1.0), 0.0)


def idw_interpolate(b, anchors, values):
    """M~(b) = sum_k M(b_k) / ||b - b_k|| / sum_k 1 / ||b - b_k|| (IDW, power 1).

    b: (N,) relaxed binaries; anchors: (K, N); values: (K,) metric values (constants).
    """
    b = _float(b)
    anchors = ops.stop_gradient(ops.cast(anchors, b.dtype))
    return idw_from_squared_distances(ops.sum(ops.square(b[None, :] - anchors), axis=-1), values)


def idw_from_squared_distances(sq, values):
    """IDW of `values` (K,) with weights 1 / sqrt(sq) (K,). When the point lies on an anchor (sq exactly
    0: sigmoid saturates in float32 for |d| > ~17), M~ is the mean value of the anchors at distance 0
    and its gradient is 0 there, instead of inf / inf."""
    sq = _float(sq)
    values = ops.stop_gradient(ops.cast(values, sq.dtype))
    at_anchor = sq <= 0.0
    dist = ops.sqrt(ops.where(at_anchor, 1.0, sq))  # safe sqrt: no inf gradient at 0
    weights = 1.0 / dist
    idw = ops.sum(weights * values) / ops.sum(weights)
    hit = ops.cast(at_anchor, sq.dtype)
    on_anchor = ops.sum(hit * values) / ops.maximum(ops.sum(hit), 1.0)
    return ops.where(ops.any(at_anchor), ops.stop_gradient(on_anchor), idw)


def official_gradient_surrogate(b, anchors, loss_values):
    """A scalar whose value is the IDW interpolation of `loss_values` and whose gradient w.r.t. b is the
    official backward: g_j = -(1/S) sum_k (u_k + f)(b_j - b_kj) / dist_k^3 with S = sum_k 1/dist_k,
    f = sum_k u_k / dist_k / S (the exact derivative has (u_k - f)). u_k = -M(b_k), as in the code."""
    b = _float(b)
    anchors = ops.stop_gradient(ops.cast(anchors, b.dtype))
    u = ops.stop_gradient(ops.cast(loss_values, b.dtype))
    sq = ops.sum(ops.square(b[None, :] - anchors), axis=-1)
    dist = ops.sqrt(ops.maximum(sq, 1e-12))
    inv = 1.0 / dist
    s = ops.stop_gradient(ops.sum(inv))
    f = ops.stop_gradient(ops.sum(u * inv) / s)
    g = ops.sum(inv * ops.stop_gradient((u + f) / s))
    return f + g - ops.stop_gradient(g)


def _random_valid_index(uniform, mask):
    """Per row of `mask` (R, N): a uniformly random index among its True entries (any index if none)."""
    scores = ops.where(mask, uniform, -1.0)
    return ops.argmax(scores, axis=-1)


def sample_anchors(correct, current, valid, num_single: int = 16, seed=None):
    """(1 + 3 num_single, N) anchor binaries, official recipe (module docstring); masked entries are 0.

    correct: (N,) the all-correct binary vector (+-1 on valid entries); current: (N,) sign(b~) of the
    prediction; valid: (N,) bool. `seed`: a keras.random.SeedGenerator (a fresh draw per call: one set
    of anchors per step) or an int (fixed anchors).
    """
    correct = ops.cast(correct, "float32")
    current = ops.cast(current, "float32")
    n = ops.shape(correct)[0]
    validf = ops.cast(valid, "float32")
    seed = seed if isinstance(seed, keras.random.SeedGenerator) else keras.random.SeedGenerator(seed)
    u = keras.random.uniform((3 * num_single, n), seed=seed)
    signs = ops.where(keras.random.uniform((num_single, n), seed=seed) < 0.5, -1.0, 1.0)
    valid_rows = ops.broadcast_to(valid[None, :], (num_single, n))

    def flip(base, index):
        return base * (1.0 - 2.0 * ops.one_hot(index, n))

    good = flip(correct[None, :], _random_valid_index(u[:num_single], valid_rows))
    differs = ops.logical_and(valid, ops.not_equal(current, correct))
    any_differs = ops.any(differs)
    near_idx = _random_valid_index(u[num_single : 2 * num_single], ops.broadcast_to(differs[None, :], (num_single, n)))
    fallback_idx = _random_valid_index(u[2 * num_single :], valid_rows)
    nearby = ops.where(any_differs, flip(current[None, :], near_idx), flip(correct[None, :], fallback_idx))
    bad = signs * validf[None, :]
    return ops.concatenate([correct[None, :], good, nearby, bad], axis=0)


def uniloss(
    d,
    valid,
    correct,
    metric_fn: Callable,
    num_single: int = 16,
    seed=None,
    gradient: str = "exact",
):
    """-M~(b~) for differences `d` (any shape) with mask `valid` and all-correct signs `correct`.

    metric_fn(bits) maps (K, *d.shape) anchor binaries to their (K,) metric values (exact; evaluated on
    constants). Returns a scalar loss (minimise). The interpolation is over the whole flattened tensor
    (one vector per batch, as in the official code; per replica under tf.distribute).
    """
    if gradient not in GRADIENTS:
        raise ValueError(f"training.gradient: expected one of {', '.join(GRADIENTS)}, got {gradient!r}")
    shape = ops.shape(d)
    d = ops.reshape(_float(d), (-1,))
    valid = ops.reshape(valid, (-1,))
    correct = ops.reshape(ops.cast(correct, d.dtype), (-1,)) * ops.cast(valid, d.dtype)
    b = ops.where(valid, relax(d), 0.0)
    current = ops.stop_gradient(hard_sign(b, valid))
    anchors = ops.cast(ops.stop_gradient(sample_anchors(correct, current, valid, num_single, seed)), d.dtype)
    values = ops.stop_gradient(metric_fn(ops.reshape(anchors, (-1, *shape))))
    if gradient == "official":
        return official_gradient_surrogate(b, anchors, -values)
    return -idw_interpolate(b, anchors, values)


# --- multi-class accuracy ---------------------------------------------------------------------


def accuracy_comparisons(scores, labels):
    """d[i, j] = s[i, y_i] - s[i, j], valid for j != y_i: B (C - 1) comparisons in a (B, C) layout.

    All-correct is +1 on every valid entry; example i is correct iff all its valid bits are +1.
    """
    scores = _float(scores)
    labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
    num_classes = ops.shape(scores)[-1]
    onehot = ops.cast(ops.one_hot(labels, num_classes), scores.dtype)
    true_score = ops.sum(scores * onehot, axis=-1, keepdims=True)
    d = true_score - scores
    valid = onehot < 0.5
    return d, valid, ops.cast(valid, scores.dtype)


def accuracy_from_bits(bits, valid):
    """(K,) batch accuracy of (K, B, C) binaries: the fraction of examples whose valid bits are all +1."""
    ok = ops.logical_or(bits > 0, ops.logical_not(valid)[None])
    return ops.mean(ops.cast(ops.all(ok, axis=-1), "float32"), axis=-1)


def accuracy_uniloss(scores, labels, num_single: int = 16, seed=None, gradient: str = "exact"):
    """UniLoss for multi-class accuracy: scores (B, C), integer labels (B,)."""
    d, valid, correct = accuracy_comparisons(scores, labels)
    return uniloss(d, valid, correct, lambda bits: accuracy_from_bits(bits, valid), num_single, seed, gradient)


# --- binary average precision -----------------------------------------------------------------


def ap_comparisons(scores, targets):
    """d[i, j] = s_i - s_j for pairs i < j with different targets (n_pos n_neg of them) in a (B, B) layout.

    All-correct = t_i - t_j (+1 when i is the positive). scores: (B,) or (B, 1); targets: (B,) in {0, 1}.
    """
    s = ops.reshape(_float(scores), (-1,))
    t = ops.reshape(ops.cast(targets, s.dtype), (-1,))
    n = ops.shape(s)[0]
    upper = ops.triu(ops.ones((n, n), "float32"), k=1) > 0.5
    valid = ops.logical_and(upper, ops.not_equal(t[:, None], t[None, :]))
    d = s[:, None] - s[None, :]
    correct = (t[:, None] - t[None, :]) * ops.cast(valid, s.dtype)
    return d, valid, correct


def ap_from_bits(bits, targets, valid):
    """(K,) interpolated AP (official binary_ap / ap_frombins) of the rankings that (K, B, B) bits encode.

    A binary vector fixes, for each positive p, a_p = the negatives ranked above it. It is a consistent
    ranking iff the sets of negatives above positives are nested (else it has a cycle and the official
    code scores it 0). Sorting positives by a_p, the k-th sits at rank k + a_(k) with precision
    k / (k + a_(k)); AP = mean_k max_{j >= k} precision_j (all-point interpolation). No positive: AP = 1.
    """
    t = ops.reshape(ops.cast(targets, "float32"), (-1,))
    pos = t > 0.5
    neg = ops.logical_not(pos)
    bits = ops.cast(bits, "float32")
    validf = ops.cast(valid, "float32")
    bits_t = ops.transpose(bits, (0, 2, 1))
    valid_t = ops.transpose(validf, (1, 0))
    # above[k, p, n] = 1 when negative n ranks above positive p; a pair is stored once, at (min, max).
    above = validf[None] * ops.cast(bits < 0, "float32") + valid_t[None] * ops.cast(bits_t > 0, "float32")
    pair = ops.cast(ops.logical_and(pos[:, None], neg[None, :]), "float32")
    above = above * pair[None]
    a = ops.sum(above, axis=-1)  # (K, B): negatives above each positive
    # Nestedness: |N(p) \ N(q)| |N(q) \ N(p)| = 0 for every pair of positives.
    only = ops.einsum("kpn,kqn->kpq", above, pair[None] - above)
    cyclic = ops.any(only * ops.transpose(only, (0, 2, 1)) > 0, axis=(1, 2))
    posf = ops.cast(pos, "float32")
    n = ops.shape(t)[0]
    index = ops.arange(n)
    before = ops.logical_or(a[:, None, :] < a[:, :, None],
                            ops.logical_and(a[:, None, :] == a[:, :, None], index[None, None, :] < index[None, :, None]))
    k = 1.0 + ops.sum(ops.cast(before, "float32") * posf[None, None, :], axis=-1)  # (K, B) rank among positives
    precision = k / (k + a)
    later = ops.cast(k[:, None, :] >= k[:, :, None], "float32") * posf[None, None, :]  # q at or after p
    interp = ops.max(later * precision[:, None, :], axis=-1)
    npos = ops.sum(posf)
    ap = ops.sum(interp * posf[None], axis=-1) / ops.maximum(npos, 1.0)
    ap = ops.where(npos > 0, ap, 1.0)
    return ops.where(cyclic, 0.0, ap)


def binary_ap_uniloss(scores, targets, num_single: int = 16, seed=None, gradient: str = "exact"):
    """UniLoss for the AP of a binary ranking: one score per example (B,) or (B, 1), targets in {0, 1}."""
    d, valid, correct = ap_comparisons(scores, targets)
    return uniloss(d, valid, correct, lambda bits: ap_from_bits(bits, targets, valid), num_single, seed, gradient)
