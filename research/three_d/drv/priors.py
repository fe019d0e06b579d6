"""DRV's small priors (spec card "Loss and optimisation"; weights and exact forms unverified, README).

- opacity: Neural Volumes' beta prior on each ray's accumulated opacity a = sum_k T_k alpha_k,
  log(0.1 + a) + log(1.1 - a) - (log 0.1 + log 1.1): 0 at a = 0 and a = 1, largest (1.19) at a = 0.5, so
  minimising it pushes every ray's opacity towards 0 or 1 (no half-transparent haze).
- normals: consistency of the predicted normal with the negative normalised opacity gradient (the card's
  alternative normal), 1 - n . (-grad a / |grad a|), averaged over interior voxels with weights |grad a|
  (empty space, where the gradient vanishes, does not count). The opacity gradient is a fixed target
  (stop_gradient): the prior turns the normals towards the geometry, it does not reshape the geometry.
"""

from __future__ import annotations

import math

from keras import ops

from research.three_d.drv.brdf import normalize

BETA_FLOOR = 0.1  # Neural Volumes' 0.1 inside both logarithms
BETA_OFFSET = math.log(BETA_FLOOR) + math.log(1.0 + BETA_FLOOR)  # -2.20727: the prior is 0 at a = 0 and a = 1


def beta_prior(opacity):
    """Mean over rays of log(0.1 + a) + log(1.1 - a) - BETA_OFFSET; opacity a (...) in [0, 1]."""
    return ops.mean(ops.log(BETA_FLOOR + opacity) + ops.log(1.0 + BETA_FLOOR - opacity)) - BETA_OFFSET


def normal_consistency(raw_volume, voxel_size: float):
    """|grad a|-weighted mean of 1 - n . (-grad a / |grad a|) over the interior voxels of a raw (R, R, R, 8) volume.

    a = sigmoid(alpha logit) per voxel; grad a by central differences (voxel_size apart); n the normalised
    normal channels 1:4.
    """
    alpha = ops.stop_gradient(ops.sigmoid(raw_volume[..., 0]))
    grad = ops.stack([
        (alpha[2:, 1:-1, 1:-1] - alpha[:-2, 1:-1, 1:-1]),
        (alpha[1:-1, 2:, 1:-1] - alpha[1:-1, :-2, 1:-1]),
        (alpha[1:-1, 1:-1, 2:] - alpha[1:-1, 1:-1, :-2]),
    ], axis=-1) / (2.0 * voxel_size)
    magnitude = ops.sqrt(ops.sum(grad * grad, axis=-1) + 1e-12)
    normal = normalize(raw_volume[1:-1, 1:-1, 1:-1, 1:4])
    cosine = -ops.sum(normal * grad, axis=-1) / magnitude
    return ops.sum(magnitude * (1.0 - cosine)) / (ops.sum(magnitude) + 1e-12)
