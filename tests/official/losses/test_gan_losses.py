"""GAN losses: closed forms from the cards (ForkGAN check 5, COCO-FUNIT check 5), torch's BCE-with-logits
and MSE as references on random logit maps, and numpy for feature matching, perceptual L1 and the KL."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from official.losses import gan


def _np(x):
    return float(np.asarray(x))


def test_lsgan_closed_forms_and_torch_mse():
    ones, zeros, half = np.ones((2, 4, 4, 1)), np.zeros((2, 4, 4, 1)), np.full((2, 4, 4, 1), 0.5)
    assert _np(gan.lsgan_discriminator_loss(ones, zeros)) == 0.0
    assert _np(gan.lsgan_discriminator_loss(half, half)) == pytest.approx(0.25)  # 0.5 per role for A plus B
    assert _np(gan.lsgan_generator_loss(ones)) == 0.0
    rng = np.random.default_rng(0)
    real, fake = [rng.normal(size=(2, 8, 8, 1)) for _ in range(2)], [rng.normal(size=(2, 4, 4, 1)) for _ in range(2)]
    ref = np.mean([0.5 * (F.mse_loss(torch.tensor(r), torch.ones(r.shape, dtype=torch.float64)).item()
                          + F.mse_loss(torch.tensor(f), torch.zeros(f.shape, dtype=torch.float64)).item())
                   for r, f in zip(real, fake, strict=True)])
    assert _np(gan.lsgan_discriminator_loss(real, fake)) == pytest.approx(ref, rel=1e-5)


def test_hinge_closed_forms():
    assert _np(gan.hinge_discriminator_loss(np.full((3, 2), 1.5), np.full((3, 2), -1.0))) == 0.0
    assert _np(gan.hinge_discriminator_loss(np.zeros(4), np.zeros(4))) == pytest.approx(2.0)
    assert _np(gan.hinge_generator_loss([np.full(4, 2.0), np.full(4, 4.0)])) == pytest.approx(-3.0)


def test_nonsaturating_equals_torch_bce_with_logits():
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(4, 5, 5, 1)), rng.normal(size=(4, 5, 5, 1))
    r, f = torch.tensor(real), torch.tensor(fake)
    ref_d = (F.binary_cross_entropy_with_logits(r, torch.ones_like(r)) + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))).item()
    ref_g = F.binary_cross_entropy_with_logits(f, torch.ones_like(f)).item()
    assert _np(gan.nonsaturating_discriminator_loss(real, fake)) == pytest.approx(ref_d, rel=1e-5)
    assert _np(gan.nonsaturating_generator_loss(fake)) == pytest.approx(ref_g, rel=1e-5)


def test_feature_matching_perceptual_and_kl_equal_numpy():
    rng = np.random.default_rng(2)
    fake = [[rng.normal(size=(2, 8, 8, 4)), rng.normal(size=(2, 4, 4, 8))] for _ in range(2)]
    real = [[rng.normal(size=(2, 8, 8, 4)), rng.normal(size=(2, 4, 4, 8))] for _ in range(2)]
    ref = sum(np.abs(f - r).mean() for fd, rd in zip(fake, real, strict=True) for f, r in zip(fd, rd, strict=True)) / 2
    assert _np(gan.feature_matching_loss(fake, real)) == pytest.approx(ref, rel=1e-5)
    assert _np(gan.feature_matching_loss(real, real)) == 0.0
    weights = [1 / 32, 1 / 16]
    ref = sum(w * np.abs(f - t).mean() for f, t, w in zip(fake[0], real[0], weights, strict=True))
    assert _np(gan.perceptual_loss(fake[0], real[0], weights)) == pytest.approx(ref, rel=1e-5)
    mu, logvar = rng.normal(size=(3, 16)), rng.normal(scale=0.3, size=(3, 16))
    ref = np.sum(0.5 * (mu**2 + np.exp(logvar) - 1 - logvar))  # KL(N(mu, s^2) || N(0, 1)) per element, summed
    assert _np(gan.kl_divergence(mu, logvar)) == pytest.approx(ref, rel=1e-5)
    assert _np(gan.kl_divergence(np.zeros((2, 4)), np.zeros((2, 4)))) == 0.0


def test_losses_are_float32_and_names_checked():
    assert np.asarray(gan.hinge_generator_loss(np.zeros(3, np.float16))).dtype == np.float32
    d_loss, g_loss = gan.adversarial_losses("lsgan")
    assert d_loss is gan.lsgan_discriminator_loss and g_loss is gan.lsgan_generator_loss
    with pytest.raises(ValueError, match="expected one of lsgan, hinge, nonsaturating, got 'wgan'"):
        gan.adversarial_losses("wgan")
