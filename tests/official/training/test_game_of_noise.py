"""Game of Noise (Rusak et al., ECCV 2020): the checks of specs/corruption_robustness.md that run here.

Values, not shapes: the exact-norm projection against a float64 bisection, the generators' receptive
fields and near-identity init, the clean / live / replay split of a batch rebuilt from the same random
draws, the Gaussian noise's sigma measured on the draw, the signs of ANT's two steps, and a short
`run_experiment` whose checkpoint resumes the generator and replay and restores the bare classifier.
"""

from __future__ import annotations

import dataclasses
import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from official.losses.classification import SparseLabelSmoothingCrossEntropy
from official.training.game_of_noise import noise
from official.training.game_of_noise.ant import AdversarialNoiseTrainer
from official.training.game_of_noise.experiments import scaled_epsilon
from official.training.game_of_noise.generator import NoiseGenerator, apply_generator
from official.training.game_of_noise.trainers import NoiseTrainer

# ImageNet statistics on the 0-255 scale, as the zoo's classifiers take their inputs.
MEAN = (123.675, 116.28, 103.53)
STD = (58.395, 57.12, 57.375)
EPS16 = scaled_epsilon(16)  # the paper's 135 at 224 px, scaled to 16 px: 9.64 (~0.35 RMS per value)


def _normalise(pixels: np.ndarray) -> np.ndarray:
    return ((pixels - np.array(MEAN)) / np.array(STD)).astype(np.float32)


def _tiny_classifier(classes: int = 3, size: int = 16, seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((size, size, 3)),
        keras.layers.Conv2D(8, 3, strides=2, activation="relu"),
        keras.layers.Conv2D(16, 3, strides=2, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(classes),
    ])
    return model


def _ant(classifier=None, generator: str = "1x1", replay_slots: int = 3, snapshot_every: int = 2, generator_lr=1e-4,
         seed: int = 0) -> AdversarialNoiseTrainer:
    return AdversarialNoiseTrainer(
        classifier if classifier is not None else _tiny_classifier(), generator, EPS16, generator_lr, 0.5, 0.3,
        replay_slots, snapshot_every, MEAN, STD, seed, ce_fn=SparseLabelSmoothingCrossEntropy(),
    )


def _set_random_weights(generator: NoiseGenerator, seed: int, scale: float = 0.5) -> list[np.ndarray]:
    """Weights of unit-ish gain (and non-zero biases), so the residual branch is not negligible."""
    rng = np.random.default_rng(seed)
    values = []
    for w in generator.weights_list:
        shape = tuple(w.shape)
        fan_in = float(np.prod(shape[:-1])) if len(shape) == 4 else 1.0
        v = rng.normal(0.0, scale * fan_in**-0.5 if len(shape) == 4 else 0.1, shape).astype(np.float32)
        w.assign(v)
        values.append(v)
    return values


# --- 1. exact-norm projection --------------------------------------------------------------------


def _norm64(x, d, eta):
    return np.linalg.norm((np.clip(x + eta * d, 0.0, 1.0) - x).ravel())


def _bisect_eta(x, d, epsilon):
    """eta with ||clip(x + eta d, 0, 1) - x|| = epsilon by 200 float64 bisections (the norm is
    non-decreasing in eta); None when epsilon is above the all-saturated norm."""
    x, d = x.astype(np.float64), d.astype(np.float64)
    if _norm64(x, d, 1e12) < epsilon:
        return None
    lo, hi = 0.0, 1.0
    while _norm64(x, d, hi) < epsilon:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _norm64(x, d, mid) < epsilon else (lo, mid)
    return 0.5 * (lo + hi)


