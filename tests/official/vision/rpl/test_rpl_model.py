"""RPLNet (spec card rpl.md check 1 and the model contract): parameter counts of the registered variants,
the outputs' meaning (distances from the pooled feature, score = max softmax), P and R saved with the
model, and compute_loss = the RPLoss terms."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from official.core import registry
from official.losses.reciprocal_points import rpl_loss
from official.vision.rpl.model import RPLNet
from tests.helpers import run_model_test

TRUNK = 999_104  # classifier32 conv 997,056 + BN 2,048 (spec card; the shared trunk's own test)


@pytest.mark.parametrize("name, k, size", [
    ("rpl_classifier32", 6, 32), ("rpl_classifier32_cifar_plus", 4, 32), ("rpl_classifier32_tinyimagenet", 20, 64),
])
def test_variant_parameter_counts(name, k, size):
    model = registry.create_model(name)
    # criterion: K * num_centers * 128 points + 1 radius (769 for K = 6, spec card check 1)
    assert model.trainable_parameter_count == TRUNK + k * 128 + 1
    assert model.input_shape == (None, size, size, 3)
    assert tuple(model.reciprocal_points.output.shape) == (None, k)
    assert RPLNet(classes=6, num_centers=2).trainable_parameter_count == TRUNK + 6 * 2 * 128 + 1


def test_outputs_are_distances_to_the_points_and_max_softmax_and_round_trip(tmp_path):
    model = run_model_test("rpl_classifier32", tmp_path, overrides={"input_shape": (16, 16, 3)},
                           inputs=np.random.default_rng(0).uniform(size=(3, 16, 16, 3)).astype("float32"),
                           expected_output_shapes=[(3, 128), (3, 6), (3,)], saved_model=False)
    rp = model.reciprocal_points
    assert {v.path for v in model.weights} >= {"reciprocal_points/points", "reciprocal_points/radius"}
    rp.radius.assign([0.25])
    x = np.random.default_rng(1).uniform(size=(4, 16, 16, 3)).astype("float32")
    out = {k: np.asarray(v) for k, v in model(x, training=False).items()}
    p = np.asarray(rp.points)
    np.testing.assert_allclose(out["logits"], ((out["features"][:, None] - p[None]) ** 2).mean(-1), rtol=1e-4, atol=1e-6)
    e = np.exp(out["logits"] - out["logits"].max(1, keepdims=True))
    np.testing.assert_allclose(out["score"], (e / e.sum(1, keepdims=True)).max(1), atol=1e-6)
    labels = np.array([0, 1, 5, 3])
    np.testing.assert_allclose(float(model.compute_loss(x, labels, out)),
                               float(rpl_loss(out["logits"], out["features"], p, [0.25], labels)), rtol=1e-6)
    # P and R travel with the weights file
    model.save_weights(str(tmp_path / "w.weights.h5"))
    clone = RPLNet.from_config(model.get_config())
    clone.load_weights(str(tmp_path / "w.weights.h5"))
    np.testing.assert_array_equal(np.asarray(clone.reciprocal_points.radius), [0.25])
    np.testing.assert_array_equal(np.asarray(clone.reciprocal_points.points), p)


def test_points_initialised_as_the_repo_and_config_arguments_kept():
    keras.utils.set_random_seed(0)
    model = RPLNet(classes=20, num_centers=3, temp=2.0, weight_pl=0.5)
    p = np.asarray(model.reciprocal_points.points)
    assert p.shape == (60, 128) and abs(p.std() - 0.1) < 0.005 and abs(p.mean()) < 0.005  # 0.1 * N(0, 1)
    assert np.asarray(model.reciprocal_points.radius).tolist() == [0.0]
    config = model.get_config()
    assert (config["num_centers"], config["temp"], config["weight_pl"]) == (3, 2.0, 0.5)
    with pytest.raises(ValueError, match="temp"):
        RPLNet(temp=0.0)
