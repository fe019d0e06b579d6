"""ResNet classifiers: exact parameter counts of the registered variants (torchvision / the CIFAR paper
figures), the option A shortcut on a hand-made input, the round trips of a tiny CIFAR ResNet, TF vs JAX
on it, and one XLA training step. The numerics against PyTorch are in test_resnet_convert.py."""

from __future__ import annotations

import os
import textwrap

import keras
import numpy as np
import pytest

from official.core import model_table, registry
from official.vision.backbones.resnet import ZeroPadShortcut
from official.vision.resnet.model import CifarResNet, ResNet
from tests import helpers

TINY_CIFAR = dict(blocks_per_stage=1, widths=(8, 16, 32))

# (variant, overrides) -> (trainable, non-trainable). Trainable = torchvision / PyTorch `parameters()`
# (conv, fc, BN gamma/beta): resnet18 11,689,512 and resnet50 25,557,032 as torchvision documents;
# CIFAR ResNet-20 0.27M, -56 0.85M (He et al. 2016 Sec. 4.2); ResNet-44 658,586 / 657,936 without
# `linear` = Side-Tuning's resnet_cifar.py ResnetiCifar44 / ResnetiCifar44NoLinear counted in PyTorch.
# Non-trainable: BN running mean + variance (2 x the BN channels).
COUNTS = {
    ("resnet18", ()): (11_689_512, 9_600),
    ("resnet50", ()): (25_557_032, 53_120),
    ("resnet20_cifar", ()): (269_722, 1_376),
    ("resnet44_cifar", ()): (658_586, 3_168),
    ("resnet44_cifar", (("include_top", False),)): (657_936, 3_168),
    ("resnet56_cifar", ()): (853_018, 4_064),
}


@pytest.mark.parametrize("key", list(COUNTS), ids=lambda k: k[0] + "".join(f"_{a}={b}" for a, b in k[1]))
def test_parameter_counts_equal_the_official_figures(key):
    name, overrides = key
    with model_table.shape_only():
        model = registry.create_model(name, **dict(overrides))
        trainable, total = model_table.weight_counts(model)
    assert (trainable, total - trainable) == COUNTS[key]


def test_pooled_feature_widths_and_feature_model():
    keras.backend.clear_session()
    model = registry.create_model("resnet44_cifar", blocks_per_stage=1)  # widths as ResNet-44, one block per stage
    features = model.feature_model()
    assert features.output.shape == (None, 64)  # Side-Tuning's base: 64-d after global average pooling
    helpers.randomise_weights(model)
    x = helpers.random_inputs(model)
    logits_layer = model.get_layer("logits")
    expected = np.asarray(features(x)) @ np.asarray(logits_layer.kernel) + np.asarray(logits_layer.bias)
    np.testing.assert_allclose(np.asarray(model(x, training=False)), expected, atol=1e-4)
    with model_table.shape_only():
        assert ResNet(depth=50, include_top=False).output.shape == (None, 2048)
        assert ResNet(depth=18, include_top=False, pooling=None, input_shape=(64, 64, 3)).output.shape == (None, 2, 2, 512)


def test_option_a_shortcut_subsamples_from_index_0_and_pads_both_sides():
    """Hand-made input: value 100*c + 10*i + j at row i, column j, channel c; 16 -> 32 channels is
    `F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, 8, 8))` in the authors' code: zeros in channels 0-7 and 24-31."""
    h, w, c, pad = 5, 6, 16, 8
    x = np.array([[[100 * k + 10 * i + j for k in range(c)] for j in range(w)] for i in range(h)], np.float32)[None]
    got = np.asarray(ZeroPadShortcut(pad)(x))
    assert got.shape == (1, 3, 3, 32)  # ceil(5/2), ceil(6/2), 16 + 2 * 8
    for i in range(3):
        for j in range(3):
            assert np.all(got[0, i, j, :pad] == 0) and np.all(got[0, i, j, pad + c :] == 0)
            assert list(got[0, i, j, pad : pad + c]) == [100 * k + 10 * (2 * i) + (2 * j) for k in range(c)]
    layer = ZeroPadShortcut.from_config(ZeroPadShortcut(pad).get_config())
    assert layer.compute_output_shape((None, 32, 32, 16)) == (None, 16, 16, 32)


def test_cifar_network_has_option_a_shortcuts_only_and_the_papers_shapes():
    model = CifarResNet(blocks_per_stage=3)
    shortcuts = [layer.name for layer in model.layers if isinstance(layer, ZeroPadShortcut)]
    assert shortcuts == ["resnet_layer2_0_shortcut", "resnet_layer3_0_shortcut"]
    assert not [layer.name for layer in model.layers if "down" in layer.name]
    assert model.get_layer("resnet_layer3_2_out").output.shape == (None, 8, 8, 64)
    assert sum(isinstance(v, keras.layers.Conv2D) for v in model.layers) + 1 == model.depth == 20


def test_tiny_cifar_resnet_round_trips(tmp_path):
    helpers.run_model_test("resnet20_cifar", tmp_path, overrides=TINY_CIFAR, expected_trainable=19_218,
                           expected_output_shapes=[(2, 10)], saved_model=True)


_JAX_CIFAR = """
import sys
import numpy as np
from official.vision.resnet.model import CifarResNet
data = np.load(sys.argv[1])
model = CifarResNet(**{cifar!r})
model.load_weights(str(data["weights"]))
np.savez(sys.argv[2], logits=np.asarray(model(data["x"], training=False)))
assert "tensorflow" not in sys.modules, "official.vision.resnet imported tensorflow"
"""


@pytest.mark.jax
def test_tf_and_jax_agree_on_the_option_a_network(tmp_path):
    """The one op of its own (ZeroPadShortcut: strided slice + channel pad) and the BasicBlocks under JAX.
    Bottleneck blocks are the same Conv2D / BatchNormalization / ReLU / Add layers (JAX run skipped: +25 s)."""
    keras.backend.clear_session()
    model = CifarResNet(**TINY_CIFAR)
    helpers.randomise_weights(model)
    path = os.path.join(str(tmp_path), "cifar.weights.h5")
    model.save_weights(path)
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype(np.float32)
    got = helpers.run_jax_script(textwrap.dedent(_JAX_CIFAR.format(cifar=TINY_CIFAR)), tmp_path, x=x, weights=np.array(path))
    expected = np.asarray(model(x, training=False))
    assert float(np.abs(expected).max()) > 1e-2
    np.testing.assert_allclose(got["logits"], expected, atol=1e-4, err_msg="TF vs JAX")


def test_one_xla_training_step():
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = CifarResNet(**TINY_CIFAR)
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=True)
    x = np.random.default_rng(0).normal(size=(4, 32, 32, 3)).astype(np.float32)
    before = [np.array(v) for v in model.trainable_weights]
    history = model.fit(x, np.arange(4) % 10, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.allclose(a, np.asarray(b)) for a, b in zip(before, model.trainable_weights, strict=True))
