"""TSIT under KERAS_BACKEND=jax (one subprocess): the tiny generator (both streams, FADE, FAdaIN, spectral
norm) and the multi-scale discriminator give TensorFlow's outputs, and their modules import no TensorFlow."""

from __future__ import annotations

import json
import os

import keras
import numpy as np

from research.generative.tsit.model import TSITDiscriminator, TSITGenerator
from tests import helpers

_SCRIPT = """
import json, sys
import numpy as np
import keras
assert keras.backend.backend() == "jax"
from research.generative.tsit.model import TSITDiscriminator, TSITGenerator
from tests.helpers import numpy_initial_draws
data = np.load(sys.argv[1])
with numpy_initial_draws():  # load_weights overwrites them (spectral norm's u included): no PRNG compile per shape
    g = TSITGenerator.from_config(json.loads(str(data["g_config"])))
    d = TSITDiscriminator.from_config(json.loads(str(data["d_config"])))
g.load_weights(str(data["g_weights"]))
d.load_weights(str(data["d_weights"]))
import jax  # one compiled call each: op-by-op JAX dispatch of these graphs is minutes on a shared CPU
out = jax.jit(lambda c, s, n: g({"content": c, "style": s, "noise": n}, training=False))(
    data["content"], data["style"], data["noise"])
logits = jax.jit(lambda x: d(x, training=False))(data["content"])
np.savez(sys.argv[2], image=np.asarray(out), d0=np.asarray(logits[3]), d1=np.asarray(logits[7]))
assert "tensorflow" not in sys.modules, "TSIT's model modules imported tensorflow"
"""


def test_jax_matches_tensorflow(tmp_path, monkeypatch):
    # the JAX worker starts with this environment: LLVM unoptimised, the same XLA graphs compile ~3x cheaper
    monkeypatch.setenv("XLA_FLAGS", (os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip())
    keras.backend.clear_session()
    g = TSITGenerator(ngf=4, levels=3, image_size=(16, 16))  # bottleneck 4x4
    d = TSITDiscriminator(3, 8, 3, 2, (16, 16))
    helpers.randomise_weights(g, 3)
    helpers.randomise_weights(d, 4)
    paths = {k: os.path.join(str(tmp_path), f"{k}.weights.h5") for k in ("g", "d")}
    g.save_weights(paths["g"])
    d.save_weights(paths["d"])
    rng = np.random.default_rng(5)
    x = {"content": rng.uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32),
         "style": rng.uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32),
         "noise": rng.standard_normal((2, 4, 4, 3)).astype(np.float32)}
    got = helpers.run_jax_script(_SCRIPT, tmp_path, g_config=json.dumps(g.get_config()), g_weights=paths["g"],
                                 d_config=json.dumps(d.get_config()), d_weights=paths["d"], **x)
    want = np.asarray(g(x, training=False))
    assert np.abs(want).max() > 1e-3
    np.testing.assert_allclose(got["image"], want, atol=1e-4)
    logits = d(x["content"], training=False)
    np.testing.assert_allclose(got["d0"], np.asarray(logits[3]), atol=1e-4)
    np.testing.assert_allclose(got["d1"], np.asarray(logits[7]), atol=1e-4)
