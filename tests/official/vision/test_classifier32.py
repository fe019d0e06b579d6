"""classifier32 trunk: the layer list's parameter count and the same outputs as a torch forward of ARPL's
layout (conv padding 1, BN in eval mode, LeakyReLU 0.2) on identical weights."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from official.vision.backbones.classifier32 import classifier32_trunk


def _trunk(size: int = 32) -> keras.Model:
    inputs = keras.Input((size, size, 3))
    return keras.Model(inputs, classifier32_trunk(inputs))


def test_parameter_count_matches_layer_list():
    model = _trunk()
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == 999_104  # 9 convs 997,056 + 9 BN (gamma, beta) 2,048
    assert model.output_shape == (None, 4, 4, 128)
    assert _trunk(64).output_shape == (None, 8, 8, 128)
    narrow = keras.Model(inputs := keras.Input((32, 32, 3)), classifier32_trunk(inputs, widths=(4,) * 8 + (6,)))
    assert narrow.output_shape == (None, 4, 4, 6)
    with pytest.raises(ValueError, match="9 values"):
        classifier32_trunk(inputs, widths=(4, 4))


def test_initialisation_follows_weights_init():
    keras.utils.set_random_seed(0)
    model = _trunk()
    kernel = np.asarray(model.get_layer("conv5").kernel)
    gamma = np.asarray(model.get_layer("bn5").gamma)
    assert abs(kernel.std() - 0.05) < 0.002 and abs(kernel.mean()) < 0.002
    assert abs(gamma.mean() - 1.0) < 0.01 and 0.01 < gamma.std() < 0.03
    assert np.all(np.asarray(model.get_layer("bn5").beta) == 0)


def test_matches_torch_forward_on_identical_weights():
    import torch
    functional = torch.nn.functional
    keras.utils.set_random_seed(1)
    model = _trunk()
    rng = np.random.default_rng(0)
    for i in range(1, 10):  # non-trivial BN statistics, so eval-mode BN is exercised
        bn = model.get_layer(f"bn{i}")
        bn.moving_mean.assign(rng.normal(0, 0.1, bn.moving_mean.shape).astype("float32"))
        bn.moving_variance.assign(rng.uniform(0.5, 2.0, bn.moving_variance.shape).astype("float32"))
        bn.beta.assign(rng.normal(0, 0.1, bn.beta.shape).astype("float32"))
    images = rng.normal(size=(2, 32, 32, 3)).astype("float32")
    expected = np.asarray(model(images, training=False))

    x = torch.from_numpy(images.transpose(0, 3, 1, 2))
    for i in range(1, 10):
        conv, bn = model.get_layer(f"conv{i}"), model.get_layer(f"bn{i}")
        weight = torch.from_numpy(np.asarray(conv.kernel).transpose(3, 2, 0, 1).copy())
        x = functional.conv2d(x, weight, stride=2 if i in (3, 6, 9) else 1, padding=1)
        x = functional.batch_norm(
            x, *(torch.from_numpy(np.asarray(v)) for v in (bn.moving_mean, bn.moving_variance)),
            torch.from_numpy(np.asarray(bn.gamma)), torch.from_numpy(np.asarray(bn.beta)), training=False, eps=1e-5,
        )
        x = functional.leaky_relu(x, 0.2)
    np.testing.assert_allclose(expected, x.numpy().transpose(0, 2, 3, 1), atol=2e-4, rtol=1e-4)
