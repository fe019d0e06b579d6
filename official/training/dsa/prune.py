"""Physical pruning (DSA, spec card "Deriving the final architecture"): a new, smaller plain Keras model.

Every group keeps a set of slots; a conv keeps the output filters of its kept channels and the input
slices of its input tensor's kept channels, BN entries and depthwise filters are sliced alike, the logits
Dense keeps the rows of the kept features. An option-A shortcut becomes `ChannelPad`: subsample, then
zero channels before and after, placing the kept input channels among the kept output channels (they are
one contiguous run, because the streams are one group). The result has no gates: stock Keras layers plus
ChannelPad (strided slice and pad, builtin TFLite ops), so it saves, reloads and exports like any model.
Its logits equal the masked model's with the same deterministic masks in inference mode.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops

from official.core.base_model import ZooLayer
from official.core.madds import count_madds
from official.training.dsa.graph import ChannelGroup, GraphInfo, Op, analyse, run_ops


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ChannelPad(ZooLayer):
    """Keeps every `stride`-th row and column from index 0 and appends `before` / `after` zero channels:
    (batch, H, W, C) -> (batch, ceil(H / stride), ceil(W / stride), before + C + after)."""

    def __init__(self, before: int, after: int, stride: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.before, self.after, self.stride = int(before), int(after), int(stride)

    def call(self, x):
        if self.stride > 1:
            x = x[:, :: self.stride, :: self.stride, :]
        return ops.pad(x, [[0, 0], [0, 0], [0, 0], [self.before, self.after]])

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        down = [None if d is None else (d + self.stride - 1) // self.stride for d in (h, w)]
        return (b, *down, c + self.before + self.after)


def importance(layer: keras.layers.Layer) -> np.ndarray:
    """L1 norm of each output channel's filter (the official base importance "conv")."""
    kernel = np.abs(np.asarray(keras.ops.convert_to_numpy(layer.kernel), np.float64))
    axes = (0, 1, 3) if isinstance(layer, layers.DepthwiseConv2D) else (0, 1, 2)
    return kernel.sum(axis=axes)


IMPORTANCES = ("l1", "bn")


def primal_norm(info: GraphInfo, group: ChannelGroup) -> keras.layers.Layer:
    """The BatchNormalization right after the group's primal conv (whose |gamma| is the "bn" importance)."""
    return info.op(group.norms[group.members.index(group.primal)]).layer


def group_importance(info: GraphInfo, group: ChannelGroup, kind: str = "l1") -> np.ndarray:
    """Channel importance of a group: "l1" the primal's filter L1 norms (official "conv"), "bn" the |gamma|
    of the primal's BN (official "bn", the released CIFAR ResNets' base_importance_strategy)."""
    if kind == "bn":
        return np.abs(np.asarray(keras.ops.convert_to_numpy(primal_norm(info, group).gamma), np.float64))
    if kind == "l1":
        return importance(info.op(group.primal).layer)
    raise ValueError(f"importance must be one of {IMPORTANCES}, got {kind!r}")


def group_units(group: ChannelGroup) -> int:
    """Independent channel steps of a group: its narrowest member's width (all of C_g when untied)."""
    return group.ranges()[0][1] - group.ranges()[0][0]


def keep_from_counts(info: GraphInfo, group: ChannelGroup, k: int, kind: str = "l1") -> np.ndarray:
    """The group's kept slots for k kept channels of its narrowest member: the top channels by the
    primal's importance (`kind`, see group_importance), ring by ring for option-A ties so that every
    member keeps k / units of its channels (member j keeps k * width_j / units)."""
    score = group_importance(info, group, kind)
    units = group_units(group)
    kept: list[int] = []
    previous = (0, 0)
    for lo, hi in group.ranges():
        ring = [s for s in range(lo, hi) if not previous[0] <= s < previous[1]]
        want = k * (hi - lo) // units - len(kept)
        order = sorted(ring, key=lambda s: (-score[s], s))
        kept.extend(order[:want])
        previous = (lo, hi)
    return np.array(sorted(kept), dtype=np.int64)


