"""TopoGAN networks: the official parameter counts (spec checks 1), the WGAN-GP penalty (spec check 5),
and one subprocess under KERAS_BACKEND=jax in which the tiny generator and the topological loss's gather
match TensorFlow; the loss given host targets compiles with XLA and equals the eager value."""

from __future__ import annotations

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from official.core import registry
from official.losses.topology import topological_loss, topology_targets
from research.generative.topogan import variants  # noqa: F401  (registration)
from research.generative.topogan.model import DCGANCritic, DCGANGenerator
from research.generative.topogan.objective import gradient_penalty
from tests import helpers


def test_parameter_counts_and_shapes():
    g = registry.create_model("topogan_dcgan64")
    assert helpers.trainable_count(g) == 3_804_032
    assert sum(int(np.prod(w.shape)) for w in g.non_trainable_weights) == 1_920
    d = DCGANCritic()
    assert d.count_params() == 2_761_728
    assert g.output_shape == (None, 64, 64, 1) and d.output_shape == (None, 1, 1, 1)
    tiny = registry.create_model("topogan_tiny")
    assert helpers.trainable_count(tiny) == 76_384 - 2 * (64 + 32 + 16 + 8)  # minus BN moving statistics
    out = np.asarray(tiny(np.random.default_rng(0).standard_normal((2, 32)).astype(np.float32)))
    assert out.shape == (2, 64, 64, 1) and np.all(np.abs(out) <= 1.0)


class _Linear(keras.Model):
    def __init__(self, w):
        super().__init__()
        self.w = tf.constant(w)

    def call(self, x, training=False):
        return tf.reduce_sum(x * self.w, axis=(1, 2, 3))


def test_gradient_penalty_is_zero_for_a_unit_linear_critic():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((1, 8, 8, 1)).astype(np.float32)
    w /= np.linalg.norm(w)
    real, fake = (tf.constant(rng.standard_normal((3, 8, 8, 1)), tf.float32) for _ in range(2))
    alpha = tf.constant(rng.random((3, 1, 1, 1)), tf.float32)
    assert float(gradient_penalty(_Linear(w), real, fake, alpha)) == pytest.approx(0.0, abs=1e-6)
    assert float(gradient_penalty(_Linear(2 * w), real, fake, alpha)) == pytest.approx(1.0, rel=1e-5)


_SCRIPT = """
import json, sys
import numpy as np
import keras
assert keras.backend.backend() == "jax"
from research.generative.topogan.model import DCGANGenerator
from official.losses.topology import topological_loss
data = np.load(sys.argv[1], allow_pickle=True)
g = DCGANGenerator.from_config(json.loads(str(data["config"])))
g.load_weights(str(data["weights"]))
images = g(data["z"])
targets = {k: data[k] for k in ("birth_index", "death_index", "target_birth", "target_death", "mask")}
np.savez(sys.argv[2], images=np.asarray(images), loss=np.asarray(topological_loss(images, targets)))
"""


def test_jax_matches_tensorflow_and_the_loss_compiles_with_xla(tmp_path):
    keras.utils.set_random_seed(3)
    g = DCGANGenerator(latent_dim=8, filters=4)
    helpers.randomise_weights(g, 3)
    path = os.path.join(str(tmp_path), "g.weights.h5")
    g.save_weights(path)
    z = np.random.default_rng(3).standard_normal((2, 8)).astype(np.float32)
    images = np.asarray(g(z))
    references = [np.array([[-0.5, 0.5]]), np.array([[-0.2, 0.3], [0.0, 0.1]])]
    targets = topology_targets(images, references, 1, 16)
    got = helpers.run_jax_script(_SCRIPT, tmp_path, config=json.dumps(g.get_config()), weights=path, z=z,
                                 **{k: v for k, v in targets.items() if k != "reference"})
    np.testing.assert_allclose(got["images"], images, atol=1e-5)
    eager = float(topological_loss(tf.constant(images), targets))
    assert eager > 0
    assert float(got["loss"]) == pytest.approx(eager, rel=1e-4)
    xla = tf.function(lambda x, t: topological_loss(x, t), jit_compile=True)
    tensors = {k: tf.constant(v) for k, v in targets.items() if k != "reference"}
    assert float(xla(tf.constant(images), tensors)) == pytest.approx(eager, rel=1e-5)
