"""Adversarial losses shared by the GAN methods: LSGAN, hinge and non-saturating, feature matching,
weighted perceptual L1, and the VAE's KL term. Every function accepts one logit map or a list of them
(a multi-scale discriminator) and averages over the list, as SPADE's `GANLoss` does; the result is a
float32 scalar whatever the compute dtype.

- LSGAN (Mao et al.; CycleGAN, Sketch2Photo, ForkGAN): D = 0.5 (mean (D(x) - 1)^2 + mean D(G(z))^2),
  G = mean (D(G(z)) - 1)^2. The 0.5 is CycleGAN's `loss_D = (real + fake) * 0.5`.
- Hinge (SPADE, TSIT, COCO-FUNIT): D = mean relu(1 - D(x)) + mean relu(1 + D(G(z))), G = -mean D(G(z)).
- Non-saturating (Goodfellow et al.): D = mean softplus(-D(x)) + mean softplus(D(G(z))),
  G = mean softplus(-D(G(z))).
"""

from __future__ import annotations

from collections.abc import Sequence

from keras import ops


def _maps(logits) -> list:
    return [ops.cast(x, "float32") for x in (logits if isinstance(logits, (list, tuple)) else [logits])]


def _average(values: list):
    return ops.sum(ops.stack(values)) / len(values)


def lsgan_discriminator_loss(real_logits, fake_logits):
    return _average([0.5 * (ops.mean(ops.square(r - 1.0)) + ops.mean(ops.square(f)))
                     for r, f in zip(_maps(real_logits), _maps(fake_logits), strict=True)])


def lsgan_generator_loss(fake_logits):
    return _average([ops.mean(ops.square(f - 1.0)) for f in _maps(fake_logits)])


def hinge_discriminator_loss(real_logits, fake_logits):
    return _average([ops.mean(ops.relu(1.0 - r)) + ops.mean(ops.relu(1.0 + f))
                     for r, f in zip(_maps(real_logits), _maps(fake_logits), strict=True)])


def hinge_generator_loss(fake_logits):
    return _average([-ops.mean(f) for f in _maps(fake_logits)])


def nonsaturating_discriminator_loss(real_logits, fake_logits):
    return _average([ops.mean(ops.softplus(-r)) + ops.mean(ops.softplus(f))
                     for r, f in zip(_maps(real_logits), _maps(fake_logits), strict=True)])


def nonsaturating_generator_loss(fake_logits):
    return _average([ops.mean(ops.softplus(-f)) for f in _maps(fake_logits)])


DISCRIMINATOR_LOSSES = {"lsgan": lsgan_discriminator_loss, "hinge": hinge_discriminator_loss,
                        "nonsaturating": nonsaturating_discriminator_loss}
GENERATOR_LOSSES = {"lsgan": lsgan_generator_loss, "hinge": hinge_generator_loss,
                    "nonsaturating": nonsaturating_generator_loss}


def adversarial_losses(kind: str):
    """(discriminator_loss, generator_loss) by name; a one-line error for an unknown name."""
    if kind not in DISCRIMINATOR_LOSSES:
        raise ValueError(f"gan loss: expected one of {', '.join(DISCRIMINATOR_LOSSES)}, got {kind!r}")
    return DISCRIMINATOR_LOSSES[kind], GENERATOR_LOSSES[kind]


def _l1(a, b):
    return ops.mean(ops.abs(ops.cast(a, "float32") - ops.stop_gradient(ops.cast(b, "float32"))))


def feature_matching_loss(fake_features: Sequence, real_features: Sequence):
    """pix2pixHD / SPADE feature matching: sum over discriminators and their intermediate layers of the
    L1 between fake and (constant) real features, divided by the number of discriminators. Each
    argument is a list per discriminator of lists of feature maps (pass the layers to match: SPADE
    leaves out each discriminator's final logit map)."""
    if len(fake_features) != len(real_features):
        raise ValueError(f"feature matching: {len(fake_features)} fake vs {len(real_features)} real discriminators")
    total = [_l1(f, r) for fd, rd in zip(fake_features, real_features, strict=True)
             for f, r in zip(fd, rd, strict=True)]
    return ops.sum(ops.stack(total)) / len(fake_features)


def perceptual_loss(fake_features: Sequence, target_features: Sequence, weights: Sequence[float]):
    """sum_i w_i * mean |phi_i(fake) - phi_i(target)| over a feature network's layers (SPADE/TSIT's VGG
    loss uses relu1_1..relu5_1 with weights 1/32, 1/16, 1/8, 1/4, 1); the target gets no gradient."""
    if not len(fake_features) == len(target_features) == len(weights):
        raise ValueError(f"perceptual loss: {len(fake_features)} fake, {len(target_features)} target features and "
                         f"{len(weights)} weights")
    return ops.sum(ops.stack([w * _l1(f, t) for f, t, w in zip(fake_features, target_features, weights, strict=True)]))


def kl_divergence(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over all elements (batch included), as SPADE's KLDLoss."""
    mu, logvar = ops.cast(mu, "float32"), ops.cast(logvar, "float32")
    return -0.5 * ops.sum(1.0 + logvar - ops.square(mu) - ops.exp(logvar))
