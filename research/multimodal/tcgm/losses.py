"""TCGM's objective: the total-correlation gain (TCg) of M modality classifiers (keras.ops only).

Facts (paper Sec. 3, spec card tcgm.md "Method", Newbeeer/Semi-supervised-Multi-Modalities-Learning
20news_dataset/utils/utils.py mig_loss_function):
- R(x_1..x_M) = sum_c prod_m h_m(x_m)_c / p_c^(M-1), p the class prior;
- TCg = E_joint[log R] - E_marg[R] + 1 <= TC(x_1..x_M), tight at the Bayes posteriors;
- mini-batch of B aligned instances: the joint term averages log R over the B aligned tuples, the marginal
  term averages R over index tuples of distinct instances (for M = 2 the off-diagonal of the B x B matrix
  (h_1 / p) h_2^T, as the official code does). For M > 2 the average over all B!/(B-M)! distinct tuples is
  exact here (a sum over set partitions of the modalities, `_distinct_tuple_sums`), not a random shuffle.
- `pairwise` (the official loop over modality pairs) sums TCg over pairs; `joint` is the paper's M-way TCg.
The official code adds uniform noise in [0, 1e-4) inside the log of the diagonal; here the ratio is
clamped at `eps` (deterministic) and log R is formed in log space with a logsumexp over classes.
"""

from __future__ import annotations

import itertools
import math

from keras import ops

MODES = ("pairwise", "joint")
LOG_EPS = 1e-12  # floor of R inside the log (the official code's noise term, made deterministic)


def prior_vector(class_prior, num_classes: int):
    """The class prior p as a (C,) float32 tensor; None or () = uniform (the official code's 0.25 x 4)."""
    if class_prior is None or len(class_prior) == 0:
        return ops.full((num_classes,), 1.0 / num_classes, "float32")
    if len(class_prior) != num_classes:
        raise ValueError(f"class_prior: {len(class_prior)} values for {num_classes} classes")
    return ops.convert_to_tensor([float(v) for v in class_prior], "float32")


def log_ratio(log_probs, prior, eps: float = LOG_EPS):
    """log R of B aligned tuples: log_probs (B, M, C) log h_m(x_m), prior (C,) -> (B,)."""
    m = ops.shape(log_probs)[1]
    log_prior = ops.log(ops.cast(prior, log_probs.dtype))
    log_r = ops.logsumexp(ops.sum(log_probs, axis=1) - (m - 1) * log_prior, axis=-1)
    return ops.maximum(log_r, math.log(eps))


def _partitions(items: tuple[int, ...]):
    """Every set partition of `items` (Bell(M) of them: 1, 2, 5, 15, 52 for M = 1..5)."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for sub in _partitions(rest):
        for i in range(len(sub)):
            yield sub[:i] + [(first, *sub[i])] + sub[i + 1:]
        yield [(first,), *sub]


def _distinct_tuple_sums(probs):
    """sum over tuples (i_1..i_M) of pairwise-distinct batch indices of prod_m probs[i_m, m, :] -> (C,).

    Moebius inversion over set partitions: sum_{distinct} = sum_pi mu(pi) prod_{blocks b} sum_i prod_{m in b}
    probs[i, m], with mu(pi) = prod_b (-1)^(|b| - 1) (|b| - 1)!. M = 2: (sum h_1)(sum h_2) - sum h_1 h_2.
    """
    m = probs.shape[1]
    total = 0.0
    for partition in _partitions(tuple(range(m))):
        coeff, term = 1.0, 1.0
        for block in partition:
            coeff *= (-1.0) ** (len(block) - 1) * math.factorial(len(block) - 1)
            prod = probs[:, block[0]]
            for j in block[1:]:
                prod = prod * probs[:, j]
            term = term * ops.sum(prod, axis=0)
        total = total + coeff * term
    return total


def marginal_ratio_mean(log_probs, prior, weights=None):
    """E over the product of marginals of R, from a batch: log_probs (B, M, C), prior (C,) -> scalar.

    weights None: the mean of R over index tuples of distinct instances (unbiased; B >= M).
    weights (B,) summing to 1: the exact expectation under the product of the weighted marginals,
    sum_c prod_m (sum_i w_i h_m(x_m^i)_c) / p_c^(M-1) (exact enumeration of a discrete distribution).
    """
    b, m = ops.shape(log_probs)[0], log_probs.shape[1]
    probs = ops.exp(log_probs)
    prior = ops.cast(prior, probs.dtype)
    if weights is not None:
        means = ops.sum(ops.cast(weights, probs.dtype)[:, None, None] * probs, axis=0)  # (M, C)
        return ops.sum(ops.prod(means, axis=0) / prior ** (m - 1))
    count = 1.0
    for k in range(m):
        count = count * ops.cast(b - k, probs.dtype)
    return ops.sum(_distinct_tuple_sums(probs) / prior ** (m - 1)) / count


def tc_gain(log_probs, prior, weights=None, eps: float = LOG_EPS):
    """TCg = E_joint[log R] - E_marg[R] + 1 of the M classifiers in log_probs (B, M, C) (M-way, `joint`)."""
    log_r = log_ratio(log_probs, prior, eps)
    if weights is None:
        joint = ops.mean(log_r)
    else:
        joint = ops.sum(ops.cast(weights, log_r.dtype) * log_r)
    return joint - marginal_ratio_mean(log_probs, prior, weights) + 1.0


def pairwise_tc_gain(log_probs, prior, weights=None, eps: float = LOG_EPS):
    """Sum of the 2-modality TCg over all modality pairs (the official loop over enu_modalities)."""
    m = log_probs.shape[1]
    total = 0.0
    for i, j in itertools.combinations(range(m), 2):
        pair = ops.stack([log_probs[:, i], log_probs[:, j]], axis=1)
        total = total + tc_gain(pair, prior, weights, eps)
    return total


def tcgm_loss(log_probs, prior, mode: str = "pairwise", eps: float = LOG_EPS):
    """The unlabeled loss -TCg (mode joint) or -sum of the pairwise TCg (mode pairwise)."""
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {', '.join(MODES)}, got {mode!r}")
    gain = tc_gain(log_probs, prior, eps=eps) if mode == "joint" else pairwise_tc_gain(log_probs, prior, eps=eps)
    return -gain


def supervised_loss(log_probs, labels):
    """sum_m NLL(h_m(x_m), y), each the batch mean (the official per-modality F.nll_loss): (B, M, C), (B,)."""
    labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
    one_hot = ops.one_hot(labels, log_probs.shape[-1], dtype=log_probs.dtype)
    return -ops.sum(ops.mean(ops.sum(log_probs * one_hot[:, None, :], axis=-1), axis=0))


def fuse_log_probs(log_probs, prior, mask=None):
    """Bayes fusion under conditional independence: log p(y | present views) (B, C).

    sum_m mask_m log h_m - (sum_m mask_m - 1) log p, renormalised; with a uniform p its argmax equals the
    official test's argmax of the summed log-softmax outputs. No view present gives the prior.
    """
    log_prior = ops.log(ops.cast(prior, log_probs.dtype))
    if mask is None:
        mask = ops.ones(ops.shape(log_probs)[:2], log_probs.dtype)
    mask = ops.cast(mask, log_probs.dtype)
    present = ops.sum(mask, axis=1, keepdims=True)
    scores = ops.sum(log_probs * mask[:, :, None], axis=1) - (present - 1.0) * log_prior
    return ops.log_softmax(scores, axis=-1)
