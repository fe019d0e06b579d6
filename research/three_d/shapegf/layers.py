"""ShapeGF's building blocks: the PointNet encoder, the additive-conditioning score network and the latent-GAN MLPs.

Facts from the official code (RuojinCai/ShapeGF; spec card /work/shared/specs/shapegf.md):
- encoder (models/encoders/l3dp_encoder.py, deterministic): per-point 1x1 convs 3 -> 128 -> 128 -> 256 -> 512,
  BN after each (ReLU on all but the last), max over points, FC 512 -> 256 -> 128 (BN + ReLU) -> zdim.
- score net (models/decoders/resnet_add.py): condition c = [xyz, z, sigma] per point; conv_p 1x1 c -> hidden;
  n_blocks residual blocks x + fc_1(relu(bn_1(fc_0(relu(bn_0(x)))))) + fc_c(c) with fc_1's kernel zero at
  initialisation; output conv_out(relu(bn_out(x))) -> 3.
- latent GAN (models/generators/mlp_gen.py, models/discriminators/mlp_dis.py): generator Linear + ReLU
  layers then a linear output (use_bn False); discriminator Linear + LeakyReLU(0.2) layers, linear score.
A 1x1 Conv1d over (B, C, N) is a Dense on the channel axis of (B, N, C); BatchNorm1d's statistics over
(batch, points) per channel are Keras BatchNormalization on the last axis of (B, N, C) (momentum 0.9 =
PyTorch's 0.1, epsilon 1e-5). Layer names follow the official state-dict keys (convert.py maps them).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooLayer, ZooModel

BN = {"momentum": 0.9, "epsilon": 1e-5}  # PyTorch BatchNorm1d defaults


def _bn(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(name=name, **BN)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class PointNetEncoder(ZooModel):
    """(B, N, 3) points -> (B, zdim) shape code (l3dp_encoder with use_deterministic_encoder).

    Args:
        zdim: latent size (128).
        conv_widths: the four per-point widths (128, 128, 256, 512).
        fc_widths: the two hidden FC widths (256, 128).
    """

    def __init__(self, zdim: int = 128, conv_widths: tuple[int, ...] = (128, 128, 256, 512),
                 fc_widths: tuple[int, ...] = (256, 128), **kwargs):
        points = keras.Input(shape=(None, 3), name="points")
        x = points
        for i, width in enumerate(conv_widths, start=1):
            x = _bn(f"bn{i}")(layers.Dense(width, name=f"conv{i}")(x))
            if i < len(conv_widths):
                x = layers.ReLU(name=f"relu{i}")(x)
        x = layers.GlobalMaxPooling1D(name="max_pool")(x)
        for i, width in enumerate(fc_widths, start=1):
            x = layers.ReLU(name=f"fc_relu{i}")(_bn(f"fc_bn{i}")(layers.Dense(width, name=f"fc{i}")(x)))
        z = layers.Dense(zdim, name=f"fc{len(fc_widths) + 1}")(x)
        super().__init__(inputs=points, outputs=z, **kwargs)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class PointCondition(ZooLayer):
    """[(B, N, 3) xyz, (B, C) code] -> (B, N, 3 + C): xyz first, then the code broadcast to every point."""

    def call(self, points, code):
        n = ops.shape(points)[1]
        tiled = ops.broadcast_to(ops.expand_dims(code, 1), (ops.shape(code)[0], n, ops.shape(code)[-1]))
        return ops.concatenate([points, ops.cast(tiled, points.dtype)], axis=-1)

    def compute_output_shape(self, points_shape, code_shape):
        return (*points_shape[:-1], points_shape[-1] + code_shape[-1])


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ResnetBlockAdd(ZooLayer):
    """ResnetBlockConv1d of resnet_add.py (size_in = size_out = hidden: no shortcut conv).

    out = x + fc_1(relu(bn_1(fc_0(relu(bn_0(x)))))) + fc_c(c); fc_1's kernel starts at zero (its bias keeps
    PyTorch's default uniform init; here Keras' zeros), so at initialisation out = x + fc_c(c) + fc_1.bias.
    """

    def __init__(self, hidden: int = 256, zero_init: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.bn_0 = _bn("bn_0")
        self.bn_1 = _bn("bn_1")
        self.fc_0 = layers.Dense(hidden, name="fc_0")
        self.fc_1 = layers.Dense(hidden, name="fc_1", kernel_initializer="zeros" if zero_init else "glorot_uniform")
        self.fc_c = layers.Dense(hidden, name="fc_c")

    def build(self, x_shape, c_shape):
        self.bn_0.build(x_shape)
        self.fc_0.build(x_shape)
        self.bn_1.build((*x_shape[:-1], self.hidden))
        self.fc_1.build((*x_shape[:-1], self.hidden))
        self.fc_c.build(c_shape)

    def residual(self, x, training=None):
        """The branch fc_1(relu(bn_1(fc_0(relu(bn_0(x)))))) alone (zero at initialisation: card check 2)."""
        net = self.fc_0(ops.relu(self.bn_0(x, training=training)))
        return self.fc_1(ops.relu(self.bn_1(net, training=training)))

    def call(self, x, c, training=None):
        return x + self.residual(x, training=training) + self.fc_c(c)

    def compute_output_shape(self, x_shape, c_shape):
        return (*x_shape[:-1], self.hidden)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ScoreNet(ZooModel):
    """[(B, N, 3) points, (B, zdim + 1) code [z, sigma]] -> (B, N, 3) sigma-scaled field (resnet_add Decoder).

    The output approximates sigma^2 grad_x log q_sigma(x | z) (the training target is -(x~ - x)).

    Args:
        zdim: latent size (128); the condition per point is 3 + zdim + 1 = 132.
        hidden: width of every block (256).
        blocks: residual blocks (24 in the released configs).
    """

    def __init__(self, zdim: int = 128, hidden: int = 256, blocks: int = 24, zero_init: bool = True, **kwargs):
        points = keras.Input(shape=(None, 3), name="points")
        code = keras.Input(shape=(zdim + 1,), name="code")
        c_xyz = PointCondition(name="condition")(points, code)
        net = layers.Dense(hidden, name="conv_p")(c_xyz)
        for i in range(blocks):
            net = ResnetBlockAdd(hidden, zero_init, name=f"blocks_{i}")(net, c_xyz)
        net = layers.ReLU(name="relu_out")(_bn("bn_out")(net))
        field = layers.Dense(3, name="conv_out")(net)
        super().__init__(inputs={"points": points, "code": code}, outputs=field, **kwargs)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class LatentMLP(ZooModel):
    """(B, in_dim) -> (B, out_dim) MLP: the latent GAN's generator (ReLU) or discriminator (LeakyReLU 0.2).

    Dense layers are named `layers_{i}` and `out` as in the official state dicts.
    """

    def __init__(self, in_dim: int = 128, dims: tuple[int, ...] = (256, 256), out_dim: int = 128,
                 negative_slope: float = 0.0, **kwargs):
        z = keras.Input(shape=(in_dim,), name="z")
        y = z
        for i, width in enumerate(dims):
            y = layers.Dense(width, name=f"layers_{i}")(y)
            act = layers.LeakyReLU(negative_slope, name=f"act_{i}") if negative_slope else layers.ReLU(name=f"act_{i}")
            y = act(y)
        super().__init__(inputs=z, outputs=layers.Dense(out_dim, name="out")(y), **kwargs)
