"""SoftPoolNet forward under KERAS_BACKEND=jax equals TensorFlow (METHOD_CONTRACT item 9), one subprocess
for both networks' code paths: the completion network (top_k soft pooling, regional convs, per-region
generators, patch deforming) with random weights and BN statistics."""

from __future__ import annotations

import keras
import numpy as np

from research.three_d.softpoolnet.model import SoftPoolNetCompletion
from tests.helpers import check_jax_parity, randomise_weights

TINY = dict(num_points=64, point_widths=(8,), dim_pn=8, ranks=4, rank_sampling="spread", global_widths=(8, 16),
            global_dim=8, grid=(2, 2), fold_widths=(16,))


def test_completion_forward_matches_under_jax(tmp_path):
    keras.utils.set_random_seed(0)
    model = SoftPoolNetCompletion(**TINY)
    randomise_weights(model, 0)
    x = np.random.default_rng(0).normal(size=(2, 64, 3)).astype("float32")
    out = model(x, training=False)
    assert float(np.ptp(np.asarray(out["fine"]))) > 0.1  # outputs that differ across points
    check_jax_parity(model, tmp_path, x, atol=1e-4)
