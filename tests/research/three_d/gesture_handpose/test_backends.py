"""The forward pass under KERAS_BACKEND=jax equals TensorFlow (METHOD_CONTRACT item 9): trunk, deconv neck,
heatmap pooling, multi-order streams, slow-fast convs, relations, feedback and the pose readout."""

from __future__ import annotations

import keras
import numpy as np

from research.three_d.gesture_handpose.model import GestureHandPose
from tests.helpers import check_jax_parity, randomise_weights
from tests.research.three_d.gesture_handpose.test_losses import TINY


def test_forward_matches_under_jax(tmp_path):
    keras.utils.set_random_seed(0)
    model = GestureHandPose(**TINY)
    randomise_weights(model, 0)
    x = np.random.default_rng(0).uniform(0, 255, (2, 4, 32, 32, 3)).astype(np.float32)
    out = model(x, training=False)
    assert float(np.ptp(np.asarray(out["joints3d"]))) > 1.0  # joints that differ
    # the package imports its TensorFlow task (tf.data reader, export) at import time
    check_jax_parity(model, tmp_path, x, atol=2e-3, without_tensorflow=False)
