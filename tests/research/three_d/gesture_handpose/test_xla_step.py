"""One training step of a tiny Gesture+HandPose network compiled with jit_compile=True under TensorFlow
(METHOD_CONTRACT item 9): static T, the masked multi-task loss and every stream inside one XLA program."""

from __future__ import annotations

import keras
import numpy as np

from research.three_d.gesture_handpose.model import GestureHandPose
from tests.research.three_d.gesture_handpose.test_losses import TINY, _batch


def test_xla_train_step_updates_and_lowers_loss():
    keras.utils.set_random_seed(0)
    model = GestureHandPose(**{**TINY, "relation_scales": (2,)})  # one relation scale: a smaller program to compile
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=None, jit_compile=True)
    x, y = _batch([1, 1, 0, 1], [1, 0, 1, 1])
    before = [np.array(v) for v in model.trainable_variables]
    first = model.train_on_batch(x, y, return_dict=True)
    for _ in range(4):
        last = model.train_on_batch(x, y, return_dict=True)
    changed = sum(not np.allclose(a, np.asarray(b)) for a, b in zip(before, model.trainable_variables, strict=True))
    assert changed > 0.8 * len(before)
    assert np.isfinite(first["loss"]) and last["loss"] < first["loss"], (first, last)
    assert set(first) >= {"loss", "gesture_loss", "coord_loss", "depth_loss", "heatmap_loss"}
