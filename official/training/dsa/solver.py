"""The beta1 solve of DSA's differentiable pruning process and its implicit gradient to alpha.

A group of C channels with detached importances b_i and keep ratio alpha keeps channel i with
probability p_i = min(sigmoid(beta2 * (log b_i - log beta1)) + 0.01, 1). beta1 is no parameter: every
forward pass solves mean_i p_i(log beta1) = alpha for it (official models/op.py, "sigmoid_log",
SigmoidLogMergeFunc_subst, which calls scipy's root_scalar on log beta1 in [-500, 500]). Here the solve
runs in-graph with keras.ops so it compiles under XLA and runs under JAX: a fixed number of safeguarded
Newton iterations (a Newton step when it stays inside the current bracket, else bisection), warm-started
from the previous solution. mean p is non-increasing in log beta1, so the bracket update is a sign test.

The gradient to alpha is implicit: with f'_i = dp_i/dlog beta1, differentiating mean_i p_i = alpha gives
dp_i/dalpha = C f'_i / sum_j f'_j = C softmax_i(log |f'_i|), so dL/dalpha = C sum_i dL/dp_i softmax_i(...).
It is a custom gradient (keras.ops.custom_gradient: tf.custom_gradient or jax.custom_gradient), and the
importances, beta2 and log beta1 get none (the importances are detached, as in the official plan 1).

Facts kept from the official code: log(b + 1e-8), beta2 * (log beta1 - log b) clamped to [-20, 20], the
+0.01 floor, the [-500, 500] bracket. One difference: f'_i here is the exact derivative of the clipped
p_i (zero where p_i is clipped at 1 or the exponent is clamped), so dp_i/dalpha matches finite
differences; the official backward uses the unclipped sigmoid's slope there (weights of ~1e-2 or less).
"""

from __future__ import annotations

from keras import ops

LOG_EPS = 1e-8  # official: log(b + 1e-8)
CLAMP = 20.0  # official: beta2 * (log beta1 - log b) clamped to [-20, 20]
FLOOR = 0.01  # official: + 0.01 before the clip at 1
BRACKET = 500.0  # official root bracket for log beta1
ITERATIONS = 40  # fixed for XLA; bisection alone would reach 1000 / 2**40 in log beta1
_NO_SLOPE = -1e9  # log|f'| of a channel with zero slope (weight exp(-1e9) = 0 in the softmax)


def log_importance(importance):
    """log(b + 1e-8) of the (already detached) importances."""
    return ops.log(ops.cast(importance, "float32") + LOG_EPS)


def _exponent(log_beta1, log_b, beta2):
    return beta2 * (log_beta1 - log_b)


def probabilities_at(log_beta1, log_b, beta2):
    """p_i for a given log beta1 (the forward value; no gradient to alpha through this alone)."""
    t = ops.clip(_exponent(log_beta1, log_b, beta2), -CLAMP, CLAMP)
    return ops.minimum(ops.sigmoid(-t) + FLOOR, 1.0)


def _active(log_beta1, log_b, beta2):
    """Channels whose p_i moves with log beta1 (not clamped, not clipped at 1)."""
    t = _exponent(log_beta1, log_b, beta2)
    return ops.logical_and(ops.abs(t) < CLAMP, ops.sigmoid(-t) + FLOOR < 1.0)


def slopes(log_beta1, log_b, beta2):
    """f'_i = dp_i / dlog beta1 (<= 0)."""
    s = ops.sigmoid(-_exponent(log_beta1, log_b, beta2))
    return ops.where(_active(log_beta1, log_b, beta2), -beta2 * s * (1.0 - s), 0.0)


def log_abs_slopes(log_beta1, log_b, beta2):
    """log |f'_i| = log beta2 - softplus(t) - softplus(-t), computed in log space (no underflow)."""
    t = _exponent(log_beta1, log_b, beta2)
    value = ops.log(beta2) - ops.softplus(t) - ops.softplus(-t)
    return ops.where(_active(log_beta1, log_b, beta2), value, _NO_SLOPE)


def solve_log_beta1(alpha, log_b, beta2, start, iterations: int = ITERATIONS):
    """log beta1 with mean_i p_i = alpha: safeguarded Newton from `start` in [-500, 500]."""
    alpha = ops.cast(alpha, "float32")
    lo = ops.convert_to_tensor(-BRACKET, "float32")
    hi = ops.convert_to_tensor(BRACKET, "float32")
    x = ops.clip(ops.cast(start, "float32"), -BRACKET, BRACKET)

    def body(_, state):
        x, lo, hi = state
        g = ops.mean(probabilities_at(x, log_b, beta2)) - alpha
        d = ops.mean(slopes(x, log_b, beta2))
        lo = ops.where(g > 0, x, lo)  # p too high: the root is at a larger log beta1
        hi = ops.where(g > 0, hi, x)
        newton = x - g / ops.where(d < 0, d, -1.0)
        ok = ops.logical_and(d < 0, ops.logical_and(newton >= lo, newton <= hi))
        return ops.where(ok, newton, 0.5 * (lo + hi)), lo, hi

    x, _, _ = ops.fori_loop(0, iterations, body, (x, lo, hi))
    return x


@ops.custom_gradient
def _implicit_probabilities(alpha, log_beta1, log_b, beta2):
    p = probabilities_at(log_beta1, log_b, beta2)
    channels = ops.cast(ops.shape(log_b)[0], "float32")

    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        weights = ops.softmax(log_abs_slopes(log_beta1, log_b, beta2))
        d_alpha = channels * ops.sum(upstream * weights)
        return (ops.reshape(d_alpha, ops.shape(alpha)), ops.zeros_like(log_beta1), ops.zeros_like(log_b),
                ops.zeros_like(beta2))

    return p, grad


def keep_probabilities(alpha, importance, beta2, start, iterations: int = ITERATIONS):
    """(p, log beta1): the group's keep probabilities with the implicit gradient to `alpha` (a scalar),
    and the solved log beta1 (the next warm start). `importance` and `beta2` get no gradient."""
    alpha = ops.cast(alpha, "float32")
    beta2 = ops.stop_gradient(ops.cast(beta2, "float32"))
    log_b = ops.stop_gradient(log_importance(importance))
    log_beta1 = ops.stop_gradient(solve_log_beta1(ops.stop_gradient(alpha), log_b, beta2, start, iterations))
    return _implicit_probabilities(alpha, log_beta1, log_b, beta2), log_beta1
