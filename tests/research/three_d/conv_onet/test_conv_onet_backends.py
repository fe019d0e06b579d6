"""ConvONet under JAX (forward parity, one subprocess, no TensorFlow imported) and one XLA training step."""

import json
import os
import textwrap

import keras
import numpy as np

from official.core import registry
from research.three_d.conv_onet import losses
from tests import helpers

JAX_SCRIPT = textwrap.dedent("""
    import json, sys
    import jax
    import keras
    import numpy as np
    assert keras.backend.backend() == "jax"
    from research.three_d.conv_onet.model import ConvONet
    args = np.load(sys.argv[1])
    out = {}
    for name in ("tiny", "grid"):
        model = ConvONet.from_config(json.loads(str(args[f"{name}_config"])))
        model.load_weights(str(args[f"{name}_weights"]))
        # one jitted call: op-by-op JAX dispatch compiles every small op on its own (minutes on 2 loaded cores)
        forward = jax.jit(lambda p, q: model({"points": p, "queries": q}))
        out[name] = np.asarray(forward(args["points"], args["queries"]))
    assert "tensorflow" not in sys.modules, "research.three_d.conv_onet imported tensorflow"
    np.savez(sys.argv[2], **out)
""")


def _batch(seed=0, n=128, t=64):
    rng = np.random.default_rng(seed)
    p = rng.normal(size=(2, n, 3))
    p = (0.35 * p / np.linalg.norm(p, axis=-1, keepdims=True)).astype(np.float32)
    q = rng.uniform(-0.55, 0.55, (2, t, 3)).astype(np.float32)
    return {"points": p, "queries": q}, (np.linalg.norm(q, axis=-1) < 0.35).astype(np.float32)


def test_jax_forward_matches_tensorflow(tmp_path):
    x, _ = _batch()
    arrays, want = {"points": x["points"], "queries": x["queries"]}, {}
    for key, name in (("tiny", "conv_onet_tiny"), ("grid", "conv_onet_grid_tiny")):
        keras.utils.set_random_seed(0)
        model = registry.create_model(name, n_blocks=2)  # fewer ops: the subprocess runs op by op on 2 loaded cores
        helpers.randomise_weights(model, 1)
        path = os.path.join(str(tmp_path), f"{key}.weights.h5")
        model.save_weights(path)
        arrays[f"{key}_config"] = np.array(json.dumps(model.get_config()))
        arrays[f"{key}_weights"] = np.array(path)
        want[key] = np.asarray(model(x))
        assert np.abs(want[key]).max() > 0.1
    got = helpers.run_jax_script(JAX_SCRIPT, tmp_path, **arrays)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], atol=1e-4 * max(1.0, float(np.abs(want[key]).max())))


def test_xla_train_step_equals_eager_step():
    """One Adam step compiled with jit_compile=True gives the same loss and weights as the eager step."""
    x, y = _batch(1)
    results = []
    for jit in (False, True):
        keras.utils.set_random_seed(0)
        model = registry.create_model("conv_onet_tiny", n_blocks=2, unet_depth=1)  # a small graph to compile
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=losses.occupancy_loss, jit_compile=jit)
        first = float(model.train_on_batch(x, y))
        second = float(model.train_on_batch(x, y))
        results.append((first, second, np.asarray(model.encoder.fc_pos.kernel)))
    (l1, l2, w1), (j1, j2, w2) = results
    assert np.isfinite([j1, j2]).all() and j2 < j1
    np.testing.assert_allclose([j1, j2], [l1, l2], rtol=1e-4)
    np.testing.assert_allclose(w2, w1, atol=1e-5)
