"""Layers of the collaborative gesture + hand-pose network (keras.ops only: TensorFlow, XLA and JAX).

- `MergeTime` / `SplitTime`: (B, T, ...) <-> (B*T, ...) so that the per-frame 2D network runs on frames.
- `JointDepth`: per-joint depth read out under the joint's softmax heatmap (the "depth-weighted z" of the
  spec's pose head): z_j = sum_hw softmax(H_j)_hw D_j,hw.
- `MultiOrderStreams`: zero / first / second temporal order of the joint-aware features (spec "Method"),
  with boundary replication (X_{-1} = X_0, X_T = X_{T-1}), so every stream keeps T frames under XLA.
- `TemporalRelation`: TRN-style multi-scale relations (reconstructed, unverified): for each scale k a
  relation g_k over every window of k consecutive frames (a Conv1D of kernel k, ReLU), averaged over
  the windows, then h_k (Dense); the scales are summed.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooLayer

ORDERS = ("zero", "first", "second")


@keras.saving.register_keras_serializable(package="eccv20zoo")
class MergeTime(ZooLayer):
    """(B, T, *rest) -> (B*T, *rest)."""

    def call(self, x):
        return ops.reshape(x, (-1, *x.shape[2:]))

    def compute_output_shape(self, input_shape):
        b, t = input_shape[:2]
        return (None if b is None or t is None else b * t, *input_shape[2:])


@keras.saving.register_keras_serializable(package="eccv20zoo")
class SplitTime(ZooLayer):
    """(B*T, *rest) -> (B, T, *rest) for a static clip length T."""

    def __init__(self, frames: int, **kwargs):
        super().__init__(**kwargs)
        self.frames = int(frames)

    def call(self, x):
        return ops.reshape(x, (-1, self.frames, *x.shape[1:]))

    def compute_output_shape(self, input_shape):
        b = input_shape[0]
        return (None if b is None else b // self.frames, self.frames, *input_shape[1:])


@keras.saving.register_keras_serializable(package="eccv20zoo")
class JointDepth(ZooLayer):
    """heatmaps (N, H, W, J) and depth maps (N, H, W, J) -> (N, J): depth under each joint's softmax heatmap."""

    def call(self, heatmaps, depth):
        n_hw = heatmaps.shape[1] * heatmaps.shape[2]
        logits = ops.reshape(ops.cast(heatmaps, "float32"), (-1, n_hw, heatmaps.shape[-1]))
        probs = ops.softmax(logits, axis=1)
        values = ops.reshape(ops.cast(depth, "float32"), (-1, n_hw, depth.shape[-1]))
        return ops.sum(probs * values, axis=1)

    def compute_output_shape(self, heatmaps_shape, depth_shape=None):
        return (heatmaps_shape[0], heatmaps_shape[-1])


@keras.saving.register_keras_serializable(package="eccv20zoo")
class MultiOrderStreams(ZooLayer):
    """(B, T, D) features -> the requested orders, each (B, T, D):
    zero X_t; first X_t - X_{t-1}; second X_{t+1} - 2 X_t + X_{t-1}; clip ends replicated."""

    def __init__(self, orders: tuple[str, ...] = ORDERS, **kwargs):
        super().__init__(**kwargs)
        bad = [o for o in orders if o not in ORDERS]
        if bad:
            raise ValueError(f"MultiOrderStreams: orders must be among {ORDERS}, got {bad}")
        self.orders = tuple(orders)

    def call(self, x):
        prev = ops.concatenate([x[:, :1], x[:, :-1]], axis=1)  # X_{t-1}, X_{-1} = X_0
        nxt = ops.concatenate([x[:, 1:], x[:, -1:]], axis=1)  # X_{t+1}, X_T = X_{T-1}
        streams = {"zero": x, "first": x - prev, "second": nxt - 2.0 * x + prev}
        return [streams[o] for o in self.orders]

    def compute_output_shape(self, input_shape):
        return [tuple(input_shape)] * len(self.orders)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class SlowPath(ZooLayer):
    """(B, T, D) -> (B, ceil(T / stride), D): every `stride`-th frame from the first (the slow rate)."""

    def __init__(self, stride: int, **kwargs):
        super().__init__(**kwargs)
        self.stride = int(stride)

    def call(self, x):
        return x[:, :: self.stride]

    def compute_output_shape(self, input_shape):
        t = input_shape[1]
        return (input_shape[0], None if t is None else -(-t // self.stride), *input_shape[2:])


def temporal_relation(x, scales: tuple[int, ...], width: int, name: str):
    """Multi-scale relation of (B, T', D) frame features -> (B, width); scales longer than T' are skipped."""
    frames = x.shape[1]
    outs = []
    for k in scales:
        if k > frames:
            continue
        g = layers.Conv1D(width, k, padding="valid", activation="relu", name=f"{name}_g{k}")(x)
        g = layers.GlobalAveragePooling1D(name=f"{name}_pool{k}")(g)
        outs.append(layers.Dense(width, activation="relu", name=f"{name}_h{k}")(g))
    if not outs:
        raise ValueError(f"{name}: no relation scale in {scales} fits {frames} frames")
    return outs[0] if len(outs) == 1 else layers.Add(name=f"{name}_sum")(outs)
