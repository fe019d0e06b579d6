"""ProxyBNN under JAX and XLA: the training network (A, P), its folded BNN and the layer's STE gradients
under KERAS_BACKEND=jax give TensorFlow's values; one jit_compile=True training step runs under TF."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from official.vision.proxybnn.layers import ProxyBinaryConv2D
from official.vision.proxybnn.model import BinaryResNet
from tests.helpers import run_jax_script

_SCRIPT = """
import json, sys
import numpy as np
import jax, keras
assert keras.backend.backend() == "jax"
from official.vision.proxybnn.layers import ProxyBinaryConv2D
from official.vision.proxybnn.model import BinaryResNet
from official.vision.proxybnn.fold import fold
d = dict(np.load(sys.argv[1]))
net = BinaryResNet.from_config(json.load(open(d["config"].item())))
net.load_weights(d["weights"].item())
out = {"logits": np.asarray(net(d["x"], training=False)), "folded": np.asarray(fold(net)(d["x"], training=False))}
layer = ProxyBinaryConv2D(4, 3, activation_grad=str(d["grad"]))
layer.build((None, 6, 6, 3))
layer.a.assign(d["a"]); layer.p.assign(d["p"])
def loss(a, p):
    (y, _) = layer.stateless_call([a, p], [], d["xl"])
    return 0.5 * ((y - d["t"]) ** 2).sum()
ga, gp = jax.grad(loss, argnums=(0, 1))(d["a"], d["p"])
out["ga"], out["gp"] = np.asarray(ga), np.asarray(gp)
assert "tensorflow" not in sys.modules, "ProxyBNN model code imported tensorflow"
np.savez(sys.argv[2], **out)
"""


@pytest.mark.jax
def test_network_fold_and_gradients_match_under_jax(tmp_path):
    rng = np.random.default_rng(0)
    net = BinaryResNet(blocks=(1,), widths=(4,), stem="cifar", classes=10, input_shape=(8, 8, 3))  # few shapes: JAX compiles each init
    for v in net.weights:
        if v.name == "p":
            v.assign(np.eye(9) + rng.normal(0, 0.2, v.shape).astype("float32"))
        elif v.name == "moving_variance":
            v.assign(rng.uniform(0.5, 1.5, v.shape).astype("float32"))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(net.get_config()))
    weights = str(tmp_path / "net.weights.h5")
    net.save_weights(weights)
    layer = ProxyBinaryConv2D(4, 3, activation_grad="approx")
    layer.build((None, 6, 6, 3))
    layer.p.assign(np.eye(9) + rng.normal(0, 0.2, (9, 9)).astype("float32"))
    arrays = {"config": np.asarray(str(config)), "weights": np.asarray(weights), "grad": np.asarray("approx"),
              "x": rng.normal(size=(4, 8, 8, 3)).astype("float32"), "a": np.asarray(layer.a),
              "p": np.asarray(layer.p), "xl": rng.normal(size=(2, 6, 6, 3)).astype("float32"),
              "t": rng.normal(size=(2, 6, 6, 4)).astype("float32")}
    got = run_jax_script(_SCRIPT, tmp_path, **arrays)
    want = np.asarray(net(arrays["x"], training=False))
    np.testing.assert_allclose(got["logits"], want, atol=1e-4)
    np.testing.assert_allclose(got["folded"], want, atol=1e-4)
    xl = tf.constant(arrays["xl"])
    with tf.GradientTape() as tape:
        tape.watch(xl)
        loss = 0.5 * tf.reduce_sum(tf.square(layer(xl) - arrays["t"]))
    ga, gp = tape.gradient(loss, [layer.a, layer.p])
    np.testing.assert_allclose(got["ga"], ga.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got["gp"], gp.numpy(), rtol=1e-4, atol=1e-5)


def test_xla_training_step_moves_a_and_p():
    keras.utils.set_random_seed(0)
    net = BinaryResNet(blocks=(1,), widths=(8,), stem="cifar", classes=3, input_shape=(8, 8, 3))
    net.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=True,
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(8, 8, 8, 3)).astype("float32"), rng.integers(0, 3, 8)
    before = {v.path: np.asarray(v).copy() for v in net.trainable_weights}
    assert np.isfinite(net.train_on_batch(x, y, return_dict=True)["loss"])
    moved = {v.path for v in net.trainable_weights if not np.array_equal(before[v.path], np.asarray(v))}
    assert {v.path for layer in net.proxy_layers() for v in (layer.a, layer.p)} <= moved
