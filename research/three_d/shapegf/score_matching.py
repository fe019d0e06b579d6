"""ShapeGF's objective and sampler in keras.ops: noise levels, denoising score matching, annealed Langevin.

Facts from trainers/ae_trainer_3D.py and trainers/utils/utils.py of the official code:
- sigmas = exp(linspace(log sigma_begin, log sigma_end, sigma_num)), largest first;
- training: one sigma per shape (randint over the levels), x~ = x + sigma eps, target -(x~ - x),
  loss = 0.5 * mean over shapes and points of sum_xyz (target - s(x~, [z, sigma]))^2 / sigma
  (the 1/sigma weight; the network output is not divided by sigma);
- sampling: x_0 ~ U([-1.5, 1.5]^3); for each sigma (largest first) alpha = 2 sigma^2 step_size_ratio and
  `num_steps` times: x += sqrt(alpha) * weight * N(0, I) (noise first), then x += 0.5 alpha s(x) / sigma^2.
The sampler takes its noise as an argument (one (B, N, 3) draw per step, in order) so that a SavedModel
and a Keras model given the same tensor produce the same cloud; `draw_noise` makes it from a seed.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

PRIOR_BOUND = 1.5  # get_prior: (U(0, 1) * 2 - 1) * 1.5


def geometric_sigmas(begin: float = 1.0, end: float = 0.01, num: int = 10) -> np.ndarray:
    """The noise levels, largest first (float32)."""
    return np.exp(np.linspace(math.log(begin), math.log(end), num)).astype(np.float32)


def score_code(z, sigma):
    """[z, sigma]: the (B, zdim + 1) code the score net is conditioned on; sigma (B,) or a scalar."""
    z = ops.convert_to_tensor(z)
    sigma = ops.cast(sigma, z.dtype)
    if len(ops.shape(sigma)) == 0:
        sigma = ops.ones((ops.shape(z)[0],), z.dtype) * sigma
    return ops.concatenate([z, ops.reshape(sigma, (-1, 1))], axis=-1)


def denoising_loss(predicted, perturbed, points, sigma):
    """0.5 * mean_{shape, point} sum_xyz (-(x~ - x) - s)^2 / sigma, sigma (B,) per shape."""
    target = -(perturbed - points)
    weight = 1.0 / ops.reshape(sigma, (-1, 1, 1))
    return 0.5 * ops.mean(ops.sum(ops.square(target - predicted) * weight, axis=-1))


def perturb(points, sigma, noise):
    """x~ = x + sigma eps with eps (B, N, 3) ~ N(0, I) and sigma (B,) per shape."""
    return points + noise * ops.reshape(ops.cast(sigma, points.dtype), (-1, 1, 1))


def score_matching_loss(score_net, z, points, sigma, noise, training=False):
    """The training objective for a batch: (loss, perturbed points). `score_net` maps {points, code}."""
    perturbed = perturb(points, sigma, noise)
    predicted = score_net({"points": perturbed, "code": score_code(z, sigma)}, training=training)
    return denoising_loss(predicted, perturbed, points, sigma), perturbed


def sample_sigma(sigmas, batch: int, seed):
    """One noise level per shape, uniform over the levels (the official torch.randint over labels)."""
    labels = keras.random.randint((batch,), 0, len(sigmas), seed=seed)
    return ops.take(ops.convert_to_tensor(np.asarray(sigmas, np.float32)), labels)


def step_sigmas(sigmas, num_steps: int) -> np.ndarray:
    """sigma of every Langevin step: each level repeated num_steps times, largest first."""
    return np.repeat(np.asarray(sigmas, np.float32), num_steps)


def prior_points(batch: int, num_points: int, seed) -> keras.KerasTensor:
    """x_0 ~ U([-1.5, 1.5]^3), (batch, num_points, 3)."""
    return keras.random.uniform((batch, num_points, 3), -PRIOR_BOUND, PRIOR_BOUND, seed=seed)


def draw_noise(sigmas, num_steps: int, batch: int, num_points: int, seed) -> keras.KerasTensor:
    """The sampler's noise: (len(sigmas) * num_steps, batch, num_points, 3) standard normal."""
    return keras.random.normal((len(sigmas) * num_steps, batch, num_points, 3), seed=seed)


def langevin_step(field_fn, x, sigma, noise, step_size_ratio: float = 1.0, weight: float = 1.0):
    """One annealed Langevin step at level sigma: noise first, then the gradient move."""
    alpha = 2.0 * sigma * sigma * step_size_ratio
    x = x + ops.sqrt(alpha) * weight * noise
    grad = field_fn(x, sigma) / (sigma * sigma)
    return x + 0.5 * alpha * grad


def annealed_langevin(field_fn, x0, noise, sigmas, num_steps: int, step_size_ratio: float = 1.0,
                      weight: float = 1.0):
    """Runs len(sigmas) * num_steps steps from x0 with `noise[t]` at step t; returns the final cloud.

    `field_fn(x, sigma)` is the sigma-scaled field (the score net's output) with sigma a scalar tensor.
    The loop is one fori_loop with a static trip count (a tf.while in exported graphs, one trace in JAX).
    """
    per_step = ops.convert_to_tensor(step_sigmas(sigmas, num_steps))
    total = int(per_step.shape[0])

    def body(t, x):
        sigma = ops.cast(ops.take(per_step, t), x.dtype)
        return langevin_step(field_fn, x, sigma, ops.take(noise, t, axis=0), step_size_ratio, weight)

    return ops.fori_loop(0, total, body, x0)


def conditioned_field(score_net, z):
    """field_fn for `annealed_langevin`: the inference-mode score net under code [z, sigma]."""

    z = ops.convert_to_tensor(z)

    def field(x, sigma):
        return score_net({"points": ops.convert_to_tensor(x), "code": score_code(z, sigma)}, training=False)

    return field
