"""ShapeGF networks and objective: card checks 1 (counts), 2 (zero-init), 3 (denoising loss), 5 (Langevin on the
analytic Gaussian field), plus the sigma schedule, the 1/sigma weighting and the noise-then-gradient order
checked against numpy loops written from the official trainer."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from research.three_d.shapegf import score_matching as sm
from research.three_d.shapegf.layers import LatentMLP, PointNetEncoder, ScoreNet
from research.three_d.shapegf.model import ShapeGF
from tests.helpers import randomise_weights, trainable_count


def _tiny(**kw) -> ShapeGF:
    args = dict(zdim=8, hidden=16, blocks=2, conv_widths=(8, 8, 16, 16), fc_widths=(16, 8), num_sigmas=3, num_steps=2)
    return ShapeGF(**{**args, **kw})


def test_trainable_counts_of_the_card():
    """Check 1: encoder 365,184; score net (256, 24 blocks, z 128) 4,035,075; generator 131,712; critic 329,217."""
    assert trainable_count(PointNetEncoder()) == 365_184
    score_net = ScoreNet()
    assert trainable_count(score_net) == 4_035_075
    bn_layers = sum(1 for w in score_net.non_trainable_weights if w.path.endswith("moving_mean"))
    assert bn_layers == 49 and sum(int(np.prod(w.shape)) for w in score_net.non_trainable_weights) == 25_088
    assert trainable_count(LatentMLP(128, (256, 256), 128)) == 131_712
    assert trainable_count(LatentMLP(128, (512, 512), 1, negative_slope=0.2)) == 329_217
    assert keras.ops.convert_to_numpy(ScoreNet(zdim=4, hidden=8, blocks=1).get_layer("condition")(
        np.ones((1, 2, 3), "float32"), np.full((1, 5), 2.0, "float32"))).tolist() == [[[1, 1, 1, 2, 2, 2, 2, 2]] * 2]


def test_residual_branch_is_exactly_zero_at_initialisation():
    """Check 2: fc_1 starts at zero, so every block outputs x + fc_c(c) (+ fc_1's zero bias)."""
    keras.utils.set_random_seed(0)
    net = ScoreNet(zdim=8, hidden=16, blocks=3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 10, 16)).astype("float32")
    c = rng.normal(size=(2, 10, 12)).astype("float32")
    for i in range(3):
        block = net.get_layer(f"blocks_{i}")
        assert np.all(keras.ops.convert_to_numpy(block.fc_1.kernel) == 0)
        assert np.all(keras.ops.convert_to_numpy(block.residual(x, training=True)) == 0)
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(block(x, c, training=True)),
                                      x + keras.ops.convert_to_numpy(block.fc_c(c)))
    assert np.any(keras.ops.convert_to_numpy(ScoreNet(zdim=8, hidden=16, blocks=1, zero_init=False)
                                             .get_layer("blocks_0").fc_1.kernel) != 0)


def test_sigmas_are_geometric_and_sampled_per_shape():
    np.testing.assert_allclose(sm.geometric_sigmas(1.0, 0.01, 10), np.exp(np.linspace(0, np.log(0.01), 10)), rtol=1e-6)
    assert sm.geometric_sigmas(1.0, 0.01, 5).tolist() == pytest.approx([1.0, 0.316228, 0.1, 0.0316228, 0.01], rel=1e-5)
    drawn = keras.ops.convert_to_numpy(sm.sample_sigma(sm.geometric_sigmas(1, 0.01, 4), 400, keras.random.SeedGenerator(0)))
    assert drawn.shape == (400,) and set(np.round(drawn, 5)) == set(np.round(sm.geometric_sigmas(1, 0.01, 4), 5))
    assert min(np.sum(np.isclose(drawn, s)) for s in sm.geometric_sigmas(1, 0.01, 4)) > 60  # uniform over levels


