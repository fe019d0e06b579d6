"""RPL under JAX and XLA (METHOD_CONTRACT item 9): the forward pass and RPLoss under KERAS_BACKEND=jax give
TensorFlow's values; one jit_compile=True training step through compute_loss moves the trunk, P and R."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from official.vision.rpl.model import RPLNet
from tests.helpers import randomise_weights, run_jax_script

NARROW = (8, 8, 16, 16, 16, 16, 16, 16, 16)  # backends and XLA do not depend on the widths

_SCRIPT = """
import json, sys
import numpy as np
import keras
assert keras.backend.backend() == "jax"
from official.vision.rpl.model import RPLNet
d = dict(np.load(sys.argv[1]))
net = RPLNet.from_config(json.load(open(d["config"].item())))
net.load_weights(d["weights"].item())
out = {k: np.asarray(v) for k, v in net(d["x"], training=False).items()}
out["loss"] = np.asarray(net.compute_loss(d["x"], d["y"], out))
assert "tensorflow" not in sys.modules, "RPL model code imported tensorflow"
np.savez(sys.argv[2], **out)
"""


@pytest.mark.jax
def test_forward_and_loss_match_under_jax(tmp_path):
    keras.utils.set_random_seed(0)
    net = RPLNet(classes=4, input_shape=(8, 8, 3), widths=NARROW)
    randomise_weights(net, 0)
    net.reciprocal_points.radius.assign([0.2])
    config = tmp_path / "config.json"
    config.write_text(json.dumps(net.get_config()))
    weights = str(tmp_path / "net.weights.h5")
    net.save_weights(weights)
    rng = np.random.default_rng(0)
    arrays = {"config": np.asarray(str(config)), "weights": np.asarray(weights),
              "x": rng.uniform(size=(3, 8, 8, 3)).astype("float32"), "y": np.array([0, 3, 1])}
    got = run_jax_script(_SCRIPT, tmp_path, **arrays)
    want = {k: np.asarray(v) for k, v in net(arrays["x"], training=False).items()}
    for key in ("logits", "score", "features"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-4, atol=1e-5, err_msg=key)
    np.testing.assert_allclose(got["loss"], float(net.compute_loss(arrays["x"], arrays["y"], want)), rtol=1e-4)


def test_xla_training_step_moves_trunk_points_and_radius():
    keras.utils.set_random_seed(0)
    net = RPLNet(classes=3, input_shape=(8, 8, 3), widths=NARROW)
    net.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss=None, jit_compile=True)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(size=(8, 8, 8, 3)).astype("float32"), rng.integers(0, 3, 8)
    before = {v.path: np.asarray(v).copy() for v in net.trainable_weights}
    loss = net.train_on_batch(x, y, return_dict=True)["loss"]
    assert np.isfinite(loss) and loss > 0
    moved = {v.path for v in net.trainable_weights if not np.array_equal(before[v.path], np.asarray(v))}
    assert {"reciprocal_points/points", "reciprocal_points/radius", "conv1/kernel", "bn9/gamma"} <= moved
    # dL/dR = -weight_pl * 2 * mean(own distance - R) at R = 0: R grows (SGD, lr 0.1)
    assert float(np.asarray(net.reciprocal_points.radius)[0]) > 0
