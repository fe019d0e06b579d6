"""ShapeGF under JAX (METHOD_CONTRACT item 9): one subprocess with KERAS_BACKEND=jax runs the forward pass
(z, field, z_fake), the denoising loss on fixed noise and a Langevin reconstruction on fixed noise (the
fori_loop sampler) and must give TensorFlow's values; the model code imports no TensorFlow."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from research.three_d.shapegf import score_matching as sm
from research.three_d.shapegf.model import ShapeGF
from tests.helpers import randomise_weights, run_jax_script

_SCRIPT = """
import json, sys
import numpy as np
import keras
assert keras.backend.backend() == "jax"
from research.three_d.shapegf import score_matching as sm
from research.three_d.shapegf.model import ShapeGF
d = dict(np.load(sys.argv[1]))
net = ShapeGF.from_config(json.load(open(d["config"].item())))
net.load_weights(d["weights"].item())
out = {k: np.asarray(v) for k, v in net({"points": d["points"], "sigma": d["sigma"][:, None], "prior": d["prior"]},
                                          training=False).items()}
z = net.encoder(d["points"], training=False)
out["loss"] = np.asarray(sm.score_matching_loss(net.score_net, z, d["points"], d["sigma"], d["eps"])[0])
out["recon"] = np.asarray(net.reconstruct(d["points"], d["x0"], d["noise"]))
assert "tensorflow" not in sys.modules, "ShapeGF model code imported tensorflow"
np.savez(sys.argv[2], **out)
"""


@pytest.mark.jax
def test_forward_loss_and_sampler_match_under_jax(tmp_path):
    keras.utils.set_random_seed(0)
    net = ShapeGF(zdim=8, hidden=16, blocks=2, conv_widths=(8, 8, 16, 16), fc_widths=(16, 8), num_sigmas=3,
                  num_steps=2, generator_dims=(8,))
    randomise_weights(net, 0)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(net.get_config()))
    weights = str(tmp_path / "net.weights.h5")
    net.save_weights(weights)
    rng = np.random.default_rng(0)
    arrays = {"config": np.asarray(str(config)), "weights": np.asarray(weights),
              "points": rng.uniform(-1, 1, (2, 24, 3)).astype("float32"), "sigma": np.array([0.5, 0.05], "float32"),
              "prior": rng.normal(size=(2, 8)).astype("float32"), "eps": rng.normal(size=(2, 24, 3)).astype("float32"),
              "x0": rng.uniform(-1.5, 1.5, (2, 20, 3)).astype("float32"),
              "noise": rng.normal(size=(6, 2, 20, 3)).astype("float32")}
    got = run_jax_script(_SCRIPT, tmp_path, **arrays)
    want = {k: np.asarray(v) for k, v in net({"points": arrays["points"], "sigma": arrays["sigma"][:, None],
                                             "prior": arrays["prior"]}, training=False).items()}
    z = net.encoder(arrays["points"], training=False)
    want["loss"] = np.asarray(sm.score_matching_loss(net.score_net, z, arrays["points"], arrays["sigma"], arrays["eps"])[0])
    want["recon"] = keras.ops.convert_to_numpy(net.reconstruct(arrays["points"], arrays["x0"], arrays["noise"]))
    assert np.abs(want["recon"] - arrays["x0"]).max() > 0.1
    for key in ("z", "field", "z_fake", "loss", "recon"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-4, atol=1e-4, err_msg=key)
