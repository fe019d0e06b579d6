"""The introspective VAE losses (IntroVAE, Huang et al. NeurIPS 2018; official hhb072/IntroVAE main.py and
networks.py, read for these facts), with a prior mean that may depend on a label (DAAE's age prior).

- `gaussian_kl`: KL(N(mu, diag(exp(logvar))) || N(prior_mean, I)) per example, summed over the latent axis
  (IntroVAE's `kl_loss(mu, logvar, prior_mu)`); `prior_mean` broadcasts (a scalar, (B, 1) or (B, d)).
- `reconstruction_sse`: squared error summed over each example's pixels, averaged over the batch
  (`reconstruction_loss(..., size_average=True)`).
- `introspective_encoder_loss`: the encoder is the critic. It keeps the KL of real images low and pushes
  the KL of reconstructions and prior samples above a margin m:
  mean KL(x) + 0.5 * w_neg * (relu(m - mean KL(x_r)) + relu(m - mean KL(x_p))). The batch mean is taken
  BEFORE the hinge, as IntroVAE does. With per-factor KLs of shape (B, F) and F margins, each factor gets its
  own hinge and the factors are summed (DAAE's per-factor game; the split is our reconstruction).
- `introspective_generator_loss`: the decoder lowers the encoder's KL of its outputs:
  0.5 * (mean KL(x_r) + mean KL(x_p)) (summed over factors).
IntroVAE weights these by w_kl and adds w_rec * L_rec to both players (the decoder's gradient of the encoder
step is not cleared before its own step); the weights are applied by the caller.
"""

from __future__ import annotations

from keras import ops


def gaussian_kl(mu, logvar, prior_mean=0.0):
    """(B, d) posterior parameters -> (B,) KL against N(prior_mean, I), float32."""
    mu, logvar = ops.cast(mu, "float32"), ops.cast(logvar, "float32")
    prior_mean = ops.cast(prior_mean, "float32")
    return 0.5 * ops.sum(ops.exp(logvar) + ops.square(mu - prior_mean) - 1.0 - logvar, axis=-1)


def reconstruction_sse(prediction, target):
    """Sum over each example's elements of the squared error, mean over the batch (a float32 scalar)."""
    error = ops.square(ops.cast(prediction, "float32") - ops.cast(target, "float32"))
    return ops.mean(ops.sum(ops.reshape(error, (ops.shape(error)[0], -1)), axis=-1))


def _batch_mean(kl):
    """(B,) -> scalar, (B, F) -> (F,)."""
    return ops.mean(ops.cast(kl, "float32"), axis=0)


def introspective_encoder_loss(kl_real, kl_reconstruction, kl_sample, margin, weight_neg: float = 1.0):
    """mean KL(x) + 0.5 w_neg (relu(m - mean KL(x_r)) + relu(m - mean KL(x_p))), summed over factors.

    kl_*: (B,) or (B, F) per-example KLs; margin: a scalar or F margins (one per factor)."""
    margin = ops.cast(margin, "float32")
    hinge = ops.relu(margin - _batch_mean(kl_reconstruction)) + ops.relu(margin - _batch_mean(kl_sample))
    return ops.sum(_batch_mean(kl_real) + 0.5 * weight_neg * hinge)


def introspective_generator_loss(kl_reconstruction, kl_sample):
    """0.5 (mean KL(x_r) + mean KL(x_p)), summed over factors."""
    return ops.sum(0.5 * (_batch_mean(kl_reconstruction) + _batch_mean(kl_sample)))
