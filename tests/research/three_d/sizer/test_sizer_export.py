"""SIZER: SizerNet + SMPL+G under KERAS_BACKEND=jax against TensorFlow (keras.ops only in model, SMPL+G and
losses). The SavedModel is tested through tools.export's path in test_sizer_short_run.py."""

import json

import numpy as np

from research.three_d.sizer import export, synthetic
from research.three_d.sizer.pipeline import SizerPipeline
from tests import helpers

TEMPLATE = synthetic.make_template(seed=0)


def _pipeline():
    model = SizerPipeline(num_vertices=len(TEMPLATE["vert_indices"]), num_body_vertices=len(TEMPLATE["v_template"]),
                          latent_dim=16)
    model(export.example_inputs(model, 1))
    helpers.randomise_weights(model.sizer, 0)
    model.load_body_model(TEMPLATE)
    return model


_JAX = """
import json, sys
import numpy as np
import keras
assert keras.backend.backend() == "jax"
from research.three_d.sizer.pipeline import SizerPipeline
from research.three_d.sizer.losses import garment_loss
cfg = json.load(open(sys.argv[1].replace("jax_in.npz", "cfg.json")))
data = dict(np.load(sys.argv[1]))
model = SizerPipeline.from_config(cfg)
x = {k: data[k] for k in ("garment", "size_in", "size_out", "betas", "pose", "trans")}
model.load_weights(sys.argv[1].replace("jax_in.npz", "w.weights.h5"))  # built in __init__: no call needed
out = model.predict(x, batch_size=2, verbose=0)  # one jitted forward (eager JAX compiles op by op)
loss = garment_loss(out["garment"], data["target"], data["nb"], data["mask"])["total"]
np.savez(sys.argv[2], garment=np.asarray(out["garment"]), loss=np.asarray(loss))
assert "tensorflow" not in sys.modules
"""


def test_jax_matches_tensorflow(tmp_path):
    from official.ops.mesh_ops import neighbour_lists
    from research.three_d.sizer.losses import garment_loss

    model = _pipeline()
    model.save_weights(str(tmp_path / "w.weights.h5"))
    with open(tmp_path / "cfg.json", "w") as f:
        json.dump(model.get_config(), f)
    x = export.example_inputs(model, 2, seed=3)
    target = (TEMPLATE["v_template"][TEMPLATE["vert_indices"]][None].repeat(2, 0)).astype(np.float32)
    nb, mask = neighbour_lists(TEMPLATE["garment_faces"], len(TEMPLATE["vert_indices"]))
    got = helpers.run_jax_script(_JAX, tmp_path, **x, target=target, nb=nb, mask=mask)
    want = model(x, training=False)
    np.testing.assert_allclose(got["garment"], np.asarray(want["garment"]), atol=1e-5)
    np.testing.assert_allclose(got["loss"], float(garment_loss(want["garment"], target, nb, mask)["total"]), rtol=1e-4)
