"""LIMP under KERAS_BACKEND=jax (one subprocess): the tiny VAE's forward pass and the heat geodesics match TF.

The subprocess runs each function under one jax.jit (one compile each: eager JAX compiles every primitive on first
use, ~5 s more CPU here); `Limp` is built with numpy initial draws (tests.helpers: JAX would compile its PRNG
per weight shape)."""

from __future__ import annotations

import json
import os

import keras
import numpy as np
import trimesh

import research.three_d.limp  # noqa: F401  (registers the variants also before zoo_index lists the package)
from official.core import registry
from official.ops.heat_geodesics import heat_geodesics
from research.three_d.limp import losses
from tests import helpers

_SCRIPT = """
import json, sys
import numpy as np
import jax
import keras
assert keras.backend.backend() == "jax"
from research.three_d.limp.model import Limp
from official.ops.heat_geodesics import heat_geodesics
from research.three_d.limp import losses
from tests.helpers import numpy_initial_draws
data = np.load(sys.argv[1])
with numpy_initial_draws():  # load_weights overwrites them
    model = Limp.from_config(json.loads(str(data["config"])))
model.load_weights(str(data["weights"]))
faces = data["faces"]
rec, mu, logvar = jax.jit(lambda p: model(p, training=False))(data["points"])
d = jax.jit(lambda v: heat_geodesics(v, faces))(data["vertices"])
metric = jax.jit(losses.reconstruction_metric_loss)(data["points"], rec)
np.savez(sys.argv[2], rec=np.asarray(rec), mu=np.asarray(mu), geo=np.asarray(d), metric=np.asarray(metric))
assert "tensorflow" not in sys.modules, "LIMP's model / loss / op modules imported tensorflow"
"""


def test_jax_matches_tensorflow(tmp_path):
    keras.backend.clear_session()
    model = registry.create_model("limp_tiny")
    helpers.randomise_weights(model, 6)
    weights = os.path.join(str(tmp_path), "limp.weights.h5")
    model.save_weights(weights)
    points = np.random.default_rng(6).normal(scale=0.3, size=(2, 194, 3)).astype(np.float32)
    mesh = trimesh.creation.icosphere(subdivisions=1)
    vertices = np.asarray(mesh.vertices, np.float32)
    got = helpers.run_jax_script(_SCRIPT, tmp_path, config=json.dumps(model.get_config()), weights=weights,
                                 points=points, vertices=vertices, faces=np.asarray(mesh.faces, np.int32))
    rec, mu, _ = (np.asarray(t) for t in model(points, training=False))
    np.testing.assert_allclose(got["rec"], rec, atol=1e-4)
    np.testing.assert_allclose(got["mu"], mu, atol=1e-4)
    np.testing.assert_allclose(got["geo"], np.asarray(heat_geodesics(vertices, mesh.faces)), atol=1e-4)
    np.testing.assert_allclose(got["metric"], float(losses.reconstruction_metric_loss(points, rec)), rtol=1e-4)
