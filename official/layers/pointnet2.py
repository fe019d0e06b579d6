"""PointNet++ set abstraction and feature propagation (Qi et al., NeurIPS 2017), as Pointnet2_PyTorch builds them.

The ECCV 2020 point methods (PointMixup, SoftPoolNet's classifier peers) train the erikwijmans/Pointnet2_PyTorch
modules, so these layers keep their semantics (facts, not code):
- a shared MLP is a stack of 1x1 convs without bias, each followed by BatchNorm and ReLU (`pt_utils.SharedMLP(bn=True)`);
  here a 1x1 conv on channels-last points is a Dense layer on the last axis;
- `QueryAndGroup`: the neighbours of each FPS centre found by ball query, their xyz made relative to the centre
  (the "centroid-normalised" grouping) and, with `use_xyz`, put BEFORE the neighbours' features;
- `GroupAll`: every point in one group, raw xyz (not re-centred) before the features; the new centre is the origin;
- each scale's MLP output is max-pooled over the group; the scales' outputs are concatenated in order;
- feature propagation: inverse-distance weights of the 3 nearest known points, interpolated features concatenated
  BEFORE the skip features, then a shared MLP.
Layout is channels-last: positions (batch, points, 3), features (batch, points, channels). The point ops are the
shared keras.ops composites of official/ops/point_ops.py (C++ kernels where built), so this runs under JAX too.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooLayer
from official.ops.point_ops import ball_query, farthest_point_sample, gather_points, three_nn_interpolate

BN_EPSILON = 1e-5  # torch.nn.BatchNorm default (Pointnet2_PyTorch keeps it)


def torch_linear_init() -> keras.initializers.Initializer:
    """nn.Linear's default weight init (kaiming_uniform with a = sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    return keras.initializers.VarianceScaling(1.0 / 3.0, "fan_in", "uniform")


@keras.saving.register_keras_serializable(package="eccv20zoo")
class SharedMLP(ZooLayer):
    """Dense (no bias) + BatchNorm + ReLU per width, on the last axis of any-rank features.

    Args:
        widths: output widths of the layers (Pointnet2's mlp spec without its input width).
        bn_momentum: Keras BatchNorm momentum (= 1 - PyTorch momentum).
    """

    def __init__(self, widths: tuple[int, ...], bn_momentum: float = 0.99, **kwargs):
        super().__init__(**kwargs)
        self.widths = tuple(int(w) for w in widths)
        # kaiming_normal_ (fan_in, gain sqrt 2) as pt_utils' Conv2d init
        self.convs = [layers.Dense(w, use_bias=False, kernel_initializer="he_normal", name=f"conv{i}")
                      for i, w in enumerate(self.widths)]
        self.norms = [layers.BatchNormalization(momentum=bn_momentum, epsilon=BN_EPSILON, name=f"bn{i}")
                      for i in range(len(self.widths))]

    def build(self, input_shape):
        shape = tuple(input_shape)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            conv.build(shape)
            shape = (*shape[:-1], conv.units)
            norm.build(shape)

    def call(self, x, training=False):
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = ops.relu(norm(conv(x), training=training))
        return x

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-1], self.widths[-1])