def counts_from_ratios(groups: list[ChannelGroup], alpha) -> np.ndarray:
    """k_g = round(alpha_g * units_g), at least 1."""
    alpha = np.asarray(alpha, np.float64)
    units = np.array([group_units(g) for g in groups])
    return np.clip(np.floor(alpha * units + 0.5), 1, units).astype(np.int64)


def keep_from_ratios(model: keras.Model, groups: list[ChannelGroup], alpha, importance: str = "l1") -> dict[int, np.ndarray]:
    """keep[g]: the top round(alpha_g * C_g) channels by the primal's importance ("l1" filter norm or "bn"
    |gamma|; at least one)."""
    info = analyse(model)
    counts = counts_from_ratios(groups, alpha)
    return {g.index: keep_from_counts(info, g, int(k), importance) for g, k in zip(groups, counts, strict=True)}


def realised_ratios(groups: list[ChannelGroup], keep: dict[int, np.ndarray]) -> np.ndarray:
    """The kept fraction of each group (every member keeps this fraction of its channels)."""
    return np.array([len(keep[g.index]) / g.channels for g in groups], np.float64)


def _kept(info: GraphInfo, keep: dict[int, np.ndarray], tensor: str) -> np.ndarray:
    """The kept channel indices of one tensor (all of them outside the groups)."""
    g, offset = info.space[tensor]
    channels = info.op(tensor).channels
    if g is None:
        return np.arange(channels)
    slots = np.asarray(keep[g])
    return slots[(slots >= offset) & (slots < offset + channels)] - offset


def _placement(out_idx: np.ndarray, in_idx: np.ndarray, before: int, name: str) -> tuple[int, int]:
    """(zeros before, zeros after) that place the kept inputs among the kept outputs of a zero pad."""
    sources = out_idx - before
    carried = np.flatnonzero(np.isin(sources, in_idx))
    if not np.array_equal(sources[carried], in_idx) or (
        len(carried) and not np.array_equal(carried, np.arange(carried[0], carried[0] + len(carried)))
    ):
        raise ValueError(f"{name}: kept shortcut channels do not form one run; the stream groups must be tied")
    start = int(carried[0]) if len(carried) else len(out_idx)
    return start, len(out_idx) - start - len(in_idx)


def _np(v) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(v))


def _pruned_layer(info: GraphInfo, keep: dict[int, np.ndarray], o: Op) -> keras.layers.Layer:
    """A fresh stock layer for op o, with its weights sliced to the kept channels (built, weights set)."""
    name = o.name.replace("/", "_")
    if o.kind == "chanpad":
        before, after = _placement(_kept(info, keep, o.name), _kept(info, keep, o.inputs[0]), o.pad[0], o.name)
        return ChannelPad(before, after, stride=2, name=name)
    if o.kind in ("same", "add"):
        return o.make(name)
    src = o.layer
    config = dict(src.get_config(), name=name)
    in_idx = _kept(info, keep, o.inputs[0])
    out_idx = _kept(info, keep, o.name)
    if o.kind == "conv":
        config["filters"] = len(out_idx)
        weights = [_np(src.kernel)[:, :, in_idx][..., out_idx]] + ([_np(src.bias)[out_idx]] if src.use_bias else [])
        shape = (None, None, None, len(in_idx))
    elif o.kind == "depthwise":
        weights = [_np(src.kernel)[:, :, out_idx]] + ([_np(src.bias)[out_idx]] if src.use_bias else [])
        shape = (None, None, None, len(out_idx))
    elif o.kind == "bn":
        weights = [_np(w)[out_idx] for w in src.weights]
        shape = (None, None, None, len(out_idx))
    elif o.kind == "dense":
        weights = [_np(src.kernel)[in_idx]] + ([_np(src.bias)] if src.use_bias else [])
        shape = (None, len(in_idx))
    else:
        raise ValueError(f"{o.name}: cannot prune a {o.kind} op")
    layer = type(src).from_config(config)
    layer.build(shape)
    layer.set_weights(weights)
    return layer


