"""TCGM under KERAS_BACKEND=jax equals TensorFlow (METHOD_CONTRACT item 9): the per-view nets, the fusion and
the TC loss (both modes) in one jitted call in the JAX worker, which must not import TensorFlow."""

from __future__ import annotations

import json
import os
import textwrap

import keras
import numpy as np

from official.core import registry
from research.multimodal.tcgm import losses
from tests.helpers import randomise_weights, run_jax_script

JAX_SCRIPT = textwrap.dedent("""
    import json, sys
    import jax
    import keras
    import numpy as np
    from tests.helpers import numpy_initial_draws
    assert keras.backend.backend() == "jax"
    from research.multimodal.tcgm import losses
    from research.multimodal.tcgm.model import TcgmNet
    args = np.load(sys.argv[1])
    with numpy_initial_draws():
        model = TcgmNet.from_config(json.loads(str(args["config"])))
    model.load_weights(str(args["weights"]))
    x = {k: args[k] for k in ("view_0", "view_1")}

    def run(x):
        out = model(x, training=False)
        prior = model.prior()
        return {**out, "pairwise": losses.tcgm_loss(out["log_probs"], prior, "pairwise"),
                "joint": losses.tcgm_loss(out["log_probs"], prior, "joint")}
    out = jax.jit(run)(x)
    assert "tensorflow" not in sys.modules, "research.multimodal.tcgm imported tensorflow"
    np.savez(sys.argv[2], **{k: np.asarray(v) for k, v in out.items()})
""")


def test_forward_and_loss_match_under_jax(tmp_path):
    keras.utils.set_random_seed(0)
    model = registry.create_model("tcgm_tiny", class_prior=(0.05, 0.05, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2))
    randomise_weights(model, 0)
    rng = np.random.default_rng(3)
    x = {f"view_{m}": rng.uniform(0, 1, (8, 32)).astype(np.float32) for m in range(2)}
    out = model(x, training=False)
    want = {k: np.asarray(v) for k, v in out.items()}
    for mode in losses.MODES:
        want[mode] = np.asarray(losses.tcgm_loss(out["log_probs"], model.prior(), mode))
    assert float(np.ptp(want["log_probs"])) > 1.0
    path = os.path.join(str(tmp_path), "tcgm.weights.h5")
    model.save_weights(path)
    got = run_jax_script(JAX_SCRIPT, tmp_path, config=np.array(json.dumps(model.get_config())),
                         weights=np.array(path), **x)
    for key, value in want.items():
        np.testing.assert_allclose(got[key], value, atol=1e-4, err_msg=key)
