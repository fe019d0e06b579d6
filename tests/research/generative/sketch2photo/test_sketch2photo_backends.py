"""Sketch2Photo under KERAS_BACKEND=jax (the shared JAX worker): G_A (legacy attention gate), its attention map, the
colouriser, the corrupted sketch and the style loss match TensorFlow, all computed under one `jax.jit` (eager JAX
compiles every primitive on first use), the networks built with numpy initial draws (tests.helpers). The script
registers `official.vision.gan` and `research.generative.sketch2photo` as bare packages, skipping their
registration `__init__`s (which load the TF trainer), so it also asserts that the model, layer, loss and noise
modules import no TensorFlow."""

from __future__ import annotations

import json
import os

import keras
import numpy as np

from research.generative.sketch2photo import losses, noise
from research.generative.sketch2photo.model import Colorizer, Sketch2PhotoGenerator
from tests import helpers

_SCRIPT = """
import json, os, sys
import numpy as np
import jax
import keras
assert keras.backend.backend() == "jax"
from tests.helpers import enter_bare_packages
enter_bare_packages("research", "research.generative", "research.generative.sketch2photo", "official", "official.vision",
                    "official.vision.gan")  # their __init__s register experiments (TF trainer)
from research.generative.sketch2photo.model import Colorizer, Sketch2PhotoGenerator
from research.generative.sketch2photo import losses, noise
from tests.helpers import numpy_initial_draws
data = np.load(sys.argv[1])
with numpy_initial_draws():  # load_weights overwrites them
    g = Sketch2PhotoGenerator.from_config(json.loads(str(data["g_config"])))
    c = Colorizer.from_config(json.loads(str(data["c_config"])))
g.load_weights(str(data["g_weights"]))
c.load_weights(str(data["c_weights"]))
attention = g.attention_model()


def forward(x, rgb, n, o, u, off):
    feats = c.encoder(rgb)
    return dict(y=g(x), w=attention(x), rgb=c(rgb), noisy=noise.compose(x, n, o, u, off, patch=6),
                style=losses.style_loss(feats, [f[::-1] for f in feats]))


out = jax.jit(forward)(*(data[k] for k in ("x", "rgb", "n", "o", "u", "off")))
np.savez(sys.argv[2], **{k: np.asarray(v) for k, v in out.items()})
assert "tensorflow" not in sys.modules, "Sketch2Photo's model / loss / noise modules imported tensorflow"
"""

def test_jax_matches_tensorflow(tmp_path):
    keras.utils.set_random_seed(4)
    g = Sketch2PhotoGenerator(filters=4, blocks=1, image_size=(16, 16))
    helpers.randomise_weights(g, 4)
    c = Colorizer(image_size=(16, 16), blocks=1)
    helpers.randomise_weights(c, 5)
    paths = [os.path.join(str(tmp_path), n) for n in ("g.weights.h5", "c.weights.h5")]
    g.save_weights(paths[0])
    c.save_weights(paths[1])
    rng = np.random.default_rng(4)
    x, n, o = (rng.uniform(-1, 1, (2, 16, 16, 1)).astype(np.float32) for _ in range(3))
    rgb = rng.uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32)
    u, off = np.array([0.1, 0.3], np.float32), np.array([[2, 3], [10, 0]], np.int32)
    got = helpers.run_jax_script(_SCRIPT, tmp_path, g_config=json.dumps(g.get_config()), g_weights=paths[0],
                                 c_config=json.dumps(c.get_config()), c_weights=paths[1], x=x, rgb=rgb, n=n, o=o, u=u, off=off)
    np.testing.assert_allclose(got["y"], np.asarray(g(x)), atol=1e-4)
    np.testing.assert_allclose(got["w"], np.asarray(g.attention_model()(x)), atol=1e-5)
    np.testing.assert_allclose(got["rgb"], np.asarray(c(rgb)), atol=1e-4)
    np.testing.assert_array_equal(got["noisy"], np.asarray(noise.compose(x, n, o, u, off, patch=6)))
    feats = c.encoder(rgb)
    np.testing.assert_allclose(got["style"], float(losses.style_loss(feats, [f[::-1] for f in feats])), rtol=1e-4)
