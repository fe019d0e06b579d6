"""LIMP networks: spec card limp.md checks 1 (parameter counts) and 5 (permutation invariance), the shared
model checks (config / .keras / SavedModel round trips, JAX parity) and training-only sampling."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import research.three_d.limp  # noqa: F401  (registers the variants also before zoo_index lists the package)
from official.core import registry
from tests import helpers


def _decoder_count(n: int, latent: int = 256) -> int:
    # spec card check 1: 256*1024+1024 + 1024*2048+2048 + 2048*3N+3N
    return latent * 1024 + 1024 + 1024 * 2048 + 2048 + 2048 * 3 * n + 3 * n


def test_faust2500_parameter_counts():
    keras.backend.clear_session()
    model = registry.create_model("limp_faust2500")
    assert helpers.trainable_count(model.encoder) == 875_209
    assert helpers.trainable_count(model.decoder) == _decoder_count(2500) == 17_729_868
    assert helpers.trainable_count(model) == 18_605_077
    # the decoder grows by 6,147 per vertex; the encoder does not depend on N
    other = registry.create_model("limp_faust2500", num_points=2501)
    assert helpers.trainable_count(other) - helpers.trainable_count(model) == 6_147


def test_tiny_model_round_trips(tmp_path):
    x = np.random.default_rng(0).normal(scale=0.1, size=(2, 194, 3)).astype(np.float32)
    # config and .keras round trips here; the SavedModel round trip of the same network (encode / decode signatures
    # against Keras) is test_limp_training.py::test_tools_export_and_saved_model_evaluation_match_keras
    helpers.run_model_test("limp_tiny", tmp_path, inputs=x, expected_output_shapes=[(2, 194, 3), (2, 32), (2, 32)],
                           saved_model=False)
    # JAX parity of this model and of the heat geodesics: test_limp_backends.py (one subprocess for both)


@pytest.fixture(scope="module")
def tiny():
    """One randomised limp_tiny shared by the checks that only read it."""
    keras.backend.clear_session()
    model = registry.create_model("limp_tiny", seed=3)
    helpers.randomise_weights(model, 1)
    return model


def test_encoder_is_permutation_invariant(tiny):
    model = tiny
    x = np.random.default_rng(1).normal(scale=0.1, size=(3, 194, 3)).astype(np.float32)
    perm = np.random.default_rng(2).permutation(194)
    mu, logvar = (np.asarray(t) for t in model.encoder(x, training=False))
    mu_p, logvar_p = (np.asarray(t) for t in model.encoder(x[:, perm], training=False))
    assert np.abs(mu).max() > 1e-2
    np.testing.assert_allclose(mu_p, mu, atol=1e-5)
    np.testing.assert_allclose(logvar_p, logvar, atol=1e-5)
    # the input transform acts: a rotated input does not give the same code (T-Net output is data dependent)
    rot = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], np.float32)
    assert np.abs(np.asarray(model.encoder(x @ rot.T, training=False)[0]) - mu).max() > 1e-4


def test_sampling_only_in_training(tiny):
    model = tiny
    x = np.random.default_rng(3).normal(scale=0.1, size=(2, 194, 3)).astype(np.float32)
    rec, mu, logvar = (np.asarray(t) for t in model(x, training=False))
    np.testing.assert_allclose(rec, np.asarray(model.decoder(mu)), atol=1e-6)  # inference decodes mu
    rec_t, mu_t, logvar_t = model(x, training=True)
    assert np.abs(np.asarray(rec_t) - np.asarray(model.decoder(mu_t))).max() > 1e-4  # training samples z

    # the spread of the sampled codes is exp(logvar / 2): decode-free check through the sampling layer
    sample = model.get_layer("sample")
    mu0 = np.zeros((4000, 2), np.float32)
    logvar0 = np.log(np.array([[0.25, 4.0]], np.float32)) + mu0
    z = np.asarray(sample(mu0, logvar0, training=True))
    np.testing.assert_allclose(z.std(axis=0), [0.5, 2.0], rtol=0.06)
