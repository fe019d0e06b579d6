"""SoftPoolNet (Wang et al., ECCV 2020): soft pooling + regional convolutions for completion and
classification.

Layer list: the PyTorch code (wangyida/softpool pytorch/model.py, class MSN's soft-pool branch); the
README beside this file lists what comes from the code, the paper, PCN, and our guesses.
Completion network (partial (B, N, 3) -> coarse (B, R*K, 3), fine (B, R*K*g1*g2, 3)):
1. per-point MLP 3 -> 64 -> 128 -> dim_pn (1x1 conv + BN, ReLU except the last) = SoftPoolFeat;
2. SoftPool: R = dim_pn regions x K = ranks points x (dim_pn + 3) (layers.SoftPool);
3. regional convolutions (REGIONAL_CONVS, Conv2D / Conv2DTranspose along the rank axis, tanh);
4. global branch: PointNet 3 -> 64 -> 128 -> 1024 (BN), max-pool, FC 256 + BN + ReLU (PointNetFeat +
   Linear/BN/ReLU), tiled to every (region, rank);
5. one point generator per region (PointGenCon: b -> b -> b/2 -> b/4 -> 3, b = dim_pn + 256, BN + ReLU)
   -> K points per region = the coarse cloud (the code's `out1`);
6. patch deforming (PCN folding): each coarse point + a g1 x g2 grid + the global feature -> 512 -> 512
   -> 3 offset from its centre = the fine cloud;
7. region logits for the entropy term: the regional-conv feature of each coarse point (dim_pn logits,
   the code's `out_seg`).
"""

from __future__ import annotations

import dataclasses

import keras
from keras import layers, ops
from keras.src.losses import loss as loss_module  # Keras' distribution scaling of losses

from official.core.base_model import ZooModel
from official.losses.chamfer import chamfer_distance
from research.three_d.softpoolnet.layers import (
    PatchCentre,
    PatchGrid,
    RegionDense,
    SoftPool,
    TileGlobal,
    regional_entropy,
)


@dataclasses.dataclass(frozen=True)
class RegionalConv:
    """One regional convolution along the rank axis (PyTorch Conv2d / ConvTranspose2d, kernel (1, k))."""

    width_mult: int  # output channels = width_mult * dim_pn
    kernel: int  # kernel width along ranks; 0 = ranks // 4 (the code's (1, 8) at 32 ranks)
    stride: int
    pad: int  # zero padding on each side of the rank axis (PyTorch padding=(0, pad))
    transpose: bool = False


# pytorch/model.py MSN.encoder, dim_pn = 64: 67->64, 64->64 /2, 64->128, 128->256 /2, 256->512 (1, 8) valid,
# then 512->256 (1, 8)T, 256->128 (1, 2)T /2, 128->64 (1, 2)T /2, 64->64 (1, 5) pad 2; tanh after each.
REGIONAL_CONVS: tuple[RegionalConv, ...] = (
    RegionalConv(1, 3, 1, 1),
    RegionalConv(1, 3, 2, 1),
    RegionalConv(2, 3, 1, 1),
    RegionalConv(4, 3, 2, 1),
    RegionalConv(8, 0, 1, 0),
    RegionalConv(4, 0, 1, 0, transpose=True),
    RegionalConv(2, 2, 2, 0, transpose=True),
    RegionalConv(1, 2, 2, 0, transpose=True),
    RegionalConv(1, 5, 1, 2),
)
ENCODER_DEPTH = 5  # the first five reach the (R, 1, 8 dim_pn) bottleneck (the classifier stops there)


def _bn(name: str):
    # PyTorch BatchNorm defaults: momentum 0.1 (Keras 0.9), eps 1e-5
    return layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=name)


def point_mlp(x, widths, prefix: str, last_relu: bool):
    """1x1 convs + BN (+ ReLU) over points (B, N, C)."""
    for i, w in enumerate(widths):
        x = layers.Conv1D(w, 1, name=f"{prefix}conv{i + 1}")(x)
        x = _bn(f"{prefix}bn{i + 1}")(x)
        if last_relu or i < len(widths) - 1:
            x = layers.ReLU(name=f"{prefix}relu{i + 1}")(x)
    return x


def regional_convs(x, dim_pn: int, ranks: int, specs=REGIONAL_CONVS, prefix: str = "regional_"):
    """The regional convolutions over the soft-pooled (B, R, K, C) tensor, tanh after each."""
    if ranks % 4 or ranks < 4:
        raise ValueError(f"SoftPoolNet: ranks must be a multiple of 4 (two stride-2 convs), got {ranks}")
    for i, s in enumerate(specs):
        kernel = s.kernel or ranks // 4
        if s.pad:
            x = layers.ZeroPadding2D(((0, 0), (s.pad, s.pad)), name=f"{prefix}pad{i + 1}")(x)
        conv = layers.Conv2DTranspose if s.transpose else layers.Conv2D
        x = conv(s.width_mult * dim_pn, (1, kernel), strides=(1, s.stride), padding="valid",
                 activation="tanh", name=f"{prefix}conv{i + 1}")(x)
    return x


