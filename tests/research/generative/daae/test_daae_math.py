"""DAAE's math against independent references: the KL with an age-dependent prior mean (torch.distributions),
the introspective losses (the IntroVAE formula in numpy), MAE / CS(5) (scikit-learn, a direct count), the
age estimate, and conditional BN (a hand computation). The spec's checks 1-4."""

import numpy as np
import pytest
import torch
from keras import ops
from sklearn.metrics import mean_absolute_error as sk_mae

from official.evaluation import age_metrics
from official.layers.adaptive_norm import ConditionalBatchNorm
from official.losses import introspective as intro
from research.generative.daae import losses


def _torch_kl(mu, logvar, prior_mean):
    q = torch.distributions.Normal(torch.tensor(mu, dtype=torch.float64), torch.tensor(np.exp(0.5 * logvar)))
    p = torch.distributions.Normal(torch.tensor(np.broadcast_to(prior_mean, mu.shape).copy()), torch.tensor(1.0))
    return torch.distributions.kl_divergence(q, p).sum(-1).numpy()


def test_kl_with_age_prior_matches_torch_and_vanishes_at_the_prior():
    rng = np.random.default_rng(0)
    mu, logvar = rng.normal(size=(5, 7)) * 2, rng.normal(size=(5, 7))
    ages = np.array([3.0, 17.0, 45.0, 80.0, 116.0])
    prior = ages[:, None] / 10.0
    got = np.asarray(intro.gaussian_kl(mu.astype("f4"), logvar.astype("f4"), prior.astype("f4")))
    np.testing.assert_allclose(got, _torch_kl(mu, logvar, prior), rtol=1e-5, atol=1e-4)
    # zero exactly when mu = y * 1 and sigma = 1, whatever the age; a wrong sign on the prior mean would not be
    zero = np.asarray(intro.gaussian_kl(np.tile(prior, (1, 7)).astype("f4"), np.zeros((5, 7), "f4"), prior.astype("f4")))
    np.testing.assert_array_equal(zero, np.zeros(5))
    # the per-factor KLs: age against N(y / unit, I), identity and extra against N(0, I)
    post = {f"{k}_{f}": rng.normal(size=(5, d)).astype("f4") for f, d in (("identity", 4), ("age", 3), ("extra", 2))
            for k in ("mu", "logvar")}
    kls = np.asarray(losses.factor_kls(post, ages.astype("f4"), 10.0))
    want = np.stack([_torch_kl(post["mu_identity"], post["logvar_identity"], 0.0),
                     _torch_kl(post["mu_age"], post["logvar_age"], prior),
                     _torch_kl(post["mu_extra"], post["logvar_extra"], 0.0)], -1)
    np.testing.assert_allclose(kls, want, rtol=1e-5, atol=1e-4)


def test_introspective_losses_follow_introvae():
    rng = np.random.default_rng(1)
    real, rec, fake = (rng.uniform(0, 200, size=(6, 3)).astype("f4") for _ in range(3))
    margin = np.array([60.0, 120.0, 90.0], "f4")
    hinge = np.maximum(margin - rec.mean(0), 0) + np.maximum(margin - fake.mean(0), 0)
    want = (real.mean(0) + 0.5 * 0.5 * hinge).sum()  # the mean is taken before the hinge (IntroVAE)
    got = float(intro.introspective_encoder_loss(real, rec, fake, margin, 0.5))
    np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_allclose(float(intro.introspective_generator_loss(rec, fake)),
                               0.5 * (rec.mean(0) + fake.mean(0)).sum(), rtol=1e-6)
    # the hinge vanishes once the KLs of reconstructions and samples exceed the margin
    big = np.full((6,), 130.0, "f4")
    assert float(intro.introspective_encoder_loss(big * 0 + 7, big, big + 5, 120.0, 0.5)) == pytest.approx(7.0)
    # and is active below it: pushes with slope -0.5 w_neg per KL
    assert float(intro.introspective_encoder_loss(big * 0, big - 30, big, 120.0, 1.0)) == pytest.approx(0.5 * 20)
    x, y = rng.normal(size=(3, 4, 4, 3)), rng.normal(size=(3, 4, 4, 3))
    np.testing.assert_allclose(float(intro.reconstruction_sse(x.astype("f4"), y.astype("f4"))),
                               ((x - y) ** 2).reshape(3, -1).sum(1).mean(), rtol=1e-5)