def _projection_batch():
    """4 images 16x16x3 in [0, 1] and deltas; clipping is active in all but the first."""
    rng = np.random.default_rng(0)
    shape = (4, 16, 16, 3)
    x = rng.uniform(0.0, 1.0, shape)
    d = rng.normal(0.0, 1.0, shape)
    d[0, :2] = 0.0  # zero delta: never saturates, contributes nothing
    # 1: half of the values at 0 or 1 (either direction)
    x[1] = np.where(rng.uniform(size=shape[1:]) < 0.5, rng.integers(0, 2, shape[1:]).astype(float), x[1])
    # 2: 90% already at the bound delta pushes towards (room 0): a small all-saturated norm
    at_bound = rng.uniform(size=shape[1:]) < 0.9
    x[2] = np.where(at_bound, (d[2] > 0).astype(float), x[2])
    # 3: 60% at the opposite bound (room 1) and the rest close to their bound (room < 0.05)
    far = rng.uniform(size=shape[1:]) < 0.6
    near = np.where(d[3] > 0, 1.0 - rng.uniform(0, 0.05, shape[1:]), rng.uniform(0, 0.05, shape[1:]))
    x[3] = np.where(far, (d[3] < 0).astype(float), near)
    return x.astype(np.float32), d.astype(np.float32)


def _saturated_norm(x, d):
    room = np.where(d > 0, 1.0 - x.astype(np.float64), x.astype(np.float64))
    return float(np.sqrt(np.sum(np.where(d != 0, room, 0.0) ** 2)))


def test_exact_norm_step_matches_bisection_and_reaches_epsilon():
    x, d = _projection_batch()
    full = np.array([_saturated_norm(x[i], d[i]) for i in range(4)])
    assert full[2] < 0.5 * full.min(initial=np.inf, where=np.arange(4) != 2), full  # image 2 saturates early
    reach = float(full.min())
    # no clipping (0.1), clipping in 1 and 3, near the all-saturated norm, and above image 2's maximum
    # (reachable for the others, the all-saturated norm for image 2). Near saturation only a few pixels
    # still move: their sum of d^2 taken as total - prefix sum in float32 was off by ~5% (eta 25.05 for
    # 25.61, norm -5e-4 relative at 0.999 of image 2's maximum), hence the suffix sum in exact_norm_step.
    for epsilon in (0.1, 0.5 * reach, 0.9 * reach, 0.999 * reach, 0.5 * (full[2] + np.sort(full)[1])):
        eta = np.asarray(noise.exact_norm_step(x, d, float(epsilon)))
        projected = np.asarray(noise.project_to_norm(x, d, float(epsilon)))
        for i in range(4):
            brute = _bisect_eta(x[i], d[i], epsilon)
            got = np.linalg.norm((projected[i].astype(np.float64) - x[i]).ravel())
            if brute is None:  # unreachable: every pixel saturated
                assert epsilon > full[i]
                np.testing.assert_allclose(got, full[i], rtol=1e-5, err_msg=f"image {i} eps {epsilon}: not saturated")
                t = np.where(d[i] != 0, np.where(d[i] > 0, 1 - x[i], x[i]) / np.maximum(np.abs(d[i]), 1e-30), 0)
                assert eta[i] >= t.max() * (1 - 1e-6)
                continue
            np.testing.assert_allclose(eta[i], brute, rtol=1e-4, err_msg=f"image {i}, epsilon {epsilon}")
            np.testing.assert_allclose(got, epsilon, rtol=1e-4, err_msg=f"image {i}: norm after projection")
            np.testing.assert_allclose(_norm64(x[i], d[i], eta[i]), epsilon, rtol=1e-4)
    # 0.1 is reached with no clipping in image 0: eta = epsilon / ||delta|| exactly
    eta0 = float(np.asarray(noise.exact_norm_step(x, d, 0.1))[0])
    np.testing.assert_allclose(eta0, 0.1 / np.linalg.norm(d[0].astype(np.float64)), rtol=1e-5)
    # in images 1 and 3 the clipping matters: the unclipped step would give another norm
    eta = np.asarray(noise.exact_norm_step(x, d, 0.9 * reach))
    for i in (1, 3):
        assert abs(eta[i] * np.linalg.norm(d[i]) - 0.9 * reach) > 0.05 * reach


