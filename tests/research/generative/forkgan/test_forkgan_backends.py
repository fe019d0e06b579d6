"""ForkGAN under KERAS_BACKEND=jax (the shared JAX worker, the three forwards under one `jax.jit`): the tiny
generator's three outputs (noise off at inference), a 2-scale discriminator (with the bicubic /2) and the
classifier match TF. The script enters `official.vision.gan` and `research.generative.forkgan` as bare packages
(their `__init__`s register experiments and load TensorFlow), so it also asserts that the networks module imports
no TensorFlow, and the worker survives for the next script."""

from __future__ import annotations

import json
import os

import numpy as np

from research.generative.forkgan.networks import DomainClassifier, ForkGenerator, MultiScaleDiscriminator
from tests import helpers

_SCRIPT = """
import json, os, sys
import jax
import numpy as np
import keras
assert keras.backend.backend() == "jax"
from tests.helpers import enter_bare_packages
enter_bare_packages("research", "research.generative", "research.generative.forkgan", "official", "official.vision",
                    "official.vision.gan")  # their __init__s register experiments (TF trainer)
from research.generative.forkgan.networks import DomainClassifier, ForkGenerator, MultiScaleDiscriminator
from tests.helpers import numpy_initial_draws
data = np.load(sys.argv[1])
nets = {}
for key, cls in (("g", ForkGenerator), ("d", MultiScaleDiscriminator), ("c", DomainClassifier)):
    with numpy_initial_draws():  # load_weights overwrites them: no PRNG compile per kernel shape
        nets[key] = cls.from_config(json.loads(str(data[key + "_config"])))
    nets[key].load_weights(str(data[key + "_weights"]))


def forward(x, code):  # one jitted program (the weights are its constants): one XLA compile, not one per op
    t, r, c = nets["g"].fork(x)
    d0, d1 = nets["d"](x)
    return dict(t=t, r=r, code=c, d0=d0, d1=d1, c=nets["c"](code))


out = jax.jit(forward)(data["x"], data["code"])
np.savez(sys.argv[2], **{k: np.asarray(v) for k, v in out.items()})
assert "tensorflow" not in sys.modules, "ForkGAN's networks module imported tensorflow"
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