def prune_model(model: keras.Model, groups: list[ChannelGroup], keep: dict[int, np.ndarray]) -> keras.Model:
    """A new plain functional model keeping `keep[g]` (sorted slot indices) of every group g."""
    info = analyse(model)
    if [g.members for g in info.groups] != [g.members for g in groups]:
        raise ValueError(f"{model.name}: the groups do not belong to this model")
    for g in groups:
        units = group_units(g)
        k = np.asarray(keep[g.index])
        if len(k) == 0 or len(np.unique(k)) != len(k) or k.min() < 0 or k.max() >= g.channels:
            raise ValueError(f"group {g.index} ({g.primal}): keep must be distinct slots in [0, {g.channels})")
        if g.channels != units:  # tied streams: every member must keep the same fraction
            for lo, hi in g.ranges():
                inside = int(((k >= lo) & (k < hi)).sum())
                if inside * g.channels != len(k) * (hi - lo):
                    raise ValueError(
                        f"group {g.index} ({g.primal}): slots [{lo}, {hi}) keep {inside} channels, not "
                        f"{len(k)} * {hi - lo} / {g.channels} (use keep_from_ratios)"
                    )
    source = model.inputs[0]
    inputs = keras.Input(shape=tuple(source.shape[1:]), name=source.name)

    def call(o: Op, args):
        layer = _pruned_layer(info, keep, o)
        return layer(args if o.kind == "add" else args[0])

    outputs = run_ops(info, inputs, call)
    return keras.Model(inputs, outputs, name=f"{model.name}_pruned")


def fit_budget(model: keras.Model, groups: list[ChannelGroup], alpha, flops_ratio: float, input_shape) -> np.ndarray:
    """Keep ratios near `alpha` whose pruned network has at most `flops_ratio` of the model's MAdds and,
    where channel steps allow, at least 99% of that budget.

    Scales alpha by the largest factor that fits (bisection on the realised, rounded counts), then adds
    single channels greedily (the group furthest below its scaled ratio first) while the budget holds.
    The returned ratios are realised ones (k / units): keep_from_ratios reproduces them exactly.
    """
    from official.training.dsa.flops import flops_model

    if not 0.0 < flops_ratio <= 1.0:
        raise ValueError(f"flops_ratio must be in (0, 1], got {flops_ratio}")
    alpha = np.clip(np.asarray(alpha, np.float64), 1e-6, 1.0)
    fm = flops_model(model, groups, input_shape)
    units = np.array([group_units(g) for g in groups], np.float64)
    budget = flops_ratio * fm(np.ones(len(groups)))

    def cost(k):
        return fm(k / units)

    def counts(scale):
        return np.clip(np.floor(scale * alpha * units + 0.5), 1, units)

    if cost(np.ones(len(groups))) > budget:
        raise ValueError(f"flops_ratio {flops_ratio}: below the cost of one channel per group")
    low, high = 0.0, 1.0 / alpha.min()
    if cost(counts(high)) <= budget:
        return counts(high) / units
    for _ in range(60):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if cost(counts(mid)) <= budget else (low, mid)
    k = counts(low)
    target = low * alpha * units
    while True:
        base = cost(k)
        best, best_deficit = None, -math.inf
        for g in np.flatnonzero(k < units):
            step = k.copy()
            step[g] += 1
            deficit = (target[g] - k[g]) / units[g]
            if cost(step) <= budget and deficit > best_deficit:
                best, best_deficit = g, deficit
        if best is None or base >= budget:
            break
        k[best] += 1
    return k / units


def pruned_madds(model: keras.Model) -> int:
    """MAdds of a (pruned) model by the zoo's one counter (tools.profile's code path)."""
    return count_madds(model).total