def test_exact_norm_step_unreachable_epsilon_saturates_every_pixel():
    x, d = _projection_batch()
    full = np.array([_saturated_norm(x[i], d[i]) for i in range(4)])
    epsilon = 2.0 * float(full.max())
    projected = np.asarray(noise.project_to_norm(x, d, epsilon))
    got = np.linalg.norm((projected.astype(np.float64) - x).reshape(4, -1), axis=1)
    np.testing.assert_allclose(got, full, rtol=1e-5)
    # saturated = every pixel with delta != 0 at the bound it moves towards
    moving = d != 0
    np.testing.assert_allclose(projected[moving], (d[moving] > 0).astype(np.float32), atol=1e-6)


# --- 2. generators -------------------------------------------------------------------------------


def test_generator_shapes_and_official_init_is_near_identity():
    keras.utils.set_random_seed(1)
    for kind, margin in (("1x1", 0), ("3x3", 1)):
        g = NoiseGenerator(kind)
        z = g.noise_input(2, 16, 12, seed=keras.random.SeedGenerator(0))
        assert tuple(z.shape) == (2, 16 + 2 * margin, 12 + 2 * margin, 3)
        delta = np.asarray(g(z))
        assert delta.shape == (2, 16, 12, 3)
        kernels = [np.asarray(w) for w in g.weights_list[0::2]]
        biases = [np.asarray(w) for w in g.weights_list[1::2]]
        assert [k.shape for k in kernels] == [(1, 1, 3, 20), (3 if kind == "3x3" else 1,) * 2 + (20, 20),
                                              (1, 1, 20, 20), (1, 1, 20, 3)]
        assert all(np.all(b == 0) for b in biases)
        for k in kernels[1:3]:  # 400+ values each: their std is 0.01 within a few %
            assert abs(k.mean()) < 2e-3 and 0.009 < k.std() < 0.011, (kind, k.std())
        # N(0, 0.01) weights: the residual branch is ~1e-7, so delta is z (its centre for 3x3)
        zc = np.asarray(z)[:, margin : margin + 16, margin : margin + 12]
        np.testing.assert_allclose(delta, zc, atol=1e-4)
        assert np.max(np.abs(delta - zc)) > 0  # the branch is there, just small


def test_1x1_generator_is_pixelwise():
    g = NoiseGenerator("1x1")
    _set_random_weights(g, 0)
    z = np.random.default_rng(1).normal(size=(2, 8, 8, 3)).astype(np.float32)
    delta = np.asarray(g(z))
    assert np.std(delta - z) > 0.1  # the residual branch is far from zero
    perm = np.random.default_rng(2).permutation(64)
    z_perm = z.reshape(2, 64, 3)[:, perm].reshape(2, 8, 8, 3)
    np.testing.assert_allclose(np.asarray(g(z_perm)), delta.reshape(2, 64, 3)[:, perm].reshape(2, 8, 8, 3), atol=1e-6)
    # the 3x3 generator is not pixel-wise: the same permutation of its z does not permute its output
    g3 = NoiseGenerator("3x3")
    _set_random_weights(g3, 0)
    z3 = np.random.default_rng(1).normal(size=(2, 10, 10, 3)).astype(np.float32)
    inner = z3[:, 1:9, 1:9].reshape(2, 64, 3)[:, perm].reshape(2, 8, 8, 3)
    z3_perm = z3.copy()
    z3_perm[:, 1:9, 1:9] = inner
    out = np.asarray(g3(z3)).reshape(2, 64, 3)[:, perm].reshape(2, 8, 8, 3)
    assert np.max(np.abs(np.asarray(g3(z3_perm)) - out)) > 1e-2


@pytest.mark.parametrize("kind, patch", [("1x1", 1), ("3x3", 3)])
def test_generator_receptive_field(kind, patch):
    g = NoiseGenerator(kind)
    _set_random_weights(g, 3)
    margin = g.margin
    z = np.random.default_rng(4).normal(size=(1, 12 + 2 * margin, 12 + 2 * margin, 3)).astype(np.float32)
    base = np.asarray(g(z))
    for i, j in ((6, 5), (0, 0), (z.shape[1] - 1, 3)):  # an interior z pixel, a corner, an edge
        z2 = z.copy()
        z2[0, i, j] += np.array([1.5, -2.0, 1.0], np.float32)
        changed = np.any(np.abs(np.asarray(g(z2)) - base) > 1e-7, axis=(0, 3))
        # output (p, q) sees z[p : p + patch, q : q + patch]
        expected = np.zeros((12, 12), bool)
        expected[max(i - patch + 1, 0) : i + 1, max(j - patch + 1, 0) : j + 1] = True
        np.testing.assert_array_equal(changed, expected, err_msg=f"{kind}: z pixel ({i}, {j})")


