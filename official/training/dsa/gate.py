"""The channel gate of one DSA group: keep ratio alpha, beta2, the beta1 warm start, and the mask.

The masked network (masked.py) calls one gate instance after every BN of its group, so all layers of
a group share one mask per step (official MaskedConvBNReLU: conv -> BN -> x mask -> ReLU).

Training: the importance b_i is the L1 norm of the primal conv's current filter i (detached; or, with
`gamma_fn`, the |gamma| of the primal's BN: official base_importance_strategy "bn"), p comes
from the beta1 solve (solver.py) with the implicit gradient to alpha, and the mask m ~ Bernoulli(p) is
drawn every step with a straight-through gradient (dm/dp = 1, official BernoulliSample). Inference: the
mask the pruned network will have: prune.keep_from_ratios' channels (top_k_mask).

alpha = sigmoid(theta) (official `invsigmoid_keep_ratio`, init 5.0) and beta2 = softplus(beta2_raw)
(official buffer `invsp_beta_2`, init softplus^-1(1.0)) are variables the method steps and schedules
itself: they are created non-trainable so Keras' optimizer, which covers the network, never sees them.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from official.training.dsa import solver


def filter_l1(kernel, depthwise: bool = False):
    """L1 norm per output channel of a Conv2D kernel (kh, kw, in, out) or a depthwise one
    (kh, kw, in, multiplier), whose output channel c * multiplier + j is filter (c, j)."""
    kernel = ops.abs(ops.cast(kernel, "float32"))
    if depthwise:
        shape = ops.shape(kernel)
        return ops.sum(ops.reshape(kernel, (shape[0] * shape[1], shape[2] * shape[3])), axis=0)
    return ops.sum(kernel, axis=(0, 1, 2))


def _ranked_below(score, index, inside, want):
    """Among the slots `inside`, the `want` best by score (ties to the lower index)."""
    better = ops.logical_or(ops.greater(score[None, :], score[:, None]),
                            ops.logical_and(ops.equal(score[None, :], score[:, None]), index[None, :] < index[:, None]))
    rank = ops.sum(ops.cast(ops.logical_and(better, inside[None, :]), "float32"), axis=1)
    return ops.logical_and(inside, rank < want)


def top_k_mask(importance, alpha, ranges=None):
    """1.0 for the kept slots, else 0.0: k = round(alpha * units) (half up, >= 1) channels of the group's
    narrowest member, the most important first (ties to the lower index). An option-A tied group (nested
    slot ranges, narrowest first) keeps them ring by ring so that a member of width w keeps k * w / units,
    the rule of prune.keep_from_counts; an untied group is one ring of all its slots."""
    importance = ops.cast(importance, "float32")
    channels = int(importance.shape[0])
    ranges = list(ranges) if ranges else [(0, channels)]
    units = ranges[0][1] - ranges[0][0]
    k = ops.clip(ops.floor(ops.cast(alpha, "float32") * units + 0.5), 1, units)
    index = ops.arange(channels)
    keep = ops.zeros((channels,), "bool")
    previous = (0, 0)
    for lo, hi in ranges:
        ring = ops.logical_and(ops.logical_and(index >= lo, index < hi),
                               ops.logical_not(ops.logical_and(index >= previous[0], index < previous[1])))
        want = ops.floor(k * (hi - lo) / units) - ops.floor(k * (previous[1] - previous[0]) / units)
        keep = ops.logical_or(keep, _ranked_below(importance, index, ring, want))
        previous = (lo, hi)
    return ops.cast(keep, "float32")


def bernoulli_ste(p, seed, shape=None):
    """m ~ Bernoulli(p) (0/1 values, one draw of p's shape or of `shape`), straight-through: dm/dp = 1."""
    shape = ops.shape(p) if shape is None else shape
    hard = ops.cast(keras.random.uniform(shape, seed=seed) < p, "float32")
    return p + ops.stop_gradient(hard - p)


def inverse_softplus(value: float) -> float:
    return math.log(math.expm1(value))


class ChannelGate(keras.layers.Layer):
    """x * m over the last axis, m the group's channel mask (see the module docstring)."""

    def __init__(self, channels: int, kernel_fn, depthwise: bool = False, ranges=None, theta_init: float = 5.0,
                 beta2_init: float = 1.0, iterations: int = solver.ITERATIONS, seed: int | None = None,
                 gamma_fn=None, **kwargs):
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.ranges = [tuple(r) for r in ranges] if ranges else [(0, self.channels)]
        self.depthwise = bool(depthwise)
        self.iterations = int(iterations)
        self._kernel_fn = kernel_fn  # a function, not the layer: the primal conv stays its model's layer
        self._gamma_fn = gamma_fn  # |BN gamma| importance when given (the primal's BN, same reason)
        const = keras.initializers.Constant
        # only_first_replica: the method assigns these in replica context with values equal on every replica.
        agg = "only_first_replica"
        self.theta = self.add_weight(shape=(), initializer=const(theta_init), trainable=False, name="theta", aggregation=agg)
        self.beta2_raw = self.add_weight(shape=(), initializer=const(inverse_softplus(beta2_init)), trainable=False,
                                         name="beta2_raw", aggregation=agg)
        self.log_beta1 = self.add_weight(shape=(), initializer="zeros", trainable=False, name="log_beta1", aggregation=agg)
        self.p_mean = self.add_weight(shape=(), initializer="ones", trainable=False, name="p_mean", aggregation=agg)
        self.seed_generator = keras.random.SeedGenerator(seed)

    @classmethod
    def for_primal(cls, channels: int, primal: keras.layers.Layer, ranges=None, norm=None, **kwargs) -> ChannelGate:
        """The gate of a group whose importance is `primal`'s filter L1 norms (Conv2D or DepthwiseConv2D),
        or the |gamma| of BatchNormalization `norm` when given."""
        depthwise = isinstance(primal, keras.layers.DepthwiseConv2D)
        gamma_fn = None if norm is None else (lambda: norm.gamma)
        return cls(channels, lambda: primal.kernel, depthwise=depthwise, ranges=ranges, gamma_fn=gamma_fn, **kwargs)

    @classmethod
    def for_group(cls, group, primal: keras.layers.Layer, **kwargs) -> ChannelGate:
        """make_gate for masked.masked_model: the gate of a graph.ChannelGroup (its slots and rings)."""
        return cls.for_primal(group.channels, primal, ranges=group.ranges(), name=f"dsa_gate_{group.index}", **kwargs)

    @property
    def alpha(self):
        return ops.sigmoid(self.theta.value)

    @property
    def beta2(self):
        return ops.softplus(self.beta2_raw.value)

    def importance(self):
        if self._gamma_fn is not None:
            return ops.stop_gradient(ops.abs(ops.cast(self._gamma_fn(), "float32")))
        return ops.stop_gradient(filter_l1(self._kernel_fn(), self.depthwise))

    def probabilities(self):
        """(p, log beta1) at the current weights, alpha and beta2, warm-started from the stored solve."""
        return solver.keep_probabilities(self.alpha, self.importance(), self.beta2, self.log_beta1, self.iterations)

    def sample_mask(self):
        """m ~ Bernoulli(p), straight-through: the value is 0/1, the gradient to p is the identity."""
        p, log_beta1 = self.probabilities()
        self.log_beta1.assign(log_beta1)
        self.p_mean.assign(ops.mean(ops.stop_gradient(p)))
        return bernoulli_ste(p, self.seed_generator)

    def inference_mask(self):
        return top_k_mask(self.importance(), self.alpha, self.ranges)

    def call(self, inputs, training=False):
        mask = self.sample_mask() if training else self.inference_mask()
        return inputs * ops.cast(mask, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape
