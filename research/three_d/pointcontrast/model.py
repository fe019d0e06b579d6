"""Res16UNet (PointContrast's `model/res16unet.py`): a MinkowskiEngine sparse U-Net on voxelised scans.

Input (padded to a static voxel capacity V per sample):
  coords (batch, V, 3) int32 voxel coordinates, non-negative and below 2**coord_bits,
  feats (batch, V, in_channels) float32 (constant ones + jitter in pre-training; RGB in fine-tuning),
  mask (batch, V) float32, 1 on real voxels.
Output: (batch, V, out_channels) per-voxel features, L2-normalised when `normalize_feature`, 0 at padding.
The sample's coordinate levels (strides 1, 2, 4, 8, 16), their key tables and the kernel maps are
built in the graph (official/ops/voxel_ops.py), once per call, and shared by the layers of a level.
Layout (code, spec card "Method"): conv0 (conv1_kernel_size^3) + BN + ReLU; 4 x [2^3 stride-2 conv +
BN + ReLU + BasicBlocks]; 4 x [2^3 stride-2 transposed conv + BN + ReLU, concat the skip, BasicBlocks];
final 1x1x1 conv with bias. No other biases. A stage of 0 blocks is allowed (test-sized variants). The stem/transition BNs and the blocks' projection BNs use
`bn_momentum` (0.05, config opt.bn_momentum); the BNs inside BasicBlocks use 0.1 (`_make_layer`
does not pass the momentum on to the block).
`capacity_ratio` < 1 gives level l (stride 2^l) ceil-free V x ratio^l slots instead of V: less work on
coarse levels, whose voxel count falls ~4x per level on surfaces; voxels beyond a level's capacity are
dropped (the last in (sample, x, y, z) order), so 1.0 (exact) is the default.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from official.core.base_model import ZooSubclassModel
from official.ops import voxel_ops
from research.three_d.pointcontrast.layers import SparseBatchNorm, SparseConv

RES16UNET34C_PLANES = (32, 64, 128, 256, 256, 128, 96, 96)  # Res16UNet34C.PLANES
RES16UNET34_LAYERS = (2, 3, 4, 6, 2, 2, 2, 2)  # Res16UNet34.LAYERS (BasicBlock)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class BasicBlock(keras.layers.Layer):
    """3^3 conv + BN + ReLU + 3^3 conv + BN + shortcut (1x1x1 conv + BN when the width changes) + ReLU."""

    def __init__(self, in_channels: int, channels: int, bn_momentum: float, block_bn_momentum: float, **kwargs):
        super().__init__(**kwargs)
        self.in_channels, self.channels = in_channels, channels
        self.bn_momentum, self.block_bn_momentum = bn_momentum, block_bn_momentum
        self.conv1 = SparseConv(in_channels, channels, 3, name="conv1")
        self.norm1 = SparseBatchNorm(channels, block_bn_momentum, name="norm1")
        self.conv2 = SparseConv(channels, channels, 3, name="conv2")
        self.norm2 = SparseBatchNorm(channels, block_bn_momentum, name="norm2")
        self.projection = None
        if in_channels != channels:
            self.projection = SparseConv(in_channels, channels, 1, name="downsample_0")
            self.projection_norm = SparseBatchNorm(channels, bn_momentum, name="downsample_1")
        self.built = True

    def call(self, x, kmap, mask, training=False):
        out = ops.relu(self.norm1(self.conv1(x, kmap), mask, training=training))
        out = self.norm2(self.conv2(out, kmap), mask, training=training)
        shortcut = x if self.projection is None else self.projection_norm(self.projection(x), mask, training=training)
        return ops.relu(out + shortcut)

    def official_layers(self, prefix: str) -> dict[str, keras.layers.Layer]:
        out = {f"{prefix}.conv1": self.conv1, f"{prefix}.norm1": self.norm1,
               f"{prefix}.conv2": self.conv2, f"{prefix}.norm2": self.norm2}
        if self.projection is not None:
            out.update({f"{prefix}.downsample.0": self.projection, f"{prefix}.downsample.1": self.projection_norm})
        return out

    def get_config(self):
        return {**super().get_config(), "in_channels": self.in_channels, "channels": self.channels,
                "bn_momentum": self.bn_momentum, "block_bn_momentum": self.block_bn_momentum}


@keras.saving.register_keras_serializable(package="eccv20zoo")
class Res16UNet(ZooSubclassModel):
    """Sparse U-Net with four stride-2 levels; `planes`/`layers` give Res16UNet34C by default."""

    def __init__(self, in_channels: int = 3, out_channels: int = 32,
                 planes: tuple[int, ...] = RES16UNET34C_PLANES, layers: tuple[int, ...] = RES16UNET34_LAYERS,
                 init_dim: int = 32, conv1_kernel_size: int = 3, normalize_feature: bool = True,
                 bn_momentum: float = 0.05, block_bn_momentum: float = 0.1, coord_bits: int = 9,
                 capacity_ratio: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        planes, layers = tuple(int(p) for p in planes), tuple(int(n) for n in layers)
        if len(planes) != 8 or len(layers) != 8:
            raise ValueError(f"Res16UNet: planes and layers need 8 entries, got {planes} and {layers}")
        self.in_channels, self.out_channels, self.planes, self.layers_per_stage = in_channels, out_channels, planes, layers
        self.init_dim, self.conv1_kernel_size, self.normalize_feature = init_dim, conv1_kernel_size, normalize_feature
        self.bn_momentum, self.block_bn_momentum, self.coord_bits = bn_momentum, block_bn_momentum, coord_bits
        self.capacity_ratio = float(capacity_ratio)
        bn = bn_momentum
        self.conv0 = SparseConv(in_channels, init_dim, conv1_kernel_size, name="conv0p1s1")
        self.bn0 = SparseBatchNorm(init_dim, bn, name="bn0")
        width = init_dim
        self.down_convs, self.down_bns, self.stages = [], [], []
        skip_widths = [init_dim]
        for i in range(4):  # encoder: conv{i+1}p{2^i}s2, bn{i+1}, block{i+1}
            self.down_convs.append(SparseConv(width, width, 2, name=f"conv{i + 1}p{2**i}s2"))
            self.down_bns.append(SparseBatchNorm(width, bn, name=f"bn{i + 1}"))
            width = self._stage(i, width)
            skip_widths.append(width)
        skips = skip_widths[3::-1]  # planes[2], planes[1], planes[0], init_dim when every stage has blocks
        self.up_convs, self.up_bns = [], []
        for j in range(4):  # decoder: convtr{j+4}p{2^(4-j)}s2, bntr{j+4}, concat skip, block{j+5}
            i = 4 + j
            self.up_convs.append(SparseConv(width, planes[i], 2, transposed=True, name=f"convtr{i}p{2 ** (4 - j)}s2"))
            self.up_bns.append(SparseBatchNorm(planes[i], bn, name=f"bntr{i}"))
            width = self._stage(i, planes[i] + skips[j])
        self.final = SparseConv(width, out_channels, 1, use_bias=True, name="final")
        self.built = True

    def _stage(self, i: int, width: int) -> int:
        blocks = []
        for b in range(self.layers_per_stage[i]):
            blocks.append(BasicBlock(width, self.planes[i], self.bn_momentum, self.block_bn_momentum,
                                     name=f"block{i + 1}_{b}"))
            width = self.planes[i]
        self.stages.append(blocks)
        return width

    # --- the coordinate levels -----------------------------------------------------------------
    def sparse_structure(self, coords, mask) -> dict[str, list]:
        """Levels 0-4 (coords, batch, mask), their 3^3 maps, and the down/up maps between levels."""
        bits = self.coord_bits
        batch_size, capacity = ops.shape(coords)[0], ops.shape(coords)[1]
        c = ops.reshape(ops.cast(coords, "int32"), (-1, 3))
        b = ops.reshape(ops.repeat(ops.arange(batch_size, dtype="int32")[:, None], capacity, axis=1), (-1,))
        m = ops.reshape(ops.cast(mask, "float32") > 0.5, (-1,))
        levels = [(c, b, m)]
        rows = c.shape[0]
        for i in range(4):
            cap = None if rows is None or self.capacity_ratio >= 1 else max(int(rows * self.capacity_ratio ** (i + 1)), 1)
            levels.append(voxel_ops.downsample(*levels[-1], 2, bits, cap))
        tables = [voxel_ops.key_table(voxel_ops.linear_keys(*lv, bits)) for lv in levels]
        subm = [voxel_ops.conv_kernel_map(t, *lv, 3, 1, bits) for t, lv in zip(tables, levels, strict=True)]
        stem = subm[0] if self.conv1_kernel_size == 3 else voxel_ops.conv_kernel_map(
            tables[0], *levels[0], self.conv1_kernel_size, 1, bits)
        down = [voxel_ops.conv_kernel_map(tables[i], *levels[i + 1], 2, 2, bits) for i in range(4)]
        up = [voxel_ops.transposed_kernel_map(tables[i + 1], *levels[i], 2, 2, bits) for i in range(4)]
        return {"masks": [lv[2] for lv in levels], "subm": subm, "stem": stem, "down": down, "up": up}

    def example_inputs(self, batch: int = 1, voxels: int = 64, seed: int = 0) -> dict[str, Any]:
        """A valid random input (unique voxel coordinates per cloud, all valid), for sweeps and smoke tests."""
        import numpy as np

        rng = np.random.default_rng(seed)
        coords = np.stack([rng.choice(16**3, voxels, replace=False) for _ in range(batch)])
        coords = np.stack([coords // 256, coords // 16 % 16, coords % 16], -1).astype(np.int32)
        feats = rng.uniform(0, 1, (batch, voxels, self.in_channels)).astype(np.float32)
        return {"coords": coords, "feats": feats, "mask": np.ones((batch, voxels), np.float32)}

    def call(self, inputs: dict[str, Any], training=False):
        coords, feats, mask = inputs["coords"], inputs["feats"], inputs["mask"]
        batch_size, capacity = ops.shape(coords)[0], ops.shape(coords)[1]
        s = self.sparse_structure(coords, mask)
        masks = s["masks"]
        x = ops.reshape(ops.cast(feats, "float32"), (-1, self.in_channels))
        x = ops.relu(self.bn0(self.conv0(x, s["stem"]), masks[0], training=training))
        skips = [x]
        for i in range(4):
            x = ops.relu(self.down_bns[i](self.down_convs[i](x, s["down"][i]), masks[i + 1], training=training))
            for block in self.stages[i]:
                x = block(x, s["subm"][i + 1], masks[i + 1], training=training)
            skips.append(x)
        for j in range(4):
            level = 3 - j
            x = ops.relu(self.up_bns[j](self.up_convs[j](x, s["up"][level]), masks[level], training=training))
            x = ops.concatenate([x, skips[level]], axis=-1)
            for block in self.stages[4 + j]:
                x = block(x, s["subm"][level], masks[level], training=training)
        x = self.final(x)
        if self.normalize_feature:
            x = x / ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=-1, keepdims=True), 1e-12))
        x = x * ops.cast(masks[0], x.dtype)[:, None]
        return ops.reshape(x, (batch_size, capacity, self.out_channels))

    def official_layers(self) -> dict[str, keras.layers.Layer]:
        """Official module name (state-dict prefix) -> our layer, for the checkpoint converter."""
        out: dict[str, keras.layers.Layer] = {"conv0p1s1": self.conv0, "bn0": self.bn0}
        for i in range(4):
            out[self.down_convs[i].name] = self.down_convs[i]
            out[f"bn{i + 1}"] = self.down_bns[i]
        for j in range(4):
            out[self.up_convs[j].name] = self.up_convs[j]
            out[f"bntr{4 + j}"] = self.up_bns[j]
        for i, blocks in enumerate(self.stages):
            for b, block in enumerate(blocks):
                out.update(block.official_layers(f"block{i + 1}.{b}"))
        out["final"] = self.final
        return out

    def get_config(self):
        return {**super().get_config(), "in_channels": self.in_channels, "out_channels": self.out_channels,
                "planes": list(self.planes), "layers": list(self.layers_per_stage), "init_dim": self.init_dim,
                "conv1_kernel_size": self.conv1_kernel_size, "normalize_feature": self.normalize_feature,
                "bn_momentum": self.bn_momentum, "block_bn_momentum": self.block_bn_momentum,
                "coord_bits": self.coord_bits, "capacity_ratio": self.capacity_ratio}
