"""ConvONet (Peng et al., ECCV 2020): point cloud -> feature planes / grid -> occupancy of query points.

Shapes and widths from the authors' `src/encoder/pointnet.py` (LocalPoolPointnet), `src/layers.py`
(ResnetBlockFC) and `src/conv_onet/models/decoder.py` (LocalDecoder); see the spec card:
- encoder: fc_pos 3 -> 2h; block 0: ResnetBlockFC(2h -> h); blocks 1..n-1: [net, local pool(net)] ->
  ResnetBlockFC(2h -> h), where local pool = per feature (each plane, or the grid) scatter-max of the
  point features into their cell, read back at every point, summed over the features; fc_c h -> c_dim;
  then per plane a scatter-mean into a R x R map (grid: R^3) and the shared U-Net;
- decoder: c = sum over planes of the bilinear read (grid: trilinear); net = fc_p(p);
  n times net = block_i(net + fc_c_i(c)); logit = fc_out(relu(net)).
Features travel as {"planes": (B, P, R, R, c_dim)} (planes in `plane_type` order) and/or
{"grid": (B, R, R, R, c_dim)} indexed [z][y][x] (features.py).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooLayer, ZooSubclassModel
from research.three_d.conv_onet import features as F
from research.three_d.conv_onet.unet import UNet2D, UNet3D


def dense(units: int, name: str, use_bias: bool = True, zeros: bool = False) -> layers.Dense:
    """nn.Linear's default weight init U(-1/sqrt(fan_in), 1/sqrt(fan_in)), one initializer per layer: an unseeded
    Keras initializer fixes its seed when constructed, so a shared one gave same-shaped layers equal weights."""
    init = "zeros" if zeros else keras.initializers.VarianceScaling(1.0 / 3.0, "fan_in", "uniform")
    return layers.Dense(units, use_bias=use_bias, kernel_initializer=init, name=name)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ResnetBlockFC(ZooLayer):
    """x + fc_1(relu(fc_0(relu(x)))), shortcut Linear without bias when the width changes; fc_1 starts at 0."""

    def __init__(self, size_in: int, size_out: int | None = None, **kwargs):
        super().__init__(**kwargs)
        size_out = size_out or size_in
        self.size_in, self.size_out = size_in, size_out
        self.fc_0 = dense(min(size_in, size_out), "fc_0")
        self.fc_1 = dense(size_out, "fc_1", zeros=True)
        self.shortcut = None if size_in == size_out else dense(size_out, "shortcut", use_bias=False)

    def build(self, input_shape):
        self.fc_0.build((None, self.size_in))
        self.fc_1.build((None, self.fc_0.units))
        if self.shortcut is not None:
            self.shortcut.build((None, self.size_in))
        self.built = True

    def call(self, x):
        dx = self.fc_1(ops.relu(self.fc_0(ops.relu(x))))
        return (x if self.shortcut is None else self.shortcut(x)) + dx


@keras.saving.register_keras_serializable(package="eccv20zoo")
class LocalPoolPointnet(ZooLayer):
    """(B, N, 3) points -> {"planes": (B, P, R, R, c_dim)} and/or {"grid": (B, G, G, G, c_dim)}."""

    def __init__(self, plane_type: tuple[str, ...] = ("xz", "xy", "yz"), plane_resolution: int = 64,
                 grid_resolution: int = 32, hidden_dim: int = 32, c_dim: int = 32, n_blocks: int = 5,
                 unet_depth: int = 4, unet_filters: int = 32, unet3d_levels: int = 3, unet3d_f_maps: int = 32,
                 padding: float = 0.1, scatter_type: str = "max", **kwargs):
        super().__init__(**kwargs)
        if scatter_type not in ("max", "mean"):
            raise ValueError(f"LocalPoolPointnet: scatter_type must be max or mean, got {scatter_type!r}")
        bad = [p for p in plane_type if p not in (*F.PLANE_AXES, "grid")]
        if bad or not plane_type:
            raise ValueError(f"LocalPoolPointnet: plane_type entries must be xz, xy, yz or grid, got {plane_type}")
        self.planes = tuple(p for p in plane_type if p != "grid")
        self.use_grid = "grid" in plane_type
        self.reso_plane, self.reso_grid = plane_resolution, grid_resolution
        self.hidden_dim, self.c_dim, self.padding, self.scatter_type = hidden_dim, c_dim, padding, scatter_type
        self.fc_pos = dense(2 * hidden_dim, "fc_pos")
        self.n_blocks = n_blocks
        for i in range(n_blocks):  # attributes, not a list: tf.train.Checkpoint skips Keras 3 tracked lists
            setattr(self, f"block_{i}", ResnetBlockFC(2 * hidden_dim, hidden_dim, name=f"block_{i}"))
        self.fc_c = dense(c_dim, "fc_c")
        self.unet = UNet2D(c_dim, c_dim, unet_depth, unet_filters, name="unet") if self.planes and unet_depth else None
        self.unet3d = (UNet3D(c_dim, c_dim, unet3d_levels, unet3d_f_maps, name="unet3d")
                       if self.use_grid and unet3d_levels else None)

    @property
    def blocks(self) -> list[ResnetBlockFC]:
        return [getattr(self, f"block_{i}") for i in range(self.n_blocks)]

    def build(self, input_shape):
        self.fc_pos.build((None, 3))
        for block in self.blocks:
            block.build((None, 2 * self.hidden_dim))
        self.fc_c.build((None, self.hidden_dim))
        if self.unet is not None:
            self.unet.build((None, self.reso_plane, self.reso_plane, self.c_dim))
        if self.unet3d is not None:
            self.unet3d.build((None, self.reso_grid, self.reso_grid, self.reso_grid, self.c_dim))
        self.built = True

    def cell_indices(self, points) -> list[tuple[int, object]]:
        """[(cells, (B, N) cell index)] for each plane in order, then the grid."""
        out = [(self.reso_plane ** 2, F.cell_index(F.plane_coordinates(points, p, self.padding), self.reso_plane))
               for p in self.planes]
        if self.use_grid:
            out.append((self.reso_grid ** 3, F.cell_index(F.grid_coordinates(points, self.padding), self.reso_grid)))
        return out

    def pool_local(self, net, indices):
        scatter = F.scatter_max if self.scatter_type == "max" else F.scatter_mean
        pooled = 0.0
        for cells, index in indices:
            pooled = pooled + F.gather_cells(scatter(net, index, cells), index)
        return pooled

    def point_features(self, points):
        """(B, N, 3) -> (B, N, c_dim) per-point features before the projection."""
        indices = self.cell_indices(points)
        net = self.blocks[0](self.fc_pos(points))
        for block in self.blocks[1:]:
            net = block(ops.concatenate([net, self.pool_local(net, indices)], axis=-1))
        return self.fc_c(net), indices

    def call(self, points):
        c, indices = self.point_features(points)
        batch = ops.shape(points)[0]
        out = {}
        if self.planes:
            res = self.reso_plane
            maps = [ops.reshape(F.scatter_mean(c, index, cells), (batch, res, res, self.c_dim))
                    for cells, index in indices[: len(self.planes)]]
            stacked = ops.reshape(ops.stack(maps, axis=1), (-1, res, res, self.c_dim))
            if self.unet is not None:  # one U-Net shared by the planes
                stacked = self.unet(stacked)
            out["planes"] = ops.reshape(stacked, (batch, len(self.planes), res, res, self.c_dim))
        if self.use_grid:
            res = self.reso_grid
            cells, index = indices[-1]
            grid = ops.reshape(F.scatter_mean(c, index, cells), (batch, res, res, res, self.c_dim))
            out["grid"] = self.unet3d(grid) if self.unet3d is not None else grid
        return out


@keras.saving.register_keras_serializable(package="eccv20zoo")
class LocalDecoder(ZooLayer):
    """({"planes"|"grid"}, (B, T, 3) queries) -> (B, T) occupancy logits."""

    def __init__(self, plane_type: tuple[str, ...] = ("xz", "xy", "yz"), c_dim: int = 32, hidden_size: int = 32,
                 n_blocks: int = 5, padding: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.planes = tuple(p for p in plane_type if p != "grid")
        self.use_grid = "grid" in plane_type
        self.c_dim, self.hidden_size, self.padding = c_dim, hidden_size, padding
        self.fc_p = dense(hidden_size, "fc_p")
        self.n_blocks = n_blocks
        for i in range(n_blocks):  # attributes, not lists (see LocalPoolPointnet)
            setattr(self, f"fc_c_{i}", dense(hidden_size, f"fc_c_{i}"))
            setattr(self, f"block_{i}", ResnetBlockFC(hidden_size, name=f"block_{i}"))
        self.fc_out = dense(1, "fc_out")

    @property
    def fc_c(self) -> list:
        return [getattr(self, f"fc_c_{i}") for i in range(self.n_blocks)]

    @property
    def blocks(self) -> list[ResnetBlockFC]:
        return [getattr(self, f"block_{i}") for i in range(self.n_blocks)]

    def build(self, input_shape=None):
        self.fc_p.build((None, 3))
        for fc, block in zip(self.fc_c, self.blocks, strict=True):
            fc.build((None, self.c_dim))
            block.build((None, self.hidden_size))
        self.fc_out.build((None, self.hidden_size))
        self.built = True

    def sample(self, feats, queries):
        """(B, T, c_dim): the sum of the features read at the queries (grid first, then the planes)."""
        c = 0.0
        if self.use_grid:
            c = c + F.sample_grid(feats["grid"], F.grid_coordinates(queries, self.padding))
        for i, plane in enumerate(self.planes):
            c = c + F.sample_plane(feats["planes"][:, i], F.plane_coordinates(queries, plane, self.padding))
        return c

    def call(self, feats, queries):
        c = self.sample(feats, queries)
        net = self.fc_p(queries)
        for fc, block in zip(self.fc_c, self.blocks, strict=True):
            net = block(net + fc(c))
        return ops.squeeze(self.fc_out(ops.relu(net)), -1)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ConvONet(ZooSubclassModel):
    """{"points": (B, N, 3), "queries": (B, T, 3)} in the padded unit cube -> (B, T) occupancy logits.

    `encode(points)` gives the feature dict, `decode(features, queries)` the logits (the two serving
    signatures); `decoder_model(batch, queries)` is the functional decoder TFLite holds.
    """

    def __init__(self, plane_type: tuple[str, ...] = ("xz", "xy", "yz"), plane_resolution: int = 64,
                 grid_resolution: int = 32, hidden_dim: int = 32, c_dim: int = 32, n_blocks: int = 5,
                 unet_depth: int = 4, unet_filters: int = 32, unet3d_levels: int = 3, unet3d_f_maps: int = 32,
                 decoder_hidden: int = 32, padding: float = 0.1, scatter_type: str = "max", **kwargs):
        super().__init__(**kwargs)
        plane_type = tuple(plane_type)
        self.plane_type = plane_type
        self.encoder = LocalPoolPointnet(plane_type, plane_resolution, grid_resolution, hidden_dim, c_dim, n_blocks,
                                         unet_depth, unet_filters, unet3d_levels, unet3d_f_maps, padding,
                                         scatter_type, name="encoder")
        self.decoder = LocalDecoder(plane_type, c_dim, decoder_hidden, n_blocks, padding, name="decoder")
        self.encoder.build((None, None, 3))
        self.decoder.build()
        self.built = True
        # What the model takes, for tools that read `model.inputs` (the registry sweep, the model table);
        # the network is a plain subclass: scatters need the concrete batch size for their segment counts.
        self.inputs = [keras.KerasTensor((None, None, 3), name="points"),
                       keras.KerasTensor((None, None, 3), name="queries")]

    def encode(self, points):
        return self.encoder(points)

    def decode(self, feats, queries):
        return self.decoder(feats, queries)

    def call(self, inputs, training=False):
        return self.decode(self.encode(inputs["points"]), inputs["queries"])

    def feature_shapes(self) -> dict[str, tuple[int, ...]]:
        """Per-example shapes of the feature dict `encode` returns."""
        enc, out = self.encoder, {}
        if enc.planes:
            out["planes"] = (len(enc.planes), enc.reso_plane, enc.reso_plane, enc.c_dim)
        if enc.use_grid:
            out["grid"] = (enc.reso_grid,) * 3 + (enc.c_dim,)
        return out

    def decoder_model(self, batch: int | None = 1, queries: int | None = None) -> keras.Model:
        """A functional model (features..., queries) -> logits sharing this model's decoder weights."""
        feats = {k: keras.Input(shape, batch_size=batch, name=k) for k, shape in self.feature_shapes().items()}
        q = keras.Input((queries, 3), batch_size=batch, name="queries")
        return keras.Model([*feats.values(), q], self.decoder(feats, q), name="conv_onet_decoder")
