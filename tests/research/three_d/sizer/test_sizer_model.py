"""SIZER spec-card check 1: exact trainable counts of the registered SizerNet / ParserNet variants
(ParserNet hi-res, 672M weights, by weight shape only: nothing allocated)."""

import keras
import numpy as np
import pytest

import research.three_d.sizer  # noqa: F401  (registration)
from official.core import model_table, registry
from tests import helpers


def _count_prefix(model, prefix):
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights if v.path.startswith(prefix))


@pytest.mark.parametrize("name, expected, encoder", [
    ("sizer_sizernet_g5_hires", 41_724_086, 18_663_490),  # spec card: encoder + decoder 23,060,596
    ("sizer_sizernet_g5_lowres", 4_350_604, None),
])
def test_sizernet_counts(name, expected, encoder):
    with model_table.shape_only():
        model = registry.create_model(name)
        assert helpers.trainable_count(model) == expected
        if encoder is not None:
            assert _count_prefix(model, "enc_") == encoder
            assert _count_prefix(model, "dec_") == expected - encoder
        assert model.get_layer("condition").output.shape[-1] == 118  # [z 100, size 4 + 4, beta 10]


@pytest.mark.parametrize("name, trainable, v_out", [
    ("sizer_parsernet_g5_hires", 671_779_561, 7702),  # spec card
    ("sizer_parsernet_g5_lowres", 41_998_865, 1924),
])
def test_parsernet_counts(name, trainable, v_out):
    with model_table.shape_only():
        model = registry.create_model(name)
        trained, total = model_table.weight_counts(model)
        assert (helpers.trainable_count(model), trained) == (trainable, trainable)
        assert total - trainable == v_out * 50  # the int32 neighbour list travels with the weights


def test_condition_is_z_then_size_in_then_size_out_then_betas():
    """net_modules.SizerNet.forward: cat(enc_out, size_inp, size_des, beta). A swap of the two one-hots
    trains just as well on our data (the decoder learns either order), so only the layout can catch it; the
    authors' decoder weights (dec_fc1 rows 100-103 = input size) would be read wrongly after one."""
    model = registry.create_model("sizer_sizernet_tiny")  # V = 64, L = 16
    helpers.randomise_weights(model, 0)
    condition = keras.Model(model.inputs, model.get_layer("condition").output)
    rng = np.random.default_rng(0)
    eye = np.eye(4, dtype=np.float32)
    x = {"garment": rng.normal(size=(2, 64, 3)).astype(np.float32), "size_in": eye[[0, 1]], "size_out": eye[[3, 2]],
         "betas": rng.normal(size=(2, 10)).astype(np.float32)}
    c = np.asarray(condition(x))
    encoder = keras.Model(model.inputs, model.get_layer("enc_fc3").output)
    np.testing.assert_allclose(c[:, :16], np.asarray(encoder(x)), atol=1e-6)
    np.testing.assert_array_equal(c[:, 16:20], x["size_in"])
    np.testing.assert_array_equal(c[:, 20:24], x["size_out"])
    np.testing.assert_array_equal(c[:, 24:], x["betas"])


def test_layers_start_with_different_weights():
    """One initializer per Dense (model._dense): ParserNet's and SizerNet's same-shaped layers start apart."""
    assert helpers.assert_distinct_initial_kernels(registry.create_model("sizer_sizernet_tiny")) >= 4