def test_denoising_loss_value_oracle_zero_and_permutation_invariance():
    """Check 3: an oracle field -(x~ - x) gives 0; the value equals the official formula (1/sigma weights,
    sum over xyz, mean over shapes and points); permuting points consistently keeps it."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 20, 3)).astype("float32")
    eps = rng.normal(size=x.shape).astype("float32")
    sigma = np.array([1.0, 0.1, 0.01], "float32")
    perturbed = keras.ops.convert_to_numpy(sm.perturb(x, sigma, eps))
    np.testing.assert_allclose(perturbed, x + eps * sigma[:, None, None], rtol=1e-6)
    oracle = -(perturbed - x)
    assert float(sm.denoising_loss(oracle, perturbed, x, sigma)) == pytest.approx(0.0, abs=1e-12)
    pred = rng.normal(size=x.shape).astype("float32")
    want = 0.5 * np.mean(np.sum((oracle - pred) ** 2 / sigma[:, None, None], -1))
    got = float(sm.denoising_loss(pred, perturbed, x, sigma))
    assert got == pytest.approx(want, rel=1e-5)
    perm = rng.permutation(20)
    assert float(sm.denoising_loss(pred[:, perm], perturbed[:, perm], x[:, perm], sigma)) == pytest.approx(got, rel=1e-6)


def _numpy_langevin(field, x0, noise, sigmas, steps, ratio=1.0, weight=1.0):
    """ae_trainer_3D.langevin_dynamics: per sigma, steps x (noise first, then the gradient move)."""
    x, t = x0.astype(np.float64), 0
    for s in sigmas:
        alpha = 2 * s * s * ratio
        for _ in range(steps):
            x = x + np.sqrt(alpha) * weight * noise[t]
            x = x + 0.5 * alpha * field(x, s) / (s * s)
            t += 1
    return x


def test_langevin_follows_the_official_order_and_concentrates_on_the_gaussian():
    """Check 5: with the analytic field of a point at the origin (sigma-scaled score -x), 10 steps x 10 sigmas
    from U([-1.5, 1.5]^3) end within 0.05 of the origin (mean radius); equal to the numpy loop; seeded."""
    sigmas = sm.geometric_sigmas(1.0, 0.01, 10)
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-1.5, 1.5, (2, 300, 3)).astype("float32")
    noise = rng.normal(size=(100, 2, 300, 3)).astype("float32")
    got = keras.ops.convert_to_numpy(sm.annealed_langevin(lambda x, s: -x, x0, noise, sigmas, 10))
    np.testing.assert_allclose(got, _numpy_langevin(lambda x, s: -x, x0, noise, sigmas, 10), rtol=1e-4, atol=1e-5)
    assert np.linalg.norm(got, axis=-1).mean() < 0.05
    # a field that depends on sigma and position: the step order and the per-step sigma matter
    field = lambda x, s: np.sin(3 * x) * s - 0.5 * x  # noqa: E731
    kfield = lambda x, s: keras.ops.sin(3 * x) * s - 0.5 * x  # noqa: E731
    got = keras.ops.convert_to_numpy(sm.annealed_langevin(kfield, x0, noise[:12], sigmas[:4], 3, 0.7, 0.5))
    np.testing.assert_allclose(got, _numpy_langevin(field, x0, noise[:12], sigmas[:4], 3, 0.7, 0.5), rtol=1e-4, atol=1e-4)
    model = _tiny()
    a, b = model.random_start(2, 16, seed=3), model.random_start(2, 16, seed=3)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(u), keras.ops.convert_to_numpy(v))
    assert tuple(a[1].shape) == (6, 2, 16, 3) and float(keras.ops.max(keras.ops.abs(a[0]))) <= 1.5


def test_network_forward_reconstruct_and_config_round_trip():
    keras.utils.set_random_seed(0)
    model = _tiny(generator_dims=(8,))
    randomise_weights(model, 0)
    rng = np.random.default_rng(1)
    inputs = {"points": rng.uniform(-1, 1, (2, 32, 3)).astype("float32"), "sigma": np.array([[0.5], [0.05]], "float32"),
              "prior": rng.normal(size=(2, 8)).astype("float32")}
    out = model(inputs, training=False)
    z = model.encoder(inputs["points"], training=False)
    np.testing.assert_allclose(out["z"], z, rtol=1e-6)
    np.testing.assert_allclose(out["field"], model.field(inputs["points"], z, inputs["sigma"][:, 0]), rtol=1e-5, atol=1e-6)
    x0, noise = model.random_start(2, 24, seed=0)
    rec = keras.ops.convert_to_numpy(model.reconstruct(inputs["points"], x0, noise))
    want = _numpy_langevin(lambda x, s: keras.ops.convert_to_numpy(model.field(x.astype("float32"), z, s)),
        keras.ops.convert_to_numpy(x0), keras.ops.convert_to_numpy(noise), model.sigmas, 2)
    np.testing.assert_allclose(rec, want, rtol=1e-4, atol=1e-4)
    clone = ShapeGF.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(inputs, training=False)["z_fake"], out["z_fake"], rtol=1e-6)
