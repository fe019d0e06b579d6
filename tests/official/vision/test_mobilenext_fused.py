"""MobileNeXt.fuse_batchnorm(): the inference copy with BatchNorm folded into the convs computes the
same logits (float32) as the model it came from, for every block kind and partial identity."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from official.vision.mobilenext.model import MobileNeXt


def randomise_batchnorm(model: keras.Model, seed: int = 0) -> None:
    """BN statistics and affine parameters as trained / converted weights have them (fresh: 0 and 1)."""
    rng = np.random.default_rng(seed)
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.gamma.assign(rng.uniform(0.5, 1.5, c).astype("float32"))
            layer.beta.assign(rng.normal(0, 0.2, c).astype("float32"))
            layer.moving_mean.assign(rng.normal(0, 0.2, c).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, c).astype("float32"))


@pytest.mark.parametrize("identity_divisor", [1, 2])
def test_fused_copy_gives_the_same_logits(identity_divisor):
    model = MobileNeXt(width=0.35, identity_divisor=identity_divisor, classes=10, input_shape=(64, 64, 3))
    randomise_batchnorm(model)
    fused = model.fuse_batchnorm()
    assert fused.constructor_args["fused_bn"] and not model.constructor_args["fused_bn"]
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in fused._flatten_layers())
    x = np.random.default_rng(1).normal(size=(4, 64, 64, 3)).astype("float32")
    ref = keras.ops.convert_to_numpy(model(x, training=False))
    out = keras.ops.convert_to_numpy(fused(x, training=False))
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    assert fused.fuse_batchnorm() is fused
    # the copy rebuilds from its config (fused_bn travels) and has one bias per conv instead of 4 BN vectors
    clone = MobileNeXt.from_config(fused.get_config())
    assert clone.constructor_args["fused_bn"]
    assert len(clone.weights) == len(fused.weights)