# --- 3. batch composition -------------------------------------------------------------------------


def _batch70(seed: int = 0):
    pixels = np.random.default_rng(seed).uniform(2.0, 253.0, size=(70, 16, 16, 3))
    return _normalise(pixels)


@pytest.mark.parametrize("mode", ["gauss", "gauss_mult", "speckle"])
def test_noise_trainer_keeps_exactly_the_first_half_clean(mode):
    trainer = NoiseTrainer(_tiny_classifier(), mode, 0.5, 0.5, MEAN, STD, seed=3)
    x = _batch70()
    out = np.asarray(trainer.perturb(ops.convert_to_tensor(x)))
    same = np.all(out == x, axis=(1, 2, 3))
    np.testing.assert_array_equal(same, np.arange(70) < 35)
    # every pixel of a noisy image moved (no pixel is at 0 or 255 before the noise)
    assert np.mean(out[35:] != x[35:]) > 0.99
    assert noise.clean_count(70, 0.5) == 35
    # inference sees the bare classifier
    np.testing.assert_array_equal(np.asarray(trainer(x[:4])), np.asarray(trainer.inference_model(x[:4])))


def _replayed_draws(model, x, run):
    """Runs `run()` and returns its result with the two z's mixed_batch drew (the seed state replayed)."""
    state = np.asarray(model.seed_generator.state)
    result = run()
    model.seed_generator.state.assign(state)
    z_live, z_replay = np.asarray(model._noise_input(x)), np.asarray(model._noise_input(x))
    return result, z_live, z_replay


def test_ant_mixed_batch_clean_live_replay_split():
    model = _ant(replay_slots=3, snapshot_every=2)
    x = ops.convert_to_tensor(_batch70())
    u = np.asarray(model.to_unit(x))
    gen = model.generator
    # before any snapshot: an empty (zero) buffer, and the replay share uses the live generator
    assert int(model.replay_filled.numpy()) == 0 and all(np.all(np.asarray(r) == 0) for r in model.replay)
    out, z_live, _ = _replayed_draws(model, x, lambda: np.asarray(model.mixed_batch(x)))
    assert np.all(out[:35] == np.asarray(x)[:35])
    assert not np.any(np.all(out[35:] == np.asarray(x)[35:], axis=(1, 2, 3)))
    live = np.asarray(noise.project_to_norm(u, gen(z_live), EPS16))
    np.testing.assert_allclose(np.asarray(model.to_unit(out))[35:], live[35:], atol=2e-5)
    # the noise has L2 norm epsilon on [0, 1] images
    norms = np.linalg.norm((np.asarray(model.to_unit(out)) - u).reshape(70, -1), axis=1)
    np.testing.assert_allclose(norms[35:], EPS16, rtol=1e-4)
    np.testing.assert_allclose(norms[:35], 0.0, atol=0)

    # snapshots only at multiples of snapshot_every; the slot holds the generator's weights
    assert not bool(model.snapshot(tf.constant(1)))
    assert int(model.replay_filled.numpy()) == 0 and all(np.all(np.asarray(r) == 0) for r in model.replay)
    snap = _set_random_weights(gen, 7)
    assert bool(model.snapshot(tf.constant(2)))
    assert int(model.replay_filled.numpy()) == 1
    for r, w in zip(model.replay, snap, strict=True):
        np.testing.assert_array_equal(np.asarray(r)[0], w)
        assert np.all(np.asarray(r)[1:] == 0)
    # the live generator moves on: the first 35 clean, the next 21 from it, the last 14 from the snapshot
    _set_random_weights(gen, 8)
    out, z_live, z_replay = _replayed_draws(model, x, lambda: np.asarray(model.mixed_batch(x)))
    unit = np.asarray(model.to_unit(out))
    assert np.all(out[:35] == np.asarray(x)[:35])
    live = np.asarray(noise.project_to_norm(u, gen(z_live), EPS16))
    replay = np.asarray(noise.project_to_norm(u, apply_generator([ops.convert_to_tensor(w) for w in snap], z_replay), EPS16))
    np.testing.assert_allclose(unit[35:56], live[35:56], atol=2e-5)
    np.testing.assert_allclose(unit[56:], replay[56:], atol=2e-5)
    assert np.max(np.abs(live[56:] - replay[56:])) > 0.1  # the two sources are distinguishable
    norms = np.linalg.norm((unit - u).reshape(70, -1), axis=1)
    np.testing.assert_allclose(norms[35:], EPS16, rtol=1e-4)
    # the ring: the next snapshots fill slots 1, 2 and then overwrite slot 0
    for step, seed in ((4, 9), (6, 10), (8, 11)):
        w = _set_random_weights(gen, seed)
        assert bool(model.snapshot(tf.constant(step)))
    assert int(model.replay_filled.numpy()) == 4
    np.testing.assert_array_equal(np.asarray(model.replay[0])[0], w[0])
    np.testing.assert_array_equal(np.asarray(model.replay[0])[1], _set_random_weights(NoiseGenerator("1x1"), 9)[0])


