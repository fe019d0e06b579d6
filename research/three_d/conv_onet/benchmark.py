"""A ConvONet training step for speed measurements (GPU benchmarks under JAX; no TensorFlow import).

    from research.three_d.conv_onet.benchmark import build_train_step
    model, step, batch = build_train_step(batch=32)
    step()  # one Adam step (lr 1e-4) of BCE summed over 2,048 queries on a random sphere batch; returns the loss

The batch follows the ShapeNet recipe (3,000 noisy surface points, 2,048 query points in the padded cube).
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

from research.three_d.conv_onet import losses
from research.three_d.conv_onet.model import ConvONet


def random_batch(batch: int = 32, input_points: int = 3000, query_points: int = 2048, seed: int = 0):
    """({"points", "queries"}, occupancy) of random ellipsoids: inputs on the surface + N(0, 0.005)."""
    rng = np.random.default_rng(seed)
    axes = rng.uniform(0.2, 0.5, (batch, 1, 3))
    p = rng.normal(size=(batch, input_points, 3))
    p = axes * p / np.linalg.norm(p, axis=-1, keepdims=True) + 0.005 * rng.normal(size=(batch, input_points, 3))
    q = rng.uniform(-0.55, 0.55, (batch, query_points, 3))
    occ = (np.sum((q / axes) ** 2, -1) < 1.0).astype(np.float32)
    return {"points": p.astype(np.float32), "queries": q.astype(np.float32)}, occ


def build_train_step(variant: str = "conv_onet_3plane_shapenet", batch: int = 32, input_points: int = 3000,
                     query_points: int = 2048, jit_compile: bool = True, learning_rate: float = 1e-4,
                     seed: int = 0, **model_args) -> tuple[ConvONet, Callable[[], float], tuple]:
    """(model, step, (x, y)): `step()` runs one compiled training step (Keras train_on_batch) on (x, y)."""
    import research.three_d.conv_onet  # noqa: F401  (registers the variants)
    from official.core import registry

    keras.utils.set_random_seed(seed)
    model = registry.create_model(variant, **model_args)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=losses.occupancy_loss, jit_compile=jit_compile)
    x, y = random_batch(batch, input_points, query_points, seed)

    def step() -> float:
        return float(model.train_on_batch(x, y))

    return model, step, (x, y)
