"""The forward pass under KERAS_BACKEND=jax equals TensorFlow (METHOD_CONTRACT item 9): trunk, deconv neck,
heatmap pooling, multi-order streams, slow-fast convs, relations, feedback and the pose readout; one jitted
call in a subprocess that must not import TensorFlow (the JAX GPU machine has none)."""

from __future__ import annotations

import json
import os
import textwrap

import keras
import numpy as np

from research.three_d.gesture_handpose.model import GestureHandPose
from tests.helpers import randomise_weights, run_jax_script
from tests.research.three_d.gesture_handpose.test_losses import TINY

JAX_SCRIPT = textwrap.dedent("""
    import json, sys
    import jax
    import jax.numpy as jnp
    import keras
    import numpy as np
    from keras.src.backend.jax import random as jax_random
    assert keras.backend.backend() == "jax"

    # load_weights overwrites every initial value: skip the random initialisers, which under JAX compile
    # one threefry program per weight shape (23 programs, ~19 s of the ~30 s test on 2 loaded cores)
    def _zeros(shape, *args, dtype=None, seed=None, **kwargs):
        return jnp.zeros(shape, dtype or "float32")
    jax_random.uniform = jax_random.normal = jax_random.truncated_normal = _zeros
    from research.three_d.gesture_handpose.model import GestureHandPose
    args = np.load(sys.argv[1])
    model = GestureHandPose.from_config(json.loads(str(args["config"])))
    model.load_weights(str(args["weights"]))
    # one jitted call: op-by-op JAX dispatch compiles every small op on its own (minutes on 2 loaded cores)
    out = jax.jit(lambda x: model(x, training=False))(args["clip"])
    assert "tensorflow" not in sys.modules, "research.three_d.gesture_handpose.model imported tensorflow"
    np.savez(sys.argv[2], **{k: np.asarray(v) for k, v in out.items()})
""")


def test_forward_matches_under_jax(tmp_path):
    keras.utils.set_random_seed(0)
    model = GestureHandPose(**TINY)
    randomise_weights(model, 0)
    x = np.random.default_rng(0).uniform(0, 255, (2, 4, 32, 32, 3)).astype(np.float32)
    want = {k: np.asarray(v) for k, v in model(x, training=False).items()}
    assert float(np.ptp(want["joints3d"])) > 1.0  # joints that differ
    path = os.path.join(str(tmp_path), "gh.weights.h5")
    model.save_weights(path)
    got = run_jax_script(JAX_SCRIPT, tmp_path, config=np.array(json.dumps(model.get_config())),
                         weights=np.array(path), clip=x)
    for key, value in want.items():
        np.testing.assert_allclose(got[key], value, atol=2e-3 * max(1.0, float(np.abs(value).max())), err_msg=key)
