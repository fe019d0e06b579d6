"""The info-ground head's forward pass under KERAS_BACKEND=jax equals TensorFlow (METHOD_CONTRACT item 9), in one
jitted call in the JAX worker, which must not import TensorFlow (the head does not import keras-hub; keras-hub
itself imports TensorFlow on import whatever the backend, README "Known differences")."""

from __future__ import annotations

import json
import os
import textwrap

import keras
import numpy as np
import pytest

from official.core import registry
from tests.helpers import randomise_weights, run_jax_script

JAX_SCRIPT = textwrap.dedent("""
    import json, sys
    import jax
    import keras
    import numpy as np
    assert keras.backend.backend() == "jax"
    from research.multimodal.info_ground.model import InfoGround
    args = np.load(sys.argv[1])
    model = InfoGround.from_config(json.loads(str(args["config"])))
    model.load_weights(str(args["weights"]))
    x = {k: args[k] for k in ("region_feats", "region_mask", "word_feats", "word_mask", "neg_feats", "neg_valid")}
    out = jax.jit(lambda x: model(x, training=False))(x)
    att = model.criterion.pair_attention(x["region_feats"], x["region_mask"], x["word_feats"], x["word_mask"])
    assert "tensorflow" not in sys.modules, "the info-ground head imported tensorflow"
    np.savez(sys.argv[2], attention=np.asarray(att), **{k: np.asarray(v) for k, v in out.items()})
""")


@pytest.mark.slow  # a JAX subprocess: about 10 s of CPU
def test_forward_matches_under_jax(tmp_path):
    keras.utils.set_random_seed(0)
    model = registry.create_model("info_ground_tiny")
    randomise_weights(model, 0)
    x = model.example_inputs(3, seed=4)
    want = {k: np.asarray(v) for k, v in model(x, training=False).items()}
    want["attention"] = np.asarray(model.criterion.pair_attention(x["region_feats"], x["region_mask"], x["word_feats"],
                                                                  x["word_mask"]))
    assert float(np.ptp(want["logits"])) > 0.1
    path = os.path.join(str(tmp_path), "head.weights.h5")
    model.save_weights(path)
    got = run_jax_script(JAX_SCRIPT, tmp_path, config=np.array(json.dumps(model.get_config())), weights=np.array(path), **x)
    for key, value in want.items():
        np.testing.assert_allclose(got[key], value, atol=1e-4, err_msg=key)