# --- 4. Gaussian statistics -----------------------------------------------------------------------


def _phi_inv(p: float) -> float:
    """Standard normal quantile (bisection on erf; float64)."""
    lo, hi = -10.0, 10.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < p else (lo, mid)
    return 0.5 * (lo + hi)


def test_gauss_sigma_05_on_mid_grey():
    """sigma 0.5 on x = 0.5: the noise before clipping has std 0.5 +- 1%.

    gaussian_noise returns clip(x + n, 0, 1), and at x = 0.5, sigma = 0.5 a third of the values clip, so
    the std of the output is not the noise's. Two principled measurements:
    (a) The same draw: keras.random.normal with a fresh SeedGenerator of the same seed gives the same n
        the function drew; the output must equal clip(0.5 + 0.5 n) exactly, and n * 0.5 (unclipped) must
        have std 0.5 +- 1%.
    (b) Independent of the RNG plumbing, from the clipped output alone: the values clip at 0 or 1 iff
        |n| > 0.5, so the clipped fraction p = 2 Phi(-0.5 / sigma) gives sigma = 0.5 / Phi^-1(1 - p / 2)
        (censored-normal estimate; with 786k values its error is ~0.2%).
    """
    shape = (1, 512, 512, 3)
    x = ops.full(shape, 0.5)
    out = np.asarray(noise.gaussian_noise(x, 0.5, seed=keras.random.SeedGenerator(42)))
    n = np.asarray(keras.random.normal(shape, seed=keras.random.SeedGenerator(42)))
    np.testing.assert_allclose(out, np.clip(0.5 + 0.5 * n, 0.0, 1.0), atol=1e-7)
    std = float(np.std(0.5 * n.astype(np.float64)))
    assert abs(std - 0.5) <= 0.005, std
    clipped = float(np.mean((out == 0.0) | (out == 1.0)))
    sigma = 0.5 / _phi_inv(1.0 - clipped / 2.0)
    assert abs(sigma - 0.5) <= 0.005, (clipped, sigma)
    # and the two tails balance (zero-mean noise)
    assert abs(float(np.mean(out == 0.0)) - float(np.mean(out == 1.0))) < 0.003


