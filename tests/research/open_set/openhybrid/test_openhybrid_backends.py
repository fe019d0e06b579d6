"""OpenHybrid under JAX and XLA (METHOD_CONTRACT item 9): the forward pass (logits, log p(z)) and the joint
loss under KERAS_BACKEND=jax give TensorFlow's values on random weights (a non-identity flow); one
jit_compile=True training step through compute_loss moves the encoder, the classifier and the flow."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from research.open_set.openhybrid.model import OpenHybrid
from tests.helpers import randomise_weights, run_jax_script

_SCRIPT = """
import json, sys
import numpy as np
import keras
assert keras.backend.backend() == "jax"
from research.open_set.openhybrid.model import OpenHybrid
d = dict(np.load(sys.argv[1]))
net = OpenHybrid.from_config(json.load(open(d["config"].item())))
net.load_weights(d["weights"].item())
out = {k: np.asarray(v) for k, v in net(d["x"], training=False).items()}
out["loss"] = np.asarray(net.compute_loss(d["x"], d["y"], out))
assert "tensorflow" not in sys.modules, "OpenHybrid model code imported tensorflow"
np.savez(sys.argv[2], **out)
"""

NARROW = (8, 8, 16, 16, 16, 16, 16, 16, 16)  # a narrow trunk: the JAX, XLA and export paths do not depend on the widths


def _tiny(**kwargs) -> OpenHybrid:
    return OpenHybrid(classes=3, input_shape=(16, 16, 3), flow_steps=2, flow_hidden=8, widths=NARROW, **kwargs)


@pytest.mark.jax
def test_forward_and_loss_match_under_jax(tmp_path):
    keras.utils.set_random_seed(0)
    net = _tiny()
    randomise_weights(net, 0)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(net.get_config()))
    weights = str(tmp_path / "net.weights.h5")
    net.save_weights(weights)
    rng = np.random.default_rng(0)
    arrays = {"config": np.asarray(str(config)), "weights": np.asarray(weights),
              "x": rng.uniform(size=(3, 16, 16, 3)).astype("float32"), "y": np.array([0, 2, 1])}
    got = run_jax_script(_SCRIPT, tmp_path, **arrays)
    want = {k: np.asarray(v) for k, v in net(arrays["x"], training=False).items()}
    _, logdet = net.flow.forward(net.get_layer("flow_standardise")(net.encoder()(arrays["x"], training=False)))
    assert np.min(np.abs(np.asarray(logdet))) > 1.0, "random flow: the log-det term is exercised"
    for key in ("logits", "score", "log_likelihood"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-4, atol=1e-3, err_msg=key)
    np.testing.assert_allclose(got["loss"], float(net.compute_loss(arrays["x"], arrays["y"], want)), rtol=1e-4)


def test_xla_training_step_moves_encoder_classifier_and_flow():
    keras.utils.set_random_seed(0)
    net = OpenHybrid(classes=3, input_shape=(8, 8, 3), flow_steps=2, flow_hidden=8, widths=NARROW, dropout_rate=0.0)  # 1x1x16 map, no dropout RNG: compiles faster
    net.compile(optimizer=keras.optimizers.Adam(1e-3), loss=None, jit_compile=True)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(size=(8, 8, 8, 3)).astype("float32"), rng.integers(0, 3, 8)
    before = {v.path: np.asarray(v).copy() for v in net.trainable_weights}
    loss = net.train_on_batch(x, y, return_dict=True)["loss"]
    assert np.isfinite(loss)
    moved = {v.path for v in net.trainable_weights if not np.array_equal(before[v.path], np.asarray(v))}
    assert {"encoder_conv1/kernel", "logits/kernel", "flow/actnorm0/log_scale",
            "flow/coupling1/conv3/kernel"} <= moved, sorted(set(before) - moved)


def test_two_stage_cut_keeps_the_flow_gradient_out_of_the_encoder():
    """joint=False (the card's two-stage ablation): the encoder's gradient is the cross-entropy's alone,
    equal to that of the same weights with nll_weight=0."""
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    cut, plain = _tiny(joint=False), _tiny(nll_weight=0.0)
    randomise_weights(cut, 0)
    plain.set_weights(cut.get_weights())
    x, y = np.random.default_rng(2).uniform(size=(4, 16, 16, 3)).astype("float32"), np.array([0, 1, 2, 0])
    grads = []
    for net in (cut, plain):
        with tf.GradientTape() as tape:
            loss = net.compute_loss(x, y, net(x, training=False))
        grads.append(tape.gradient(loss, net.get_layer("encoder_conv1").kernel).numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-8)
    assert np.abs(grads[0]).max() > 0