def soft_pool_features(points, point_widths, dim_pn: int, ranks: int, rank_sampling: str):
    """SoftPoolFeat: per-point MLP then SoftPool -> (B, dim_pn, ranks, dim_pn + 3)."""
    feats = point_mlp(points, (*point_widths, dim_pn), "softpool_", last_relu=False)
    return SoftPool(ranks, rank_sampling, name="soft_pool")([feats, points])


def global_feature(points, global_widths, global_dim: int):
    """PointNetFeat (max-pooled, last conv without ReLU) + Linear/BN/ReLU -> (B, global_dim)."""
    x = point_mlp(points, global_widths, "pointnet_", last_relu=False)
    x = layers.GlobalMaxPooling1D(name="pointnet_maxpool")(x)
    x = layers.Dense(global_dim, name="pointnet_fc")(x)
    x = _bn("pointnet_fc_bn")(x)
    return layers.ReLU(name="pointnet_fc_relu")(x)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class SoftPoolNetCompletion(ZooModel):
    """Partial cloud (B, num_points, 3) -> {"coarse", "fine", "region_logits"}.

    Args:
        num_points: partial points per example (static: the sort and export need it).
        point_widths: hidden widths of the soft-pool branch's per-point MLP (code: 64, 128).
        dim_pn: N_f, feature channels = regions (code: 64).
        ranks: N_r / N_p, points kept per region (code: 32); a multiple of 4.
        rank_sampling: "top" (paper: first N_r rows) or "spread" (code: evenly spaced ranks).
        global_widths: the PointNet branch's per-point widths (code: 64, 128, 1024).
        global_dim: its FC width (code: 256).
        grid: (g1, g2) patch per coarse point; fine = R * ranks * g1 * g2 points.
        grid_scale: patch half-extent (PCN / TF code: 0.05).
        fold_widths: hidden widths of the patch-deforming MLP (PCN / TF code: 512, 512).
        entropy_weight: weight of the regional entropy term (TF code: 0.1).
        alpha_boundaries, alpha_values: the coarse Chamfer weight per training step (PCN's ramp).
        chamfer_chunk: query points per distance block for large clouds (0 = one block).
    """

    def __init__(
        self,
        num_points: int = 2048,
        point_widths: tuple[int, ...] = (64, 128),
        dim_pn: int = 64,
        ranks: int = 32,
        rank_sampling: str = "top",
        global_widths: tuple[int, ...] = (64, 128, 1024),
        global_dim: int = 256,
        grid: tuple[int, int] = (1, 1),
        grid_scale: float = 0.05,
        fold_widths: tuple[int, ...] = (512, 512),
        entropy_weight: float = 0.1,
        alpha_boundaries: tuple[int, ...] = (10_000, 20_000, 50_000),
        alpha_values: tuple[float, ...] = (0.01, 0.1, 0.5, 1.0),
        chamfer_chunk: int = 0,
        **kwargs,
    ):
        if len(alpha_values) != len(alpha_boundaries) + 1:
            raise ValueError("SoftPoolNetCompletion: alpha_values needs one more entry than alpha_boundaries")
        points = keras.Input(shape=(num_points, 3), name="partial")
        pooled = soft_pool_features(points, point_widths, dim_pn, ranks, rank_sampling)
        regional = regional_convs(pooled, dim_pn, ranks)  # (B, R, K, dim_pn)
        glob = global_feature(points, global_widths, global_dim)  # (B, G)
        tiled = TileGlobal(name="tile_global")([regional, glob])
        y = layers.Concatenate(name="generator_input")([regional, tiled])
        y = layers.Permute((2, 1, 3), name="generator_rank_major")(y)  # (B, K, R, C): regions beside channels
        b = dim_pn + global_dim
        for i, w in enumerate((b, b // 2, b // 4)):
            y = RegionDense(w, name=f"generator_conv{i + 1}")(y)
            # BatchNorm1d of each region's generator: statistics over (batch, ranks) per (region, channel)
            y = layers.Reshape((ranks, dim_pn * w), name=f"generator_flat{i + 1}")(y)
            y = _bn(f"generator_bn{i + 1}")(y)
            y = layers.ReLU(name=f"generator_relu{i + 1}")(y)
            y = layers.Reshape((ranks, dim_pn, w), name=f"generator_unflat{i + 1}")(y)
        y = RegionDense(3, name="generator_conv4")(y)
        y = layers.Permute((2, 1, 3), name="generator_region_major")(y)  # (B, R, K, 3)
        regions = dim_pn * ranks
        coarse = layers.Reshape((regions, 3), name="coarse")(y)
        logits = layers.Reshape((regions, dim_pn), name="region_logits")(regional)
        patches = PatchGrid(tuple(grid), grid_scale, name="patch_grid")([coarse, glob])
        offset = patches
        for i, w in enumerate(fold_widths):
            offset = layers.Conv1D(w, 1, activation="relu", name=f"fold_conv{i + 1}")(offset)
        offset = layers.Conv1D(3, 1, name=f"fold_conv{len(fold_widths) + 1}")(offset)
        centre = PatchCentre(name="patch_centre")(patches)
        fine = layers.Add(name="fine")([centre, offset])
        outputs = {"coarse": coarse, "fine": fine, "region_logits": logits}
        super().__init__(inputs=points, outputs=outputs, **kwargs)

    # --- objective -----------------------------------------------------------------------------
    def coarse_weight(self, step):
        """alpha(step): PCN's piecewise-constant ramp of the coarse Chamfer weight."""
        args = self.constructor_args
        values, bounds = args["alpha_values"], args["alpha_boundaries"]
        step = ops.cast(step, "float32")
        alpha = ops.convert_to_tensor(values[0], "float32")
        for bound, before, after in zip(bounds, values[:-1], values[1:], strict=True):
            alpha = alpha + (after - before) * ops.cast(step >= bound, "float32")
        return alpha

    def loss_terms(self, y_true, y_pred, step=None):
        """{"coarse", "fine", "entropy"} per batch (Chamfer-L2 means; entropy a scalar) and "total"."""
        chunk = self.constructor_args["chamfer_chunk"] or None
        gt = ops.cast(y_true, "float32")
        cd_coarse = ops.mean(chamfer_distance(ops.cast(y_pred["coarse"], "float32"), gt, chunk_size=chunk))
        cd_fine = ops.mean(chamfer_distance(ops.cast(y_pred["fine"], "float32"), gt, chunk_size=chunk))
        entropy = regional_entropy(y_pred["region_logits"])
        alpha = self.coarse_weight(0 if step is None else step)
        total = alpha * cd_coarse + cd_fine + self.constructor_args["entropy_weight"] * entropy
        return {"coarse": cd_coarse, "fine": cd_fine, "entropy": entropy, "total": total}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        step = self.optimizer.iterations if getattr(self, "optimizer", None) is not None else 0
        total = self.loss_terms(y, y_pred, step)["total"]
        if self.losses:
            total = total + ops.sum(ops.stack(self.losses))
        # per-replica share (x 1 / replicas): the optimizers sum gradients over replicas
        return loss_module.scale_loss_for_distribution(total)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class SoftPoolNetClassifier(ZooModel):
    """Points (B, num_points, 3) -> logits (B, classes): SoftPool + the encoding half of the regional
    convolutions (to the (R, 1, 8 dim_pn) bottleneck), max over regions, FC head.

    The classification head is not in the released code: our guess (README), PointNet-style
    FC head_widths + BN + ReLU + dropout, then a linear layer.
    """

    def __init__(
        self,
        num_points: int = 1024,
        classes: int = 40,
        point_widths: tuple[int, ...] = (64, 128),
        dim_pn: int = 64,
        ranks: int = 32,
        rank_sampling: str = "top",
        head_widths: tuple[int, ...] = (256,),
        dropout_rate: float = 0.5,
        **kwargs,
    ):
        points = keras.Input(shape=(num_points, 3), name="points")
        pooled = soft_pool_features(points, point_widths, dim_pn, ranks, rank_sampling)
        x = regional_convs(pooled, dim_pn, ranks, REGIONAL_CONVS[:ENCODER_DEPTH])  # (B, R, 1, 8 dim_pn)
        x = layers.GlobalMaxPooling2D(name="region_maxpool")(x)
        for i, w in enumerate(head_widths):
            x = layers.Dense(w, name=f"head_fc{i + 1}")(x)
            x = _bn(f"head_bn{i + 1}")(x)
            x = layers.ReLU(name=f"head_relu{i + 1}")(x)
            x = layers.Dropout(dropout_rate, name=f"head_dropout{i + 1}")(x)
        logits = layers.Dense(classes, name="logits", dtype="float32")(x)
        super().__init__(inputs=points, outputs=logits, **kwargs)
