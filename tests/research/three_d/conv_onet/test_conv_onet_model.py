"""ConvONet spec-card check 1 (exact trainable counts), the config / .keras round trips, the official key
names and shapes (converter), and the encode/decode split."""

import json
import os

import keras
import numpy as np
import pytest
import torch

from official.core import registry
from research.three_d.conv_onet import convert
from tests import helpers

HERE = os.path.dirname(__file__)


@pytest.mark.parametrize("name, expected", [
    ("conv_onet_3plane_shapenet", 1_978_209),  # spec card: encoder 27,232 + U-Net 1,934,976 + decoder 16,001
    ("conv_onet_3plane_rooms", 7_812_705),  # U-Net depth 5: 7,769,472
    ("conv_onet_grid32_shapenet", 1_068_545),  # the authors' module counts the same (.peer/conv_onet)
])
def test_variant_parameter_counts(name, expected):
    model = registry.create_model(name)
    assert helpers.trainable_count(model) == expected
    assert helpers.trainable_count(model.decoder) == 16_001
    assert helpers.trainable_count(model.encoder) - (
        helpers.trainable_count(model.encoder.unet) if model.encoder.unet is not None else
        helpers.trainable_count(model.encoder.unet3d)) == 27_232


def _inputs(n=128, t=32, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.normal(size=(2, n, 3))
    p = 0.4 * p / np.linalg.norm(p, axis=-1, keepdims=True)
    return {"points": p.astype(np.float32), "queries": rng.uniform(-0.55, 0.55, (2, t, 3)).astype(np.float32)}


@pytest.mark.parametrize("name", ["conv_onet_tiny", "conv_onet_grid_tiny"])
def test_round_trips_and_encode_decode(name, tmp_path):
    keras.utils.set_random_seed(0)
    model = registry.create_model(name)
    helpers.randomise_weights(model, 0)
    x = _inputs()
    out = helpers.outputs_of(model, x)[0]
    assert out.shape == (2, 32) and np.abs(out).max() > 1e-2
    feats = model.encode(x["points"])
    assert {k: tuple(v.shape[1:]) for k, v in feats.items()} == model.feature_shapes()
    np.testing.assert_allclose(np.asarray(model.decode(feats, x["queries"])), out, atol=1e-6)
    decoder = model.decoder_model(batch=2, queries=32)
    np.testing.assert_allclose(np.asarray(decoder([*(np.asarray(v) for v in feats.values()), x["queries"]])), out, atol=1e-6)
    helpers.check_config_round_trip(model, x)
    helpers.check_keras_round_trip(model, tmp_path, x)
    # the trainer's checkpoints (tf.train.Checkpoint) hold every weight: a fresh model restores the outputs
    import tensorflow as tf

    path = tf.train.Checkpoint(model=model).save(os.path.join(str(tmp_path), "ckpt"))
    fresh = registry.create_model(name)
    tf.train.Checkpoint(model=fresh).restore(path).assert_existing_objects_matched()
    np.testing.assert_allclose(helpers.outputs_of(fresh, x)[0], out, atol=1e-6)


def _official_state(name, seed=0):
    """A state dict with the authors' key names and shapes (fixture from their modules: .peer/conv_onet)."""
    with open(os.path.join(HERE, "official_keys.json")) as f:
        shapes = json.load(f)[name]
    rng = np.random.default_rng(seed)
    return {k: torch.from_numpy(rng.normal(size=s).astype(np.float32)) for k, s in shapes.items()}


@pytest.mark.parametrize("name", ["conv_onet_3plane_shapenet", "conv_onet_grid32_shapenet"])
def test_converter_fills_every_weight_from_official_keys(name, tmp_path):
    """Every official tensor lands in one Keras weight with the right transform (spot-checked by value)."""
    state = _official_state(name)
    src = os.path.join(tmp_path, "model.pt")
    torch.save({"model": state, "optimizer": {}, "it": 1000}, src)
    from tools.convert_checkpoint import convert as run_convert

    result = run_convert("pytorch", name, src, os.path.join(tmp_path, "out"))
    assert result["tensors"] == len(state)
    model = keras.saving.load_model(result["outputs"]["model.keras"])
    enc = model.encoder
    np.testing.assert_array_equal(np.asarray(enc.fc_pos.kernel), state["encoder.fc_pos.weight"].numpy().T)
    np.testing.assert_array_equal(np.asarray(model.decoder.fc_out.bias), state["decoder.fc_out.bias"].numpy())
    if enc.unet is not None:
        w = state["encoder.unet.up_convs.0.upconv.weight"].numpy()  # (in, out, kh, kw)
        np.testing.assert_array_equal(np.asarray(enc.unet.up[0][0].kernel)[1, 0], w[:, :, 1, 0].T)
        w = state["encoder.unet.down_convs.1.conv2.weight"].numpy()  # (out, in, kh, kw)
        np.testing.assert_array_equal(np.asarray(enc.unet.down[1][1].kernel)[0, 2], w[:, :, 0, 2].T)
    else:
        w = state["encoder.unet3d.decoders.0.basic_module.SingleConv1.conv.weight"].numpy()
        np.testing.assert_array_equal(np.asarray(enc.unet3d.decoders[0][0][1].kernel)[0, 1, 2], w[:, :, 0, 1, 2].T)


def test_converter_rejects_the_other_variant(tmp_path):
    from official.core.checkpoint_convert import ConversionError

    state = _official_state("conv_onet_grid32_shapenet")
    model = registry.create_model("conv_onet_3plane_shapenet")
    with pytest.raises(ConversionError, match="checkpoint has no 'encoder.unet"):
        convert.load_state_dict(model, state)


def test_same_shaped_dense_layers_start_different():
    """One initializer per Dense: a shared unseeded one gave the decoder's same-shaped blocks equal weights."""
    assert helpers.assert_distinct_initial_kernels(registry.create_model("conv_onet_tiny")) > 4
