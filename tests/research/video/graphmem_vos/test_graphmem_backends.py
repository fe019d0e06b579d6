"""GraphMemVOS under KERAS_BACKEND=jax equals TensorFlow (METHOD_CONTRACT item 9): the tiny variant's memory write
and a frame step with the 6-node capacity half filled (so the graph update runs), eagerly in the JAX worker,
which must not import TensorFlow. The jit_compile=True training step is benchmarks/graphmem_vos_xla_step.py
(its XLA compile, like jax.jit of the whole model, takes minutes of CPU: outside the 45 s budget)."""

from __future__ import annotations

import json
import os
import textwrap

import keras
import numpy as np

from official.core import registry
from tests.helpers import randomise_weights, run_jax_script

JAX_SCRIPT = textwrap.dedent("""
    import json, sys
    import keras
    import numpy as np
    from tests.helpers import numpy_initial_draws
    assert keras.backend.backend() == "jax"
    from research.video.graphmem_vos.model import GraphMemVOS
    args = np.load(sys.argv[1])
    with numpy_initial_draws():
        model = GraphMemVOS.from_config(json.loads(str(args["config"])))
    model.load_weights(str(args["weights"]))
    keys, values = model.memorize(args["frame"], args["probs"])
    step = model.step(*(args[k] for k in ("frame", "keys", "values", "mask", "objects")))
    assert "tensorflow" not in sys.modules, "research.video.graphmem_vos imported tensorflow"
    np.savez(sys.argv[2], keys=np.asarray(keys), values=np.asarray(values), step=np.asarray(step))
""")


def _inputs():
    rng = np.random.default_rng(1)
    probs = rng.uniform(0, 1, (1, 32, 48, 3)).astype("float32")
    return dict(frame=rng.uniform(0, 1, (1, 32, 48, 3)).astype("float32"), probs=probs / probs.sum(-1, keepdims=True),
                keys=rng.normal(size=(1, 2, 6, 2, 3, 32)).astype("float32"),
                values=rng.normal(size=(1, 2, 6, 2, 3, 64)).astype("float32"),
                mask=np.array([[1, 1, 1, 0, 0, 0]], bool), objects=np.ones((1, 2), "float32"))


def test_forward_matches_under_jax(tmp_path):
    keras.utils.set_random_seed(0)
    model = registry.create_model("graphmem_vos_tiny")
    randomise_weights(model, 0)
    x = _inputs()
    keys, values = (np.asarray(v) for v in model.memorize(x["frame"], x["probs"]))
    want_step = np.asarray(model.step(*(x[k] for k in ("frame", "keys", "values", "mask", "objects"))))
    assert np.ptp(np.asarray(keras.ops.softmax(want_step, -1))) > 0.5  # outputs that depend on the weights
    path = os.path.join(str(tmp_path), "gmvos.weights.h5")
    model.save_weights(path)
    got = run_jax_script(JAX_SCRIPT, tmp_path, config=np.array(json.dumps(model.get_config())),
                         weights=np.array(path), **x)
    np.testing.assert_allclose(got["keys"], keys, atol=1e-3)
    np.testing.assert_allclose(got["values"], values, atol=1e-3)
    np.testing.assert_allclose(got["step"], want_step, atol=1e-3)
