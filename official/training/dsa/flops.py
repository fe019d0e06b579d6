"""The quadratic FLOPs model of DSA (spec card Method 3): FLOPs(alpha) = a^T A a + B^T a + const.

A conv from group g (its input channels) to group h (its output channels) with full cost F (multiply-adds)
adds F to A[h, g]; a conv whose input is outside every group (the image) adds F to B[h]; a depthwise conv
of group h adds F to B[h]; a conv or Dense whose output is outside every group (the logits) adds F to
B[g] of its input group; a layer outside all groups adds F to const. F comes from the zoo's one counter
(official/core/madds.layer_madds) at the given input size, so with all alpha = 1 the model equals
count_madds(model).total, and with a realised keep set (every member keeping k / units of its channels)
it equals count_madds of the physically pruned model.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from official.core.madds import layer_madds
from official.training.dsa.graph import ChannelGroup, analyse, output_shapes


@dataclasses.dataclass
class FlopsModel:
    """sum_gh a_g a_h A[g, h] + sum_g a_g B[g] + const, on numpy arrays or Keras tensors."""

    A: np.ndarray
    B: np.ndarray
    const: float

    def __call__(self, alpha):
        if isinstance(alpha, (np.ndarray, list, tuple, float, int)):
            a = np.asarray(alpha, np.float64)
            return float(a @ self.A @ a + self.B @ a + self.const)
        a = keras.ops.convert_to_tensor(alpha)
        A = keras.ops.convert_to_tensor(self.A, dtype=a.dtype)
        B = keras.ops.convert_to_tensor(self.B, dtype=a.dtype)
        return keras.ops.sum(a[:, None] * A * a[None, :]) + keras.ops.sum(B * a) + self.const


def flops_model(model: keras.Model, groups: list[ChannelGroup], input_shape) -> FlopsModel:
    """The budget model of `model` at `input_shape` (height, width, channels) for these groups."""
    info = analyse(model)
    if [g.members for g in info.groups] != [g.members for g in groups]:
        raise ValueError(f"{model.name}: the groups do not belong to this model")
    shapes = output_shapes(info.ops, tuple(input_shape))
    n = len(groups)
    A, B, const = np.zeros((n, n)), np.zeros(n), 0.0
    for o in info.ops:
        if o.kind not in ("conv", "depthwise", "dense"):
            continue
        cost = layer_madds(o.layer, shapes[o.inputs[0]], shapes[o.name])
        g_in, g_out = info.space[o.inputs[0]][0], info.space[o.name][0]
        if o.kind == "depthwise":
            g_in = None  # one filter per channel: linear in its own group
        if g_in is not None and g_out is not None:
            A[g_out, g_in] += cost
        elif g_out is not None:
            B[g_out] += cost
        elif g_in is not None:
            B[g_in] += cost
        else:
            const += cost
    return FlopsModel(A, B, const)
