"""HAN's forward pass under KERAS_BACKEND=jax equals TensorFlow (METHOD_CONTRACT item 9): the shared hybrid
attention layer, the frame pooling and the MMIL pooling, in one jitted call in the JAX worker, which must
not import TensorFlow (the JAX GPU machine has none)."""

from __future__ import annotations

import json
import os
import textwrap

import keras
import numpy as np

from official.core import registry
from tests.helpers import randomise_weights, run_jax_script
from tests.research.video.avvp.test_avvp_model import features

JAX_SCRIPT = textwrap.dedent("""
    import json, sys
    import jax
    import jax.numpy as jnp
    import keras
    import numpy as np
    from keras.src.backend.jax import random as jax_random
    assert keras.backend.backend() == "jax"

    # load_weights overwrites every initial value: skip the random initialisers (one threefry program each)
    def _zeros(shape, *args, dtype=None, seed=None, **kwargs):
        return jnp.zeros(shape, dtype or "float32")
    jax_random.uniform = jax_random.normal = jax_random.truncated_normal = _zeros
    from research.video.avvp.model import HanNet
    args = np.load(sys.argv[1])
    model = HanNet.from_config(json.loads(str(args["config"])))
    model.load_weights(str(args["weights"]))
    feats = {k: args[k] for k in ("audio", "video_2d", "video_3d")}
    out = jax.jit(lambda x: model(x, training=False))(feats)
    assert "tensorflow" not in sys.modules, "research.video.avvp.model imported tensorflow"
    np.savez(sys.argv[2], **{k: np.asarray(v) for k, v in out.items()})
""")


def test_forward_matches_under_jax(tmp_path):
    keras.utils.set_random_seed(0)
    model = registry.create_model("avvp_tiny")
    randomise_weights(model, 0)
    x = features(2, seed=3)
    want = {k: np.asarray(v) for k, v in model(x, training=False).items()}
    assert float(np.ptp(want["frame_prob"])) > 0.2
    path = os.path.join(str(tmp_path), "han.weights.h5")
    model.save_weights(path)
    got = run_jax_script(JAX_SCRIPT, tmp_path, config=np.array(json.dumps(model.get_config())),
                         weights=np.array(path), **x)
    for key, value in want.items():
        np.testing.assert_allclose(got[key], value, atol=1e-4, err_msg=key)
