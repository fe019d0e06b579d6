"""Sparse-tensor layers of the MinkowskiEngine U-Net: convolution over a kernel map, BatchNorm over voxels.

Features are flat (voxels, channels) rows with a validity mask; kernel maps come from
official/ops/voxel_ops.py. Kernels keep MinkowskiEngine's layout, (K, C_in, C_out) with K offsets in
its order, and (C_in, C_out) for 1x1x1 stride-1 convolutions (ME's `use_mm` case), so official
checkpoints convert by name (convert.py). Initialisation follows MinkowskiConvolution.reset_parameters:
U(-1/sqrt(n), 1/sqrt(n)) with n = C_in x K (C_out x K for transposed convolutions).
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from official.ops import voxel_ops


@keras.saving.register_keras_serializable(package="eccv20zoo")
class FanInUniform(keras.initializers.Initializer):
    """U(-bound, bound) drawn with NumPy's global generator (seeded by keras.utils.set_random_seed).

    NumPy, not keras.random: under JAX an eager random draw compiles once per weight shape, which made
    building the network take ~50 s on a loaded 2-core machine.
    """

    def __init__(self, bound: float):
        self.bound = float(bound)

    def __call__(self, shape, dtype=None):
        value = np.random.uniform(-self.bound, self.bound, size=tuple(shape)).astype(dtype or "float32")
        return keras.ops.convert_to_tensor(value)

    def get_config(self):
        return {"bound": self.bound}


@keras.saving.register_keras_serializable(package="eccv20zoo")
class SparseConv(keras.layers.Layer):
    """Sparse 3D convolution of flat features with a given kernel map; K = kernel_size**3."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, transposed: bool = False,
                 use_bias: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.transposed, self.use_bias = kernel_size, transposed, use_bias
        volume = kernel_size**3
        shape = (in_channels, out_channels) if volume == 1 else (volume, in_channels, out_channels)
        bound = 1.0 / math.sqrt((out_channels if transposed else in_channels) * volume)
        init = FanInUniform(bound)
        self.kernel = self.add_weight(shape=shape, initializer=init, name="kernel")
        self.bias = self.add_weight(shape=(out_channels,), initializer=init, name="bias") if use_bias else None
        self.built = True

    def call(self, features, kernel_map=None):
        if kernel_map is None:  # 1x1x1 stride 1: a matmul on the same voxels
            out = ops.matmul(features, self.kernel)
        else:
            out = voxel_ops.sparse_conv(features, kernel_map, self.kernel)
        return out + self.bias if self.bias is not None else out

    def get_config(self):
        return {**super().get_config(), "in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": self.kernel_size, "transposed": self.transposed, "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package="eccv20zoo")
class SparseBatchNorm(keras.layers.Layer):
    """BatchNorm over valid voxels (torch BatchNorm1d on the concatenated point batch, as ME does).

    `momentum` is PyTorch's (weight of the new batch); the running variance takes the unbiased batch
    variance as torch does; normalisation uses the biased one. eps 1e-5.
    """

    def __init__(self, channels: int, momentum: float = 0.1, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.momentum, self.epsilon = channels, momentum, epsilon
        self.gamma = self.add_weight(shape=(channels,), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta")
        self.moving_mean = self.add_weight(shape=(channels,), initializer="zeros", trainable=False, name="moving_mean")
        self.moving_variance = self.add_weight(shape=(channels,), initializer="ones", trainable=False,
                                               name="moving_variance")
        self.built = True

    def call(self, features, mask, training=False):
        if training:
            mean, var, count = voxel_ops.masked_moments(features, mask)
            unbiased = var * count / ops.maximum(count - 1.0, 1.0)
            m = self.momentum
            self.moving_mean.assign((1 - m) * self.moving_mean + m * ops.stop_gradient(mean))
            self.moving_variance.assign((1 - m) * self.moving_variance + m * ops.stop_gradient(unbiased))
        else:
            mean, var = self.moving_mean, self.moving_variance
        return (features - mean) * ops.rsqrt(var + self.epsilon) * self.gamma + self.beta

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "momentum": self.momentum, "epsilon": self.epsilon}
