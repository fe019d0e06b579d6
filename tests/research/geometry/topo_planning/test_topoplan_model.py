"""TopoPlan GNN (research/geometry/topo_planning): spec checks 1 and 2, the pair layer against the explicit
cartesian product, and the node mask."""

from __future__ import annotations

import contextlib

import keras
import numpy as np
import pytest
from keras.src.layers.layer import Layer

from official.core import registry
from research.geometry.topo_planning.layers import MASK_LOGIT, PairGatedBound
from tests.helpers import randomise_weights


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    # 1 round: shapes, row order and the mask do not depend on the rounds (2 rounds: the JAX and converter parity)
    model = registry.create_model("topo_planning_tiny", n_steps=1)
    randomise_weights(model, 0)
    return model


@contextlib.contextmanager
def zero_weights():
    """Builds without running initialisers (the QR of the official variant's 1730-wide orthogonal kernels is ~1 s
    of CPU); counts and shapes do not depend on the values."""
    add_weight = Layer.add_weight

    def zeros(self, *args, **kwargs):
        kwargs["initializer"] = lambda shape, dtype=None: np.zeros(shape, dtype or "float32")
        return add_weight(self, *args, **kwargs)

    Layer.add_weight = zeros
    try:
        yield
    finally:
        Layer.add_weight = add_weight


def test_parameter_counts():
    """Check 1: 4,837,385 for the official flags; bound_init / bound_update / GRU as instantiated in torch.
    nn.GRU(256, 256, 2) has 2 x 3 x (256 x 256 + 256 x 256 + 2 x 256) = 789,504, the Keras GRUs' sum."""
    with zero_weights():
        model = registry.create_model("topo_planning_gnn256")
    assert model.trainable_parameter_count == 4_837_385
    assert model.get_layer("bound_init").count_params() == 527_650
    assert model.get_layer("bound_update").count_params() == 3_437_766
    assert sum(model.get_layer(f"gru_{k}").count_params() for k in range(2)) == 789_504 == 2 * 3 * (2 * 256 * 256 + 2 * 256)
    assert model.get_layer("node_core_features").output.shape[-1] == 609  # 97 + 512
    # check 2 for the official variant, symbolically: (B, 32, 32) logits reshape to the authors' (B*32, 32)
    assert {k: tuple(v.shape) for k, v in model.output.items()} == {"logits": (None, 32, 32), "distance": (None, 32, 1)}
    # tiny, hidden 32 without features: 12,642 + 75,110 + 12,672 + 2 x 1,056 + 33 + r_init 1,024
    with zero_weights():
        assert registry.create_model("topo_planning_tiny").trainable_parameter_count == 103_593


def test_shapes_of_two_graphs(tiny):
    """Check 2: a batch of 2 graphs -> logits (64, 32) and distances (64, 1) in the authors' row order."""
    x = tiny.example_inputs(2)
    out = tiny(x, training=False)
    logits, dist = np.asarray(out["logits"]).reshape(-1, 32), np.asarray(out["distance"]).reshape(-1, 1)
    assert logits.shape == (64, 32) and dist.shape == (64, 1)
    assert np.all(np.isfinite(logits)) and np.ptp(logits) > 0.1
    one = np.asarray(tiny({k: v[1:] for k, v in x.items()}, training=False)["logits"]).reshape(-1, 32)
    np.testing.assert_allclose(logits[32:], one, atol=1e-5)  # row b * 32 + i is graph b, node i


def test_pair_layer_equals_the_cartesian_product():
    """bound_update on [z_i ; z_j] computed per node equals the explicit 2f-wide product of train.py."""
    layer = PairGatedBound(5)
    z = np.random.default_rng(0).normal(size=(2, 4, 3)).astype(np.float32)
    got = np.asarray(layer(z))
    w1, b1, w2, b2 = (np.asarray(v) for v in (layer.gate_kernel, layer.gate_bias, layer.out_kernel, layer.out_bias))
    pairs = np.concatenate([np.repeat(z[:, :, None], 4, 2), np.repeat(z[:, None], 4, 1)], -1)  # [z_i ; z_j]
    gate = 1 / (1 + np.exp(-(pairs @ w1 + b1)))
    np.testing.assert_allclose(got, (gate * pairs) @ w2 + b2, atol=1e-5)


def test_padded_nodes_are_never_chosen(tiny):
    x = tiny.example_inputs(2, seed=1)
    x["node_mask"][0, 28:] = 0.0
    logits = np.asarray(tiny(x, training=False)["logits"])
    assert np.all(logits[0, :, 28:] == MASK_LOGIT) and np.all(np.argmax(logits[0], -1) < 28)
    assert np.all(logits[1] > MASK_LOGIT / 2)
