"""The TF1 converter (METHOD_CONTRACT item 8 for a TensorFlow original): a checkpoint written here by
tf.compat.v1's Saver with the official variable names and shapes (generatorA2B and generatorB2A scopes,
Adam slots, a discriminator and the classifier) converts through tools.convert_checkpoint --from=tf1;
every generator tensor lands in the layer of the same name with its exact value, the saved model.keras
reproduces the converted network, the first layer agrees with a numpy recomputation from the checkpoint,
and a missing tensor is a one-line ConversionError naming it."""

import numpy as np
import pytest
import tensorflow as tf

import research.generative.forkgan  # noqa: F401
from official.core.checkpoint_convert import ConversionError
from tools import convert_checkpoint

F, ENC, DEC = 8, 1, 2  # forkgan_tiny


def official_generator_shapes(scope):
    """The official generator_resnet variables (model.py / ops.py scopes) for gf F, 3 channels."""
    out = {f"{scope}/g_e1_c/Conv/weights": (7, 7, 3, F), f"{scope}/g_e2_c/Conv/weights": (3, 3, F, 2 * F),
           f"{scope}/g_e3_c/Conv/weights": (3, 3, 2 * F, 4 * F)}
    for name, width in (("g_e1_bn", F), ("g_e2_bn", 2 * F), ("g_e3_bn", 4 * F)):
        out[f"{scope}/{name}/scale"] = out[f"{scope}/{name}/offset"] = (width,)
    for suffix in ("", "_rec"):
        blocks = [f"g_r{i}" for i in range(1, ENC + 1)] if not suffix else []
        blocks += [f"g_r{i}{suffix}" for i in range(ENC + 1, ENC + DEC + 1)]
        for b in blocks:
            for k in ("1", "2"):
                out[f"{scope}/{b}_c{k}/filter"] = (3, 3, 4 * F, 4 * F)
                out[f"{scope}/{b}_bn{k}/scale"] = out[f"{scope}/{b}_bn{k}/offset"] = (4 * F,)
        out[f"{scope}/g_d1_dc{suffix}/Conv2d_transpose/weights"] = (3, 3, 2 * F, 4 * F)
        out[f"{scope}/g_d2_dc{suffix}/Conv2d_transpose/weights"] = (3, 3, F, 2 * F)
        for name, width in (("g_d1_bn", 2 * F), ("g_d2_bn", F)):
            out[f"{scope}/{name}{suffix}/scale"] = out[f"{scope}/{name}{suffix}/offset"] = (width,)
        out[f"{scope}/g_pred_c{suffix}/Conv/weights"] = (7, 7, F, 3)
    return out


def write_official_checkpoint(prefix):
    rng = np.random.default_rng(0)
    shapes = {**official_generator_shapes("generatorA2B"), **official_generator_shapes("generatorB2A"),
              "0_discriminatorB/d_h0_conv_scale_0_first_c/filter": (4, 4, 3, 4), "percep/d_h1_conv/Conv/weights": (4, 4, 32, 16)}
    shapes["generatorA2B/g_e1_c/Conv/weights/Adam"] = shapes["generatorA2B/g_e1_c/Conv/weights"]
    values = {k: rng.normal(0, 0.3, s).astype(np.float32) for k, s in shapes.items()}
    with tf.Graph().as_default():
        variables = [tf.compat.v1.Variable(v, name=k) for k, v in values.items()]
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            tf.compat.v1.train.Saver(variables).save(sess, prefix, global_step=7)
    return f"{prefix}-7.index", values


def test_converts_official_names(tmp_path):
    src, values = write_official_checkpoint(str(tmp_path / "cyclegan.model"))
    result = convert_checkpoint.convert("tf1", "forkgan_tiny", src, str(tmp_path / "a2b"))
    generator = {k: v for k, v in values.items() if k.startswith("generatorA2B/") and not k.endswith("/Adam")}
    assert result["tensors"] == len(generator) and result["skipped"] == len(values) - len(generator)
    import keras

    model = keras.models.load_model(result["outputs"]["model.keras"])
    by_path = {v.path: v for v in model.trainable_weights}
    layer_of = {}
    for layer in model._flatten_layers(include_self=False, recursive=True):
        for w in layer.trainable_weights:
            layer_of[id(w)] = layer.name
    found = 0
    for key, value in generator.items():
        name = key.split("/")[1]
        hits = [v for v in by_path.values() if layer_of[id(v)] == name and v.shape == value.shape
                and np.array_equal(np.asarray(v), value)]
        assert hits, key
        found += 1
    assert found == len(generator) == len(model.trainable_weights)
    # First layer recomputed from the checkpoint: reflect pad 3, conv7x7, instance norm (scale, offset), ReLU.
    x = np.random.default_rng(1).uniform(-1, 1, (1, 32, 64, 3)).astype(np.float32)
    padded = np.pad(x, ((0, 0), (3, 3), (3, 3), (0, 0)), mode="reflect")
    w = values["generatorA2B/g_e1_c/Conv/weights"]
    conv = np.einsum("bhwijc,ijcf->bhwf", np.lib.stride_tricks.sliding_window_view(padded, (7, 7), (1, 2)).transpose(0, 1, 2, 4, 5, 3), w)
    mean, var = conv.mean((1, 2), keepdims=True), conv.var((1, 2), keepdims=True)
    want = np.maximum((conv - mean) / np.sqrt(var + 1e-5) * values["generatorA2B/g_e1_bn/scale"]
                      + values["generatorA2B/g_e1_bn/offset"], 0)
    probe = keras.Model(model.encoder.input, model.encoder.get_layer("g_e1_relu").output)
    np.testing.assert_allclose(np.asarray(probe(x)), want, atol=2e-4)

    b2a = convert_checkpoint.convert("tf1", "forkgan_tiny", src, str(tmp_path / "b2a"), checkpoint_key="generatorB2A")
    assert b2a["tensors"] == len(generator)
    del values["generatorA2B/g_r2_rec_c1/filter"]
    with tf.Graph().as_default():
        variables = [tf.compat.v1.Variable(v, name=k) for k, v in values.items()]
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            tf.compat.v1.train.Saver(variables).save(sess, str(tmp_path / "broken"))
    with pytest.raises(ConversionError, match="generatorA2B/g_r2_rec_c1/filter"):
        convert_checkpoint.convert("tf1", "forkgan_tiny", str(tmp_path / "broken.index"), str(tmp_path / "bad"))