def test_age_metrics_match_sklearn_and_a_direct_count():
    rng = np.random.default_rng(2)
    for n in (1, 7, 500):
        truth = rng.integers(0, 117, n).astype(float)
        pred = truth + rng.normal(scale=6, size=n)
        assert age_metrics.mean_absolute_error(pred, truth) == pytest.approx(sk_mae(truth, pred), rel=1e-12)
        count = sum(1 for p, t in zip(pred, truth, strict=True) if abs(p - t) <= 5)
        assert age_metrics.cumulative_score(pred, truth) == pytest.approx(count / n, rel=1e-12)
    # edge cases: an error of exactly 5 years counts (<=), 5.0001 does not; a perfect estimate
    truth = np.array([20.0, 30.0, 40.0, 50.0])
    assert age_metrics.cumulative_score(truth + [5.0, -5.0, 5.0001, 0.0], truth) == 0.75
    assert age_metrics.age_metrics(truth, truth) == {"mae": 0.0, "cs5": 1.0}
    with pytest.raises(ValueError, match="3 predictions for 4"):
        age_metrics.mean_absolute_error(truth[:3], truth)
    with pytest.raises(ValueError, match="no examples"):
        age_metrics.cumulative_score([], [])
    bins = age_metrics.per_bin_mae([10, 25, 90], [12, 21, 95])
    assert bins["0-20"] == 2.0 and bins["20-40"] == 4.0 and bins["80-200"] == 5.0 and np.isnan(bins["40-60"])


def test_age_estimate_recovers_the_age_from_noisy_codes():
    rng = np.random.default_rng(3)
    ages = np.array([1.0, 33.0, 64.0, 90.0], "f4")
    noise = rng.normal(size=(4, 4000)).astype("f4")
    noise -= noise.mean(1, keepdims=True)  # zero-mean noise over the dimensions
    mu = np.asarray(losses.age_code(ages, 10.0)) + noise
    np.testing.assert_allclose(np.asarray(losses.age_estimate(mu, 10.0)), ages, atol=1e-3)


def _bn(x):
    mean, var = x.mean((0, 1, 2)), x.var((0, 1, 2))
    return (x - mean) / np.sqrt(var + 1e-5)


def test_conditional_batch_norm_equals_a_hand_computation():
    rng = np.random.default_rng(4)
    x, e = rng.normal(size=(4, 3, 3, 5)).astype("f4") * 3 + 1, rng.normal(size=(4, 6)).astype("f4")
    layer = ConditionalBatchNorm()
    layer((x, e))
    for dense in (layer.gamma, layer.beta):  # zero projections: plain parameter-free batch norm
        dense.set_weights([np.zeros_like(w) for w in dense.get_weights()])
    np.testing.assert_allclose(np.asarray(layer((x, e), training=True)), _bn(x), atol=1e-5)
    wg, bg = rng.normal(size=(6, 5)).astype("f4"), rng.normal(size=5).astype("f4")
    wb, bb = rng.normal(size=(6, 5)).astype("f4"), rng.normal(size=5).astype("f4")
    layer.gamma.set_weights([wg, bg])
    layer.beta.set_weights([wb, bb])
    want = _bn(x) * (1 + (e @ wg + bg))[:, None, None, :] + (e @ wb + bb)[:, None, None, :]
    np.testing.assert_allclose(np.asarray(layer((x, e), training=True)), want, atol=1e-4)
    # inference uses the moving statistics (two training calls moved them from 0 / 1 by momentum 0.9)
    mean = (1 - 0.9 ** 2) * x.mean((0, 1, 2))
    var = 0.9 ** 2 + (1 - 0.9) * (0.9 + 1) * x.var((0, 1, 2))  # Keras moves the biased variance
    want = (x - mean) / np.sqrt(var + 1e-5) * (1 + (e @ wg + bg))[:, None, None, :] + (e @ wb + bb)[:, None, None, :]
    np.testing.assert_allclose(np.asarray(layer((x, e), training=False)), want, atol=1e-4)
    assert ops.convert_to_numpy(layer((x, e))).shape == x.shape
