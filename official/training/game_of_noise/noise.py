"""Game of Noise's noise models, in keras.ops on images in [0, 1] (Rusak et al., ECCV 2020).

- Gaussian noise training (GNT): x + N(0, sigma^2) per pixel and channel, clipped to [0, 1]; sigma
  fixed (0.5 is the paper's best) or drawn per image from ImageNet-C's five Gaussian-noise severities.
- Speckle: x + x * N(0, sigma^2), sigma per image from ImageNet-C's speckle severities.
- The exact-norm projection of adversarial noise training: the step size eta >= 0 with
  ||clip(x + eta * delta, 0, 1) - x||_2 = epsilon per image. Each pixel's contribution
  min(eta |d_i|, room_i) grows linearly until it saturates at eta_i = room_i / |d_i|, so the norm is
  piecewise of the form sqrt(S + eta^2 D) between sorted saturation points: one sort and two cumulative
  sums find the piece and solve it in closed form (the official code's `fix_perturbation_size` does the
  same search; this is written from that definition).
- A batch's composition: the first round(p_clean * B) images stay clean.
"""

from __future__ import annotations

import keras
from keras import ops

# ImageNet-C's Gaussian-noise and speckle-noise severities 1..5 (Hendrycks & Dietterich, 2019).
GAUSS_SIGMAS = (0.08, 0.12, 0.18, 0.26, 0.38)
SPECKLE_SIGMAS = (0.15, 0.2, 0.35, 0.45, 0.6)


def _per_image_sigma(batch: int, choices, seed) -> keras.KerasTensor:
    index = keras.random.randint((batch,), 0, len(choices), seed=seed)
    return ops.take(ops.convert_to_tensor(choices, "float32"), index)[:, None, None, None]


def gaussian_noise(x, sigma: float | None, seed=None):
    """clip(x + n, 0, 1), n ~ N(0, sigma^2); sigma=None draws it per image from GAUSS_SIGMAS."""
    shape = ops.shape(x)
    noise = keras.random.normal(shape, seed=seed)
    scale = sigma if sigma is not None else _per_image_sigma(shape[0], GAUSS_SIGMAS, seed)
    return ops.clip(x + noise * scale, 0.0, 1.0)


def speckle_noise(x, seed=None):
    """clip(x + x * n, 0, 1), n ~ N(0, sigma^2) with sigma per image from SPECKLE_SIGMAS."""
    shape = ops.shape(x)
    noise = keras.random.normal(shape, seed=seed) * _per_image_sigma(shape[0], SPECKLE_SIGMAS, seed)
    return ops.clip(x + x * noise, 0.0, 1.0)


def exact_norm_step(x, delta, epsilon: float):
    """eta (batch,) with ||clip(x + eta delta, 0, 1) - x||_2 = epsilon per image (the largest reachable
    norm when epsilon cannot be reached: every pixel saturated)."""
    batch = ops.shape(x)[0]
    x = ops.reshape(ops.cast(x, "float32"), (batch, -1))
    d = ops.reshape(ops.cast(delta, "float32"), (batch, -1))
    ad = ops.abs(d)
    room = ops.where(d > 0, 1.0 - x, x)  # distance to the bound the pixel moves towards
    big = 1e30
    t = ops.where(ad > 0, room / ops.maximum(ad, 1e-30), big)  # eta at which the pixel saturates
    order = ops.argsort(t, axis=-1)
    t_s = ops.take_along_axis(t, order, axis=-1)
    room2 = ops.take_along_axis(room * room, order, axis=-1)
    ad2 = ops.take_along_axis(ad * ad, order, axis=-1)
    saturated = ops.cumsum(room2, axis=-1) - room2  # sum of room^2 over pixels saturated before piece k
    # sum d^2 still linear: a suffix sum (total - prefix cancels when few pixels still move)
    moving = ops.flip(ops.cumsum(ops.flip(ad2, axis=-1), axis=-1), axis=-1)
    need = ops.maximum(epsilon**2 - saturated, 0.0)
    eta = ops.sqrt(need / ops.maximum(moving, 1e-30))
    ok = ops.logical_and(eta <= t_s, moving > 0)
    first = ops.argmax(ops.cast(ok, "int32"), axis=-1)  # the first piece holding its own solution
    found = ops.any(ok, axis=-1)
    eta_k = ops.take_along_axis(eta, first[:, None], axis=-1)[:, 0]
    finite = ops.where(t_s < big, t_s, 0.0)
    return ops.where(found, eta_k, ops.max(finite, axis=-1))


def project_to_norm(x, delta, epsilon: float):
    """clip(x + eta delta, 0, 1) with eta from `exact_norm_step`: the perturbed image at L2 distance epsilon."""
    eta = ops.stop_gradient(exact_norm_step(x, delta, epsilon))
    return ops.clip(x + eta[:, None, None, None] * delta, 0.0, 1.0)


def clean_count(batch: int, p_clean: float) -> int:
    """Images of a batch left clean: round(p_clean * batch) (35 of 70 at the paper's 0.5)."""
    return int(round(p_clean * batch))
