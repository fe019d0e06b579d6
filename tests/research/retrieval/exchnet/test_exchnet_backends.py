"""ExchNet under JAX: the network rebuilt from its config and weights under KERAS_BACKEND=jax gives
TensorFlow's codes, and its module imports no TensorFlow. (The XLA-compiled training step is in
test_exchnet_training.py.)"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from research.retrieval.exchnet.model import ExchNet
from tests.helpers import check_jax_parity, randomise_weights


@pytest.mark.jax
def test_forward_matches_under_jax(tmp_path):
    keras.utils.set_random_seed(0)
    # One width everywhere: few distinct weight shapes, and JAX compiles every initializer's shape once.
    net = ExchNet(code_bits=12, num_parts=3, blocks=(1, 1, 1, 1), widths=(8, 8, 8, 8), block="basic", stem_width=8,
                  input_shape=(32, 32, 3))
    randomise_weights(net, 0)
    x = np.random.default_rng(1).normal(size=(2, 32, 32, 3)).astype("float32")
    diff = check_jax_parity(net, tmp_path, x, atol=1e-4)
    assert diff < 1e-4