@pytest.mark.parametrize("fn, choices", [
    (lambda x, s: noise.gaussian_noise(x, None, seed=s), noise.GAUSS_SIGMAS),
    (lambda x, s: 2.0 * (noise.speckle_noise(x, seed=s) - 0.5) + 0.5, noise.SPECKLE_SIGMAS),  # x n: 0.5 n at 0.5
])
def test_per_image_sigma_is_one_of_the_severities(fn, choices):
    """Per image, on mid grey: sigma from the median absolute deviation (robust to the few clipped values:
    for sigma <= 0.38 fewer than a fifth clip, MAD = 0.6745 sigma), each within 4% of one of `choices`,
    and all of them drawn over 40 images."""
    x = ops.full((40, 48, 48, 3), 0.5)
    out = np.asarray(fn(x, keras.random.SeedGenerator(5))).reshape(40, -1)
    sigma = np.median(np.abs(out - 0.5), axis=1) / 0.67449
    nearest = np.array(choices)[np.argmin(np.abs(sigma[:, None] - np.array(choices)[None]), axis=1)]
    np.testing.assert_allclose(sigma, nearest, rtol=0.04)
    assert set(nearest.tolist()) == set(choices)


# --- 5. the signs of ANT's two steps --------------------------------------------------------------


def _ce(model, x, y) -> float:
    return float(ops.mean(model.ce_fn(y, model.classifier(x, training=False))))


def test_ant_generator_step_ascends_and_classifier_step_descends():
    rng = np.random.default_rng(0)
    x = ops.convert_to_tensor(_normalise(rng.uniform(2.0, 253.0, size=(16, 16, 16, 3))))
    y = ops.convert_to_tensor(rng.integers(0, 3, size=(16,)))
    classifier = _tiny_classifier()
    head = classifier.layers[-1].kernel
    head.assign(10.0 * head)  # confident logits: the CE responds to the noise well above float32 rounding
    model = _ant(classifier, generator_lr=1e-2, snapshot_every=2)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=SparseLabelSmoothingCrossEntropy())
    assert model.inference_model is model.classifier
    u = model.to_unit(x)
    z = model._noise_input(x)

    def generator_ce():  # the classifier's CE on the batch noised by the live G from this fixed z
        return _ce(model, model.from_unit(noise.project_to_norm(u, model.generator(z), EPS16)), y)

    # (1) one Adam step of G on this z raises the CE on this z
    model._noise_input = lambda _: z
    before = generator_ce()
    returned = float(model.generator_step(x, y))
    after = generator_ce()
    np.testing.assert_allclose(returned, before, rtol=1e-6)  # the step measured the same batch
    assert after > before + 1e-3, (before, after)  # measured: 1.4528 -> 1.4607
    del model._noise_input

    # (2) train_step: G ascends again, then one SGD step of the classifier on the mixed batch lowers its CE
    classifier0 = [np.asarray(w) for w in model.classifier.weights]
    generator0 = [np.asarray(w) for w in model.generator.weights_list]
    seen = {}
    mixed_batch = model.mixed_batch

    def recording_mixed_batch(xb):
        seen["batch"] = mixed_batch(xb)
        seen["before"] = _ce(model, seen["batch"], y)
        return seen["batch"]

    model.mixed_batch = recording_mixed_batch
    model.train_step((x, y))
    del model.mixed_batch
    after = _ce(model, seen["batch"], y)
    assert after < seen["before"] - 1e-3, (seen["before"], after)  # measured: 1.716 -> 1.384
    # and that step was plain SGD on the mixed batch: w1 = w0 - lr * grad of the CE on it at w0
    trained = [np.asarray(w) for w in model.classifier.trainable_weights]
    for w, w0 in zip(model.classifier.trainable_weights, classifier0, strict=True):
        w.assign(w0)
    with tf.GradientTape() as tape:
        loss = SparseLabelSmoothingCrossEntropy()(y, model.classifier(seen["batch"], training=True))
    grads = tape.gradient(loss, model.classifier.trainable_weights)
    for w1, w0, g in zip(trained, classifier0, grads, strict=True):
        np.testing.assert_allclose(w1, w0 - 0.01 * np.asarray(g), atol=1e-6)
    for w, w1 in zip(model.classifier.trainable_weights, trained, strict=True):
        w.assign(w1)
    assert all(np.any(np.asarray(w) != w0) for w, w0 in zip(model.classifier.weights, classifier0, strict=True))
    assert all(np.any(np.asarray(w) != w0) for w, w0 in zip(model.generator.weights_list, generator0, strict=True))
    assert int(model.generator_optimizer.iterations.numpy()) == 2 and int(model.optimizer.iterations.numpy()) == 1
    assert int(model.replay_filled.numpy()) == 0  # step 1 of snapshot_every 2: no snapshot yet
    assert model.inference_model is model.classifier
    assert not any("generator" in w.path or "replay" in w.path for w in model.inference_model.weights)


