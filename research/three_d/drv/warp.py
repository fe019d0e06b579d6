"""Neural-Volumes-style warp field of DRV's decoder variant: a mixture of K affine warps (spec card "Method").

World point x -> template-volume point W(x) = sum_k w_k(A_k x) A_k x / sum_j w_j(A_j x), where
A_k x = R_k (s_k * x) + t_k (rotation from a unit quaternion, per-axis scale, translation) and w_k >= 0 is
channel k of a low-resolution weight volume read at the point A_k x, i.e. in the warp's own frame (Neural
Volumes' published design). The template volume is then read at W(x), so a coarse warp moves fine template
detail. No official DRV code: the parameterisation (quaternion, log-scale), the order R (s x) + t, softplus
weights and the identity initialisation are ours (README, "unverified"). Only keras.ops (TensorFlow and JAX).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooLayer
from research.three_d.drv.render import trilinear_sample

PARAMS_PER_AFFINE = 10  # translation 3, quaternion (w, x, y, z) 4, log-scale 3
WEIGHT_FLOOR = 1e-4  # w_k = softplus(raw) + floor: the normaliser never vanishes


def quaternion_to_matrix(q):
    """(..., 4) quaternions (w, x, y, z), normalised here -> (..., 3, 3) rotation matrices."""
    q = q / ops.sqrt(ops.sum(q * q, axis=-1, keepdims=True))
    w, x, y, z = (q[..., i] for i in range(4))
    rows = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ]
    return ops.stack([ops.stack(r, axis=-1) for r in rows], axis=-2)


def affine_params(raw):
    """(K, 10) raw [t (3), q (4), log s (3)] -> rotation (K, 3, 3), scale (K, 3), translation (K, 3)."""
    return quaternion_to_matrix(raw[:, 3:7]), ops.exp(raw[:, 7:10]), raw[:, 0:3]


def mixture_warp(points, rotation, scale, translation, weight_volume, box_min: float, box_max: float):
    """points (..., 3) world -> template points (..., 3).

    rotation (K, 3, 3), scale (K, 3), translation (K, 3); weight_volume (Rw, Rw, Rw, K) non-negative weights
    (box-aligned like the template). One trilinear lookup of one channel per affine.
    """
    weight_volume = ops.convert_to_tensor(weight_volume)
    dtype = weight_volume.dtype
    lead = ops.shape(points)[:-1]
    p = ops.reshape(ops.cast(points, dtype), (-1, 3))
    num = 0.0
    den = 0.0
    for k in range(weight_volume.shape[-1]):
        # row-vector form of R_k (s_k * x) + t_k
        y = ops.matmul(p * scale[k], ops.transpose(rotation[k])) + translation[k]
        w = trilinear_sample(weight_volume[..., k : k + 1], y, box_min, box_max)  # (N, 1)
        num = num + w * y
        den = den + w
    return ops.reshape(num / den, tuple(lead) + (3,))


def identity_affines(num_affines: int):
    """The (K, 10) raw parameters of K identity warps (t = 0, q = (1, 0, 0, 0), log s = 0)."""
    return [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0] * num_affines


@keras.saving.register_keras_serializable(package="eccv20zoo")
class WarpDecoder(ZooLayer):
    """code (1, D) -> (rotation (K, 3, 3), scale (K, 3), translation (K, 3), weights (Rw, Rw, Rw, K)).

    Affines: a Dense whose kernel starts at zero and whose bias holds K identity warps, so training starts
    from the unwarped template (ours). Weights: Dense to base^3 x C0, then Conv3DTranspose(k=4, stride 2) +
    LeakyReLU(0.2) per stage (as the template decoder), a 3x3x3 Conv3D to K channels, softplus + floor.
    """

    def __init__(self, code_dim: int, num_affines: int = 16, base_resolution: int = 4,
                 channels: tuple[int, ...] = (64, 32, 16), **kwargs):
        super().__init__(**kwargs)
        self.code_dim, self.num_affines, self.base_resolution = code_dim, num_affines, base_resolution
        self.channels = tuple(channels)
        self.resolution = base_resolution * 2 ** len(self.channels)
        self.affine = layers.Dense(num_affines * PARAMS_PER_AFFINE, kernel_initializer="zeros",
                                   bias_initializer=keras.initializers.Constant(identity_affines(num_affines)),
                                   name="affine")
        # A Sequential (not a list attribute): Keras' own tracking then checkpoints every stage.
        stages = [layers.Dense(base_resolution**3 * self.channels[0], name="weights_fc"),
                  layers.Reshape((base_resolution,) * 3 + (self.channels[0],)), layers.LeakyReLU(0.2)]
        for i, c in enumerate(self.channels):
            stages += [layers.Conv3DTranspose(c, 4, strides=2, padding="same", name=f"weights_up{i}"),
                       layers.LeakyReLU(0.2)]
        stages.append(layers.Conv3D(num_affines, 3, padding="same", name="weights_out"))
        self.weights_decoder = keras.Sequential(stages, name="weights_decoder")

    def build(self, input_shape=None):
        self.affine.build((1, self.code_dim))
        self.weights_decoder.build((1, self.code_dim))
        self.built = True

    def call(self, code):
        raw = ops.reshape(self.affine(code), (self.num_affines, PARAMS_PER_AFFINE))
        rotation, scale, translation = affine_params(raw)
        weights = ops.softplus(self.weights_decoder(code)[0]) + WEIGHT_FLOOR
        return rotation, scale, translation, weights
