"""Res16UNet: the card's parameter count, converter keys, sparse semantics and TF/JAX parity (checks 2, 8)."""

from __future__ import annotations

import json
import os
import textwrap

import numpy as np
import pytest

from official.core import registry
from research.three_d.pointcontrast import convert
from tests.helpers import check_config_round_trip, randomise_weights, run_jax_script, trainable_count

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "res16unet34c_state_dict.json")


def _inputs(rng, batch=2, capacity=96, box=12):
    coords = np.zeros((batch, capacity, 3), np.int32)
    mask = np.zeros((batch, capacity), np.float32)
    for b in range(batch):
        n = capacity - 8 * (b + 1)
        cells = rng.choice(box**3, n, replace=False)
        coords[b, :n] = np.stack(np.unravel_index(cells, (box,) * 3), -1)
        mask[b, :n] = 1
    feats = (1 + 0.3 * rng.normal(size=(batch, capacity, 3))).astype(np.float32) * mask[..., None]
    return {"coords": coords, "feats": feats, "mask": mask}


@pytest.fixture(scope="module")
def test_net():
    import keras

    keras.utils.set_random_seed(0)
    model = registry.create_model("pointcontrast_res16unet_test")
    randomise_weights(model, 0)
    return model


def test_res16unet34c_count_and_official_keys():
    """37,847,808 trainable (card); every official tensor (fixture derived from res16unet.py) has our weight."""
    with open(FIXTURE) as f:
        fixture = json.load(f)
    model = registry.create_model("pointcontrast_res16unet34c")
    assert trainable_count(model) == 37_847_808 == fixture["trainable"]
    entries = convert.weight_map(model)
    ours = {key: tuple(v.shape) for key, v, _ in entries}
    official = {k: tuple(s) for k, s in fixture["shapes"].items() if not k.endswith("num_batches_tracked")}
    assert set(ours) == set(official)
    for key, variable, transform in entries:
        probe = np.zeros(official[key], np.float32)
        assert (transform(probe) if transform else probe).shape == tuple(variable.shape), key
    assert registry.create_model("pointcontrast_res16unet_tiny").count_params() > 0


def test_sparse_semantics(test_net):
    """Padding gives 0, features are unit vectors, and a sample that is its neighbour's voxels shuffled and
    moved by 16 voxels (the total stride) gets the same features: MinkowskiEngine's coordinate grouping."""
    rng = np.random.default_rng(0)
    x = _inputs(rng)
    n = int(x["mask"][0].sum())
    perm = rng.permutation(n)
    for k in ("coords", "feats", "mask"):
        x[k][1] = 0
        x[k][1, :n] = x[k][0, perm]
    x["coords"][1, :n] += 16
    out = np.asarray(test_net(x, training=False))
    assert out.shape == (2, 96, 16)
    np.testing.assert_allclose(np.linalg.norm(out[0, :n], axis=-1), 1.0, atol=1e-5)
    assert np.all(out[0, n:] == 0)
    np.testing.assert_allclose(out[1, :n], out[0, perm], atol=1e-5)
    # a one-voxel shift regroups the strided levels: other features
    x["coords"][1, :n] += 1
    shifted = np.asarray(test_net(x, training=False))
    assert np.abs(shifted[1, :n] - out[0, perm]).max() > 1e-2
    check_config_round_trip(test_net)


_JAX = """
import json, sys
import numpy as np
import keras
assert keras.backend.backend() == "jax"
from research.three_d.pointcontrast.model import Res16UNet
data = np.load(sys.argv[1])
model = Res16UNet.from_config(json.loads(str(data["config"])))
model.set_weights([data[f"w{i}"] for i in range(int(data["n"]))])
x = {k: data[k] for k in ("coords", "feats", "mask")}
np.savez(sys.argv[2], out=np.asarray(model.predict(x, batch_size=len(x["mask"]), verbose=0)))  # one jit
assert "tensorflow" not in sys.modules, "the network imported tensorflow"
"""


def test_jax_forward_matches_tensorflow(test_net, tmp_path):
    x = _inputs(np.random.default_rng(1))
    weights = {f"w{i}": w for i, w in enumerate(test_net.get_weights())}
    got = run_jax_script(textwrap.dedent(_JAX), tmp_path, config=json.dumps(test_net.get_config()),
                         n=len(weights), **weights, **x)
    np.testing.assert_allclose(got["out"], np.asarray(test_net(x, training=False)), atol=1e-5)