# --- 6-7. end to end: checkpoint, resume, inference restore, export ------------------------------


def _write_digits_subset(root: str, train_per_class: int = 6, val_per_class: int = 2) -> str:
    """A few of tools.make_digits' images in its layout (DIR/digits/{train,val}/<digit>/<index>.png):
    the same scans, split and resize, fewer of them (the full set takes seconds to write)."""
    from PIL import Image

    from tools.make_digits import digits_arrays, split_indices

    images, labels = digits_arrays()
    for split, indices, per_class in zip(("train", "val"), split_indices(labels, 5), (train_per_class, val_per_class),
                                         strict=True):
        for c in range(10):
            folder = os.path.join(root, "digits", split, str(c))
            os.makedirs(folder)
            for i in [i for i in indices if labels[i] == c][:per_class]:
                img = Image.fromarray(images[i], mode="L").resize((32, 32), Image.BILINEAR).convert("RGB")
                img.save(os.path.join(folder, f"{i:04d}.png"))
    return root


def _ant_state(model) -> dict[str, np.ndarray]:
    state = {f"generator/{i}": np.asarray(w) for i, w in enumerate(model.generator.weights_list)}
    state.update({f"replay_{i}": np.asarray(r) for i, r in enumerate(model.replay)})
    state.update({f"generator_optimizer/{v.path}": np.asarray(v) for v in model.generator_optimizer.variables})
    state["replay_filled"] = np.asarray(model.replay_filled)
    return state


