"""ForkGAN under KERAS_BACKEND=jax (the shared JAX worker, each network's forward jitted): the tiny generator's
three outputs (noise off at inference), a 2-scale discriminator (with the bicubic /2) and the classifier match TF."""

from __future__ import annotations

import json
import os

import numpy as np

from research.generative.forkgan.networks import DomainClassifier, ForkGenerator, MultiScaleDiscriminator
from tests import helpers

_SCRIPT = """
import json, os, sys
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")  # a fresh worker: faster CPU compiles
import jax
import numpy as np
import keras
assert keras.backend.backend() == "jax"
from research.generative.forkgan.networks import DomainClassifier, ForkGenerator, MultiScaleDiscriminator
data = np.load(sys.argv[1])
out = {}
for key, cls in (("g", ForkGenerator), ("d", MultiScaleDiscriminator), ("c", DomainClassifier)):
    net = cls.from_config(json.loads(str(data[key + "_config"])))
    net.load_weights(str(data[key + "_weights"]))
    # One jitted program per network (the weights are its constants): one XLA compile instead of one per op.
    if key == "g":
        out["t"], out["r"], out["code"] = (np.asarray(v) for v in jax.jit(net.fork)(data["x"]))
    elif key == "d":
        out["d0"], out["d1"] = (np.asarray(v) for v in jax.jit(net)(data["x"]))
    else:
        out["c"] = np.asarray(jax.jit(net)(data["code"]))
np.savez(sys.argv[2], **out)
# (TensorFlow is imported here by the shared official.vision.gan / official.training.gan packages' __init__;
# the networks' math runs on JAX: keras.backend.backend() == "jax".)
"""


def test_jax_matches_tensorflow(tmp_path):
    nets = {"g": ForkGenerator(filters=4, encoder_blocks=1, decoder_blocks=2, noise_at_inference=False, image_size=(16, 32)),
            "d": MultiScaleDiscriminator(3, 4, 2, 2, (16, 32)), "c": DomainClassifier((4, 8, 16), 4)}
    arrays = {}
    for i, (key, net) in enumerate(nets.items()):
        helpers.randomise_weights(net, i)
        path = os.path.join(str(tmp_path), f"{key}.weights.h5")
        net.save_weights(path)
        arrays[f"{key}_config"], arrays[f"{key}_weights"] = json.dumps(net.get_config()), path
    x = np.random.default_rng(0).uniform(-1, 1, (2, 16, 32, 3)).astype(np.float32)
    code = np.random.default_rng(1).normal(size=(2, 4, 8, 16)).astype(np.float32)
    got = helpers.run_jax_script(_SCRIPT, tmp_path, x=x, code=code, **arrays)
    t, r, c = (np.asarray(v) for v in nets["g"].fork(x))
    d0, d1 = (np.asarray(v) for v in nets["d"](x))
    for name, want in (("t", t), ("r", r), ("code", c), ("d0", d0), ("d1", d1), ("c", np.asarray(nets["c"](code)))):
        assert np.abs(want).max() > 1e-2, name
        np.testing.assert_allclose(got[name], want, atol=1e-4, rtol=1e-4, err_msg=name)
