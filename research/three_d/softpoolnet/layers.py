"""SoftPoolNet's blocks: soft pooling, per-region layers (one weight set per region), patch deforming,
and the regional entropy term.

Layouts are channels-last: per-point features (B, N, C); the soft-pooled tensor (B, R, K, C) with
R = regions (one per feature channel), K = ranks kept per region; point clouds (B, P, 3).
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from official.core.base_model import ZooLayer
from official.ops.point_ops import gather_points


@keras.saving.register_keras_serializable(package="eccv20zoo")
class SoftPool(ZooLayer):
    """Per-channel sort of the points, keeping `ranks` rows per channel, xyz of the kept points appended.

    For channel k the N points are ranked by F[:, k] (descending, the paper; ties keep the lower index)
    and region k holds the features of the kept points: F*[b, k, r, :] = F[b, idx_k[r], :], so
    F*[b, k, 0, k] = max_n F[b, n, k] (PointNet's max-pool is a subset). `rank_sampling`:
    - "top": the first `ranks` rows (paper, "first N_r rows"; one `top_k(ranks)`);
    - "spread": `ranks` evenly spaced rows of the full sort, floor(linspace(0, N-1, ranks)) (the
      PyTorch code's N_p = 32 of 2,048; its sort is ascending, ours descending - flagged in the card).
    Inputs [features (B, N, C), points (B, N, 3)] -> (B, C, ranks, C + 3). Gradients reach the gathered
    values, not the ordering (piecewise-constant indices).
    """

    def __init__(self, ranks: int = 32, rank_sampling: str = "top", **kwargs):
        super().__init__(**kwargs)
        if rank_sampling not in ("top", "spread"):
            raise ValueError(f"SoftPool: rank_sampling must be 'top' or 'spread', got {rank_sampling!r}")
        self.ranks = int(ranks)
        self.rank_sampling = rank_sampling

    def indices(self, features):
        """(B, C, ranks) int32 point indices of each region."""
        n = features.shape[1]
        per_channel = ops.transpose(features, (0, 2, 1))  # (B, C, N)
        if self.rank_sampling == "top":
            _, idx = ops.top_k(per_channel, self.ranks, sorted=True)
            return ops.cast(idx, "int32")
        if n is None:
            raise ValueError("SoftPool(rank_sampling='spread') needs a static point count")
        _, idx = ops.top_k(per_channel, n, sorted=True)
        keep = np.floor(np.linspace(0, n - 1, self.ranks)).astype("int32")
        return ops.cast(ops.take(idx, keep, axis=2), "int32")

    def call(self, inputs):
        features, points = inputs
        idx = self.indices(features)
        pooled = gather_points(features, idx)  # (B, C, ranks, C)
        xyz = gather_points(ops.cast(points, pooled.dtype), idx)  # (B, C, ranks, 3)
        return ops.concatenate([pooled, xyz], axis=-1)

    def compute_output_shape(self, input_shape):
        features, _ = input_shape
        c = features[-1]
        return (features[0], c, self.ranks, c + 3)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class RegionDense(ZooLayer):
    """A 1x1 conv with its own weights per region: (B, K, R, Cin) -> (B, K, R, units) (regions second to last).

    The PyTorch code builds one `PointGenCon` module per region (`nn.ModuleList`); one (R, Cin, units)
    kernel applied by einsum is the same computation in one op.
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)

    def build(self, input_shape):
        regions, cin = int(input_shape[2]), int(input_shape[-1])
        # PyTorch Conv1d default init bound 1/sqrt(fan_in) (kaiming-uniform a=sqrt(5)), per region
        bound = 1.0 / math.sqrt(cin)
        init = keras.initializers.RandomUniform(-bound, bound)
        self.kernel = self.add_weight(name="kernel", shape=(regions, cin, self.units), initializer=init)
        self.bias = self.add_weight(name="bias", shape=(regions, self.units), initializer=init)

    def call(self, x):
        return ops.einsum("bkrc,rcd->bkrd", x, ops.cast(self.kernel, x.dtype)) + ops.cast(self.bias, x.dtype)[None, None]

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class PatchGrid(ZooLayer):
    """Tiles each coarse point into a g1 x g2 patch: [coarse (B, P, 3), global (B, G)] ->
    (B, P * g1 * g2, 2 + 3 + G) = (grid offset, centre, global feature) per fine point (PCN folding).

    Grid values are linspace(-scale, scale, g) per axis (0 for g = 1); PCN/TF code: 16x16 or 8x8 at 0.05.
    """

    def __init__(self, grid: tuple[int, int] = (4, 4), scale: float = 0.05, **kwargs):
        super().__init__(**kwargs)
        self.grid = tuple(int(g) for g in grid)
        self.scale = float(scale)

    def grid_points(self) -> np.ndarray:
        axes = [np.linspace(-self.scale, self.scale, g) if g > 1 else np.zeros(1) for g in self.grid]
        u, v = np.meshgrid(axes[0], axes[1], indexing="ij")
        return np.stack([u.ravel(), v.ravel()], axis=-1).astype("float32")  # (g1*g2, 2)

    def call(self, inputs):
        coarse, global_feat = inputs
        patch = self.grid_points()
        s = len(patch)
        batch, p = ops.shape(coarse)[0], coarse.shape[1]
        grid = ops.broadcast_to(ops.cast(patch, coarse.dtype)[None, None], (batch, p, s, 2))
        centre = ops.broadcast_to(coarse[:, :, None, :], (batch, p, s, 3))
        glob = ops.broadcast_to(global_feat[:, None, None, :], (batch, p, s, global_feat.shape[-1]))
        return ops.reshape(ops.concatenate([grid, centre, glob], axis=-1), (batch, p * s, 5 + global_feat.shape[-1]))

    def compute_output_shape(self, input_shape):
        coarse, glob = input_shape
        s = self.grid[0] * self.grid[1]
        return (coarse[0], None if coarse[1] is None else coarse[1] * s, 5 + glob[-1])


@keras.saving.register_keras_serializable(package="eccv20zoo")
class TileGlobal(ZooLayer):
    """[grid (B, R, K, C), vector (B, G)] -> the vector tiled to (B, R, K, G)."""

    def call(self, inputs):
        grid, vec = inputs
        shape = ops.shape(grid)
        return ops.broadcast_to(vec[:, None, None, :], (shape[0], shape[1], shape[2], vec.shape[-1]))

    def compute_output_shape(self, input_shape):
        grid, vec = input_shape
        return (*grid[:3], vec[-1])


@keras.saving.register_keras_serializable(package="eccv20zoo")
class PatchCentre(ZooLayer):
    """The patch centre (columns 2:5) of PatchGrid's rows (the coarse point each fine point deforms)."""

    def call(self, patches):
        return patches[..., 2:5]

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 3)


def regional_entropy(logits):
    """ReLU(log K - H(p_bar)) averaged as in the TF code: p = softmax over the K region logits of each
    point (B, P, K), p_bar = mean over points, loss = ReLU(log K + mean_b sum_k p_bar log p_bar).
    0 when every region is used equally, log K when all points pick one region."""
    k = logits.shape[-1]
    p_bar = ops.mean(ops.softmax(ops.cast(logits, "float32"), axis=-1), axis=1)  # (B, K)
    neg_entropy = ops.sum(p_bar * ops.log(ops.maximum(p_bar, 1e-12)), axis=-1)
    return ops.relu(math.log(float(k)) + ops.mean(neg_entropy))
