"""One training step of the test-sized U-Net compiled by XLA (jit_compile=True) under TensorFlow."""

from __future__ import annotations

import keras
import numpy as np

from official.core import registry
from research.three_d.pointcontrast.config import PointContrastTrainingConfig
from research.three_d.pointcontrast.method import PointContrastTrainer


def test_xla_train_step():
    rng = np.random.default_rng(0)
    v = 48
    cells = rng.choice(6**3, v, replace=False)
    coords = np.stack(np.unravel_index(cells, (6, 6, 6)), -1).astype(np.int32)[None]
    x = {"coords0": coords, "coords1": coords + 16, "feats0": np.ones((1, v, 3), np.float32),
         "feats1": np.ones((1, v, 3), np.float32), "mask0": np.ones((1, v), np.float32),
         "mask1": np.ones((1, v), np.float32)}
    matches = np.full((1, v, 2), -1, np.int32)
    matches[0, :, 0] = np.arange(v)
    keras.utils.set_random_seed(0)
    trainer = PointContrastTrainer(registry.create_model("pointcontrast_res16unet_test"),
                                   PointContrastTrainingConfig(npos=32))
    trainer.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.8), jit_compile=True)
    before = [np.array(w) for w in trainer.network.trainable_weights]
    logs = trainer.train_on_batch(x, {"matches": matches}, return_dict=True)
    # view 1 is view 0 moved by the total stride: matched voxels get equal features, so the loss is below
    # the log(32) of indistinct features
    assert np.isfinite(logs["loss"]) and logs["loss"] < np.log(32) - 0.5
    assert any(np.abs(np.array(w) - b).max() > 0 for w, b in zip(trainer.network.trainable_weights, before, strict=True))