@keras.saving.register_keras_serializable(package="eccv20zoo")
class SetAbstraction(ZooLayer):
    """Sample (FPS) -> group (ball query, or all) -> shared MLP -> max pool, at one or several scales.

    MSG: several (radius, nsample, mlp); SSG: one; group-all: `npoint=None` (radii/nsamples ignored).
    Call: (xyz (B, N, 3), features (B, N, C) or None) -> (new_xyz (B, npoint, 3), (B, npoint, sum of last widths)).
    Group-all returns new_xyz = zeros (B, 1, 3).
    """

    def __init__(self, mlps: tuple[tuple[int, ...], ...], npoint: int | None = None,
                 radii: tuple[float, ...] = (), nsamples: tuple[int, ...] = (), use_xyz: bool = True,
                 bn_momentum: float = 0.99, **kwargs):
        super().__init__(**kwargs)
        self.npoint = None if npoint is None else int(npoint)
        self.radii = tuple(float(r) for r in radii)
        self.nsamples = tuple(int(k) for k in nsamples)
        self.use_xyz = bool(use_xyz)
        if self.npoint is not None and not (len(self.radii) == len(self.nsamples) == len(mlps)):
            raise ValueError(f"SetAbstraction: radii {radii}, nsamples {nsamples} and mlps must have one entry per scale")
        if self.npoint is None and len(mlps) != 1:
            raise ValueError("SetAbstraction: group-all (npoint=None) takes one mlp")
        self.mlps = [SharedMLP(tuple(m), bn_momentum, name=f"mlp{i}") for i, m in enumerate(mlps)]

    def build(self, xyz_shape, features_shape=None):
        channels = (3 if self.use_xyz else 0) + (0 if features_shape is None else int(features_shape[-1]))
        if channels == 0:
            raise ValueError("SetAbstraction: no features and use_xyz=False leaves nothing to group")
        for mlp in self.mlps:
            mlp.build((None, None, None, channels))

    def _group(self, xyz, features, centers, radius, nsample):
        idx = ball_query(xyz, centers, radius, nsample)  # (B, S, K)
        parts = []
        if self.use_xyz:
            parts.append(gather_points(xyz, idx) - centers[:, :, None, :])  # relative to the centre
        if features is not None:
            parts.append(gather_points(features, idx))
        return parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=-1)

    def call(self, xyz, features=None, training=False):
        if self.npoint is None:
            parts = ([xyz] if self.use_xyz else []) + ([] if features is None else [features])
            grouped = (parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=-1))[:, None]  # (B, 1, N, C)
            new_features = ops.max(self.mlps[0](grouped, training=training), axis=2)
            return ops.zeros_like(xyz[:, :1, :]), new_features
        centers = gather_points(xyz, farthest_point_sample(ops.stop_gradient(xyz), self.npoint))
        outputs = []
        for mlp, radius, nsample in zip(self.mlps, self.radii, self.nsamples, strict=True):
            grouped = self._group(xyz, features, centers, radius, nsample)  # (B, S, K, C)
            outputs.append(ops.max(mlp(grouped, training=training), axis=2))
        return centers, outputs[0] if len(outputs) == 1 else ops.concatenate(outputs, axis=-1)

    def compute_output_shape(self, xyz_shape, features_shape=None):
        count = 1 if self.npoint is None else self.npoint
        width = sum(m.widths[-1] for m in self.mlps)
        return (xyz_shape[0], count, 3), (xyz_shape[0], count, width)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class FeaturePropagation(ZooLayer):
    """Known features interpolated onto unknown points (3-NN, inverse distance), [interpolated, skip] -> shared MLP.

    Call: (unknown_xyz (B, M, 3), known_xyz (B, S, 3) or None, unknown_features (B, M, C1) or None,
    known_features (B, S, C2)) -> (B, M, mlp[-1]). known_xyz None: the single known feature vector is broadcast
    to every unknown point (Pointnet2's FP after a group-all SA).
    """

    def __init__(self, mlp: tuple[int, ...], bn_momentum: float = 0.99, **kwargs):
        super().__init__(**kwargs)
        self.mlp = SharedMLP(tuple(mlp), bn_momentum, name="mlp")

    def build(self, unknown_xyz_shape, known_xyz_shape=None, unknown_features_shape=None, known_features_shape=None):
        channels = int(known_features_shape[-1]) + (0 if unknown_features_shape is None else int(unknown_features_shape[-1]))
        self.mlp.build((None, None, channels))

    def call(self, unknown_xyz, known_xyz=None, unknown_features=None, known_features=None, training=False):
        if known_xyz is None:
            count = ops.shape(unknown_xyz)[1]
            interpolated = ops.repeat(known_features[:, :1], count, axis=1)
        else:
            interpolated = three_nn_interpolate(unknown_xyz, known_xyz, known_features)
        if unknown_features is not None:
            interpolated = ops.concatenate([interpolated, unknown_features], axis=-1)
        return self.mlp(interpolated, training=training)

    def compute_output_shape(self, unknown_xyz_shape, *args, **kwargs):
        return (unknown_xyz_shape[0], unknown_xyz_shape[1], self.mlp.widths[-1])