def test_ant_experiment_checkpoints_resumes_and_restores_the_bare_classifier(tmp_path, monkeypatch, capsys):
    """`game_of_noise_ant_mobilenetv2_035_digits` (its training section, data and recipe) for 4 steps and
    then 6, with tests/tiny_models' convnet (BatchNorm on) in place of MobileNetV2-0.35, whose first ANT
    step alone traces for ~60 s on 2 loaded cores."""
    from official.core import config as config_lib
    from official.core import export, trainer
    from official.training.game_of_noise.method import GameOfNoise
    from tests.tiny_models import NAME, registered

    registered(monkeypatch)
    data_dir = _write_digits_subset(str(tmp_path / "data"))
    model_dir = str(tmp_path / "run")

    def config(steps: int):
        cfg = config_lib.resolve(
            "game_of_noise_ant_mobilenetv2_035_digits",
            params_override=f"trainer.train_steps={steps},trainer.steps_per_loop=2,training.snapshot_every=2,"
            "trainer.global_batch_size=16",
            data_dir=data_dir,
        )
        cfg.model = config_lib.model_config(NAME, batch_norm=True)
        return cfg

    keras.backend.clear_session()
    results, first = trainer.run_experiment(config(4), model_dir, mode="train", return_model=True)
    assert results["step"] == 4
    assert isinstance(first, AdversarialNoiseTrainer) and first.epsilon == scaled_epsilon(32)
    saved = _ant_state(first)
    assert int(saved["replay_filled"]) == 2  # snapshots after steps 2 and 4
    assert int(first.generator_optimizer.iterations.numpy()) == 4
    # slots 0 and 1 hold two different generator states, slot 1 the current one, the rest are empty
    for i, w in enumerate(first.generator.weights_list):
        np.testing.assert_array_equal(saved[f"replay_{i}"][1], np.asarray(w))
        assert np.all(saved[f"replay_{i}"][2:] == 0)
    assert np.any(saved["replay_0"][0] != saved["replay_0"][1])

    # the checkpoint holds the generator, its optimizer and the replay beside the model and optimizer
    reader_dir = os.path.join(model_dir, "checkpoints")
    reader = tf.train.load_checkpoint(reader_dir)
    keys = reader.get_variable_to_shape_map()
    assert int(reader.get_tensor("replay_filled/.ATTRIBUTES/VARIABLE_VALUE")) == 2
    for i in range(len(first.replay)):
        np.testing.assert_array_equal(reader.get_tensor(f"replay_{i}/.ATTRIBUTES/VARIABLE_VALUE"), saved[f"replay_{i}"])
    # the generator's weights, saved one by one as generator_<i> (the layer keeps them in a plain list,
    # which TF's object graph would not follow); a fresh generator and Adam read them back
    fresh = NoiseGenerator("1x1", name="noise_generator")
    adam = keras.optimizers.Adam(1e-4, name="generator_adam")
    adam.build(fresh.weights_list)
    tf.train.Checkpoint(generator_optimizer=adam, **{f"generator_{i}": w for i, w in enumerate(fresh.weights_list)}).read(
        tf.train.latest_checkpoint(reader_dir)).expect_partial()
    assert int(adam.iterations.numpy()) == 4
    for i, w in enumerate(fresh.weights_list):
        np.testing.assert_array_equal(np.asarray(w), saved[f"generator/{i}"])
        assert f"generator_{i}/.ATTRIBUTES/VARIABLE_VALUE" in keys
    assert np.max(np.abs(saved["generator/2"])) > 0  # (not an all-zero layer compared with itself)
    assert any(k.startswith("generator_optimizer/") for k in keys)
    # ... and outside `model/`, the subtree restore_for_inference reads
    assert not [k for k in keys if k.startswith("model/") and ("generator" in k or "replay" in k)]

    # resume: the generator, its Adam state and the replay come back as saved (captured right after the
    # restore, before any step), and training continues from step 4 to 6
    restored = {}

    def prepare(self, model, resumed):
        restored.update(_ant_state(model), resumed=resumed)

    monkeypatch.setattr(GameOfNoise, "prepare", prepare)
    capsys.readouterr()
    keras.backend.clear_session()
    results, second = trainer.run_experiment(config(6), model_dir, mode="train", return_model=True)
    out = capsys.readouterr().out
    assert "resumed from step : 4" in out and "trained 2 steps" in out, out[-2000:]
    assert restored.pop("resumed") == 4 and results["step"] == 6
    assert restored.keys() == saved.keys()
    for key, value in saved.items():
        np.testing.assert_array_equal(restored[key], value, err_msg=f"{key} after resume")
    assert int(second.replay_filled.numpy()) == 3 and int(second.generator_optimizer.iterations.numpy()) == 6
    for i in range(len(second.replay)):  # slots 0, 1 kept, slot 2 the generator at step 6
        np.testing.assert_array_equal(np.asarray(second.replay[i])[:2], saved[f"replay_{i}"][:2])
        np.testing.assert_array_equal(np.asarray(second.replay[i])[2], np.asarray(second.generator.weights_list[i]))

    # inference: the bare classifier, its weights (BN statistics included) and logits = the trained one's
    cfg = config(6)
    classifier, task, step = trainer.restore_for_inference(cfg, model_dir)
    assert step == 6
    trained = second.inference_model
    assert trained is second.classifier and len(classifier.weights) == len(trained.weights)
    for a, b in zip(classifier.weights, trained.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=a.path)
    x = _normalise(np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)))
    np.testing.assert_allclose(np.asarray(classifier(x, training=False)), np.asarray(trained(x, training=False)),
                               atol=1e-6)
    assert not [w.path for w in classifier.weights if "generator" in w.path or "replay" in w.path]

    # export: the SavedModel holds the classifier's variables only, and serves its logits
    export_cfg = dataclasses.replace(cfg.export, verify_examples=2, warmup_requests=0)
    path, report = export.export_saved_model(classifier, task, str(tmp_path / "export"), "ant", export_cfg, 32)
    assert max(report.values()) <= 1e-4
    loaded = tf.saved_model.load(path)
    names = [v.name for v in loaded.variables]
    assert len(names) == len(classifier.weights), names
    assert not [n for n in names if "generator" in n or "replay" in n or "noise" in n]
