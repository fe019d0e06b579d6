"""MobileNeXt through the model kit (config, .keras, SavedModel, TF == JAX) and a tiny overfit."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from official.vision.mobilenext.model import MobileNeXt
from tests import helpers

# Spec card: 1,913,976 trainable at width 0.35 with 1000 classes, of which the classifier is
# 1280 x 1000 + 1000; at 10 classes the classifier is 1280 x 10 + 10.
TRAINABLE_035_10_CLASSES = 1_913_976 - (1280 * 1000 + 1000) + (1280 * 10 + 10)


@pytest.mark.slow  # ~50 s on 2 shared cores: a fresh interpreter plus JAX's CPU compilation
@pytest.mark.jax
def test_model_kit_and_jax_parity(tmp_path):
    helpers.run_model_test(
        "mobilenext_035",
        tmp_path,
        overrides=dict(identity_divisor=2, classes=10, input_shape=(32, 32, 3)),
        expected_trainable=TRAINABLE_035_10_CLASSES,
        expected_output_shapes=[(2, 10)],
        jax=True,
    )


@pytest.mark.slow
def test_width_035_overfits_32_images():
    """32 noise images of 4 classes: 100% inference-mode train accuracy within 300 full-batch steps."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 32, 32, 3)).astype("float32")
    y = np.repeat(np.arange(4), 8)
    model = MobileNeXt(width=0.35, classes=4, input_shape=(32, 32, 3))
    # BN moving statistics lag the batch statistics while Adam keeps moving the weights; inference-mode
    # accuracy reaches 100% some tens of steps after training-mode accuracy does (measured: 120 steps).
    helpers.check_overfit(
        model,
        x,
        y,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        accuracy=lambda m: float((m.predict(x, verbose=0).argmax(axis=1) == y).mean()),
        bar=1.0,
        max_steps=300,
    )
