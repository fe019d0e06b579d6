"""METHOD_CONTRACT item 9: the TopoPlan forward pass under KERAS_BACKEND=jax equals TensorFlow (the pair
layer, the GRU over neighbours with carried states, the node mask; one jitted call in the JAX worker, which
must not import TensorFlow), and one training step compiles and runs with jit_compile=True under TensorFlow."""

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
    import jax
    import keras
    import numpy as np
    from keras.src.layers.layer import Layer
    assert keras.backend.backend() == "jax"
    from research.geometry.topo_planning.model import TopoPlanGNN
    args = np.load(sys.argv[1])
    add_weight = Layer.add_weight
    def numpy_zeros(self, *a, **kw):  # load_weights overwrites them: skip JAX's per-shape initializer compiles (~4 s)
        kw["initializer"] = lambda shape, dtype=None: np.zeros(shape, dtype or "float32")
        return add_weight(self, *a, **kw)
    Layer.add_weight = numpy_zeros
    model = TopoPlanGNN.from_config(json.loads(str(args["config"])))
    Layer.add_weight = add_weight
    model.load_weights(str(args["weights"]))
    x = {k: args[k] for k in ("distances", "linkages", "target", "node_mask")}
    out = jax.jit(lambda x: model(x, training=False))(x)
    assert "tensorflow" not in sys.modules, "research.geometry.topo_planning.model imported tensorflow"
    np.savez(sys.argv[2], **{k: np.asarray(v) for k, v in out.items()})
""")


def test_forward_matches_under_jax(tmp_path):
    keras.utils.set_random_seed(0)
    # 2 rounds (states carried over rounds as in 6), 8 node slots: the same layers at a quarter of the TF forward
    model = registry.create_model("topo_planning_tiny", n_steps=2, num_nodes=8)
    randomise_weights(model, 0)
    x = model.example_inputs(2, seed=3)
    x["node_mask"][1, 6:] = 0.0
    want = {k: np.asarray(v) for k, v in model(x, training=False).items()}
    assert float(np.ptp(want["logits"][0])) > 0.2
    path = os.path.join(str(tmp_path), "topoplan.weights.h5")
    model.save_weights(path)
    got = run_jax_script(JAX_SCRIPT, tmp_path, config=np.array(json.dumps(model.get_config())),
                         weights=np.array(path), **x)
    for key, value in want.items():
        np.testing.assert_allclose(got[key], value, atol=1e-4, err_msg=key)


def test_train_step_under_xla():
    """The tiny variant at 1 round, a 1-layer GRU and 8 node slots (XLA compiles every unrolled round: 6 x 2 take
    minutes). Plain SGD: the model, loss and gradients are what compiles here; Adam-amsgrad with clipping adds
    ~7 s of XLA compile for Keras' own optimizer code (the short run trains with it, without XLA)."""
    keras.utils.set_random_seed(0)
    model = registry.create_model("topo_planning_tiny", n_steps=1, gru_depth=1, num_nodes=8)
    model.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=True)
    model.optimizer.build(model.trainable_variables)
    x = model.example_inputs(2, seed=4)
    y = {"actions": np.random.default_rng(0).integers(0, 8, (2, 8)).astype(np.int32),
         "weights": np.ones((2, 8), np.float32)}
    first = model.train_on_batch(x, y, return_dict=True)["action_loss"]
    model.reset_metrics()
    last = model.train_on_batch(x, y, return_dict=True)["action_loss"]
    assert np.isfinite(first) and last < first - 0.01, (first, last)
