"""LIMP export (spec card limp.md check 7): encode / decode SavedModel signatures vs Keras, decoder TFLite."""

from __future__ import annotations

import keras
import numpy as np

import research.three_d.limp  # noqa: F401  (registers the variants also before zoo_index lists the package)
from official.core import registry
from research.three_d.limp.export import decoder_tflite, export_limp
from tests import helpers


def test_saved_model_and_tflite_match_keras(tmp_path):
    keras.backend.clear_session()
    model = registry.create_model("limp_tiny")
    helpers.randomise_weights(model, 4)
    out = str(tmp_path / "limp_saved_model")
    assert export_limp(model, out) < 1e-5
    flat = decoder_tflite(out)
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_content=flat).get_signature_runner("decode")
    z = np.random.default_rng(5).normal(size=(1, 32)).astype(np.float32)
    got = runner(latent=z)["vertices"]
    np.testing.assert_allclose(got, np.asarray(model.decoder(z, training=False)), atol=1e-4)
