"""ISP under KERAS_BACKEND=jax: the tiny network's forward pass (all outputs) matches TensorFlow's."""

from __future__ import annotations

import keras
import numpy as np

from official.core import registry
from tests import helpers


def test_jax_forward_matches_tensorflow(tmp_path):
    keras.backend.clear_session()
    model = registry.create_model("isp_hrnet_tiny", num_classes=5)
    helpers.randomise_weights(model, 0)
    x = np.random.default_rng(0).normal(size=(2, 64, 32, 3)).astype(np.float32)
    # the package imports without TensorFlow (its task and method register from the zoo index)
    diff = helpers.check_jax_parity(model, tmp_path, x, atol=1e-4)
    assert diff < 1e-4
