"""NDN under KERAS_BACKEND=jax (one subprocess): constrained inference and the training losses match TF,
and the model / loss modules do not import TensorFlow."""

from __future__ import annotations

import json
import os

import keras
import numpy as np

from official.core import registry
from research.generative.ndn import variants  # noqa: F401
from research.generative.ndn.losses import ndn_losses
from research.generative.ndn.model import example_batch, example_inputs
from tests import helpers

_SCRIPT = """
import json, sys
import numpy as np
import keras
assert keras.backend.backend() == "jax"
from research.generative.ndn.model import NeuralDesignNetwork
from research.generative.ndn.losses import ndn_losses
data = np.load(sys.argv[1])
model = NeuralDesignNetwork.from_config(json.loads(str(data["config"])))
model.load_weights(str(data["weights"]))
x = {k[2:]: data[k] for k in data.files if k.startswith("x_")}
b = {k[2:]: data[k] for k in data.files if k.startswith("b_")}
y = model(x)
terms = ndn_losses(model.train_forward(b), b)
np.savez(sys.argv[2], boxes=np.asarray(y["boxes"]), loc=np.asarray(y["loc_relations"]),
         loss=np.asarray(terms["loss"]), layout_l1=np.asarray(terms["layout_l1"]))
assert "tensorflow" not in sys.modules, "NDN's model / loss modules imported tensorflow"
"""


def test_jax_matches_tensorflow(tmp_path):
    keras.backend.clear_session()
    model = registry.create_model("ndn_tiny", num_categories=5, max_elements=5)
    helpers.randomise_weights(model, 3)
    weights = os.path.join(str(tmp_path), "ndn.weights.h5")
    model.save_weights(weights)
    x, b = example_inputs(model, 2, seed=4), example_batch(model, 2, seed=5)
    got = helpers.run_jax_script(_SCRIPT, tmp_path, config=json.dumps(model.get_config()), weights=weights,
                                 **{f"x_{k}": v for k, v in x.items()}, **{f"b_{k}": v for k, v in b.items()})
    y = model(x)
    terms = ndn_losses(model.train_forward(b), b)
    np.testing.assert_allclose(got["boxes"], np.asarray(y["boxes"]), atol=1e-4)
    np.testing.assert_array_equal(got["loc"], np.asarray(y["loc_relations"]))
    np.testing.assert_allclose(got["loss"], float(terms["loss"]), rtol=1e-4)
    np.testing.assert_allclose(got["layout_l1"], float(terms["layout_l1"]), rtol=1e-4)
