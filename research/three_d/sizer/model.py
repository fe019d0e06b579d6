"""SizerNet and ParserNet (Tiwari et al., SIZER, ECCV 2020): dense networks over garment / body vertices.

Widths from the authors' `models/network/net_modules.py` as the spec card (docs: ../shared/specs/sizer.md)
lists them; every layer is a Linear with ReLU, dropout 0.3 after the first hidden layer of each MLP.

SizerNet: garment vertices (B, V, 3) in size A, one-hot size A and size B (4 each), beta (10) ->
displacements D (B, V, 3) that SMPL+G (smplg.py) adds to the garment template before skinning.
  encoder 3V -> floor(3V/30) -> 10L -> L;  decoder [z, size_in, size_out, beta] (L + 18)
  -> 50 (L + 18) -> floor(3V/30) -> 3V.
ParserNet: clothed-body mesh vertices (B, N, F) (F = 3, or 6 with normals) -> per output vertex a
softmax over K candidate input vertices (the `*_gar_order.npy` neighbour list, stored in the model as
a non-trainable int32 weight) -> the weighted sum of those candidates' positions (a convex
combination, so the parsed garment keeps the scan's detail).
  MLP N*F -> floor(N*F/200) -> floor(N*F/50) -> V_out * K.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from official.core.base_model import ZooLayer, ZooModel

NUM_SIZES = 4  # S, M, L, XL


def _dense(units: int, name: str, activation: str | None = None) -> layers.Dense:
    """nn.Linear's default weight init U(-1/sqrt(fan_in), 1/sqrt(fan_in)). One initializer per layer: an
    unseeded Keras initializer fixes its seed when constructed, so a module-level one was seeded at import
    (runs under one runtime.seed differed) and gave every layer the same random stream."""
    init = keras.initializers.VarianceScaling(1.0 / 3.0, "fan_in", "uniform")
    return layers.Dense(units, activation=activation, kernel_initializer=init, name=name)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class SizerNet(ZooModel):
    """(garment (B, V, 3), size_in (B, 4), size_out (B, 4), betas (B, 10)) -> displacements (B, V, 3)."""

    def __init__(self, num_vertices: int = 7702, latent_dim: int = 100, num_betas: int = 10,
                 num_sizes: int = NUM_SIZES, dropout: float = 0.3, name: str = "sizernet", **kwargs):
        flat = 3 * num_vertices
        hidden = flat // 30  # net_modules: int(input_dim / 30)
        cond = latent_dim + 2 * num_sizes + num_betas  # 118 at L = 100
        garment = keras.Input((num_vertices, 3), name="garment")
        size_in = keras.Input((num_sizes,), name="size_in")
        size_out = keras.Input((num_sizes,), name="size_out")
        betas = keras.Input((num_betas,), name="betas")

        x = layers.Reshape((flat,), name="flatten")(garment)
        x = _dense(hidden, "enc_fc1", "relu")(x)
        x = layers.Dropout(dropout, name="enc_drop")(x)
        x = _dense(10 * latent_dim, "enc_fc2", "relu")(x)
        z = _dense(latent_dim, "enc_fc3")(x)
        # the card's condition order: [z, size_in one-hot, size_out one-hot, beta]
        c = layers.Concatenate(name="condition")([z, size_in, size_out, betas])
        y = _dense(50 * cond, "dec_fc1", "relu")(c)
        y = layers.Dropout(dropout, name="dec_drop")(y)
        y = _dense(hidden, "dec_fc2", "relu")(y)
        y = _dense(flat, "dec_fc3")(y)
        displacements = layers.Reshape((num_vertices, 3), name="displacements")(y)
        super().__init__(inputs={"garment": garment, "size_in": size_in, "size_out": size_out, "betas": betas},
                         outputs=displacements, name=name, **kwargs)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ConvexVertexGather(ZooLayer):
    """(vertices (B, N, F), logits (B, V, K)) -> (parsed (B, V, 3), weights (B, V, K)).

    weights = softmax over the K candidates; parsed[v] = sum_k weights[v, k] * vertices[neighbours[v, k], :3].
    `neighbours` (V, K) int32 is a non-trainable weight (set it with `set_neighbours`), so checkpoints,
    .keras files and SavedModels carry the topology with the network.
    """

    def __init__(self, num_output_vertices: int, num_neighbours: int, **kwargs):
        super().__init__(**kwargs)
        self.num_output_vertices = num_output_vertices
        self.num_neighbours = num_neighbours

    def build(self, input_shape=None):
        self.neighbours = self.add_weight(shape=(self.num_output_vertices, self.num_neighbours), dtype="int32",
                                          initializer="zeros", trainable=False, name="neighbours")
        self.built = True

    def call(self, vertices, logits):
        weights = ops.softmax(logits, axis=-1)  # over the K candidates of each output vertex
        flat = ops.reshape(self.neighbours, (-1,))
        candidates = ops.take(vertices[..., :3], flat, axis=1)  # (B, V*K, 3)
        candidates = ops.reshape(candidates, (-1, self.num_output_vertices, self.num_neighbours, 3))
        return ops.sum(weights[..., None] * candidates, axis=2), weights


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ParserNet(ZooModel):
    """vertices (B, N, F) -> {"vertices": (B, V_out, 3), "weights": (B, V_out, K)}.

    Defaults: the card's g5 hi-res UpperClothes network (27,554 SMPL+D vertices -> 7,702 x 50).
    """

    def __init__(self, num_input_vertices: int = 27554, num_output_vertices: int = 7702, num_neighbours: int = 50,
                 feature_dim: int = 3, dropout: float = 0.3, name: str = "parsernet", **kwargs):
        flat = feature_dim * num_input_vertices
        vertices = keras.Input((num_input_vertices, feature_dim), name="vertices")
        x = layers.Reshape((flat,), name="flatten")(vertices)
        x = _dense(flat // 200, "fc1", "relu")(x)  # net_modules: int(input_dim / 200)
        x = layers.Dropout(dropout, name="drop1")(x)
        x = _dense(flat // 50, "fc2", "relu")(x)
        x = layers.Dropout(dropout, name="drop2")(x)
        x = _dense(num_output_vertices * num_neighbours, "fc3")(x)
        logits = layers.Reshape((num_output_vertices, num_neighbours), name="logits")(x)
        parsed, weights = ConvexVertexGather(num_output_vertices, num_neighbours, name="gather")(vertices, logits)
        super().__init__(inputs=vertices, outputs={"vertices": parsed, "weights": weights}, name=name, **kwargs)

    def set_neighbours(self, neighbours: np.ndarray) -> None:
        """Stores the (V_out, K) candidate input-vertex indices (the `*_gar_order.npy` file)."""
        layer = self.get_layer("gather")
        neighbours = np.asarray(neighbours)
        if neighbours.shape != tuple(layer.neighbours.shape):
            raise ValueError(f"neighbours: expected shape {tuple(layer.neighbours.shape)}, got {neighbours.shape}")
        layer.neighbours.assign(neighbours.astype("int32"))


def one_hot_sizes(sizes, num_sizes: int = NUM_SIZES):
    """int size labels 0..3 (S, M, L, XL) -> (..., 4) float32 one-hots."""
    return ops.one_hot(ops.cast(sizes, "int32"), num_sizes)
