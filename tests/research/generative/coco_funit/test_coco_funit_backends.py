"""COCO-FUNIT on both backends and under XLA: the tiny generator and discriminator under KERAS_BACKEND=jax
match TensorFlow (one subprocess, which imports no TensorFlow), and one `coco_funit` training step of the tiny variant runs with
jit_compile=True under TensorFlow and moves the weights and the EMA."""

from __future__ import annotations

import json
import os

import keras
import numpy as np
import tensorflow as tf

import research.generative.coco_funit  # noqa: F401  (registration)
from official.core import registry
from tests import helpers
from tests.research.generative.coco_funit.test_coco_funit_objective import make_batch, make_objective

_SCRIPT = """
import json, os, sys
import numpy as np
import keras
assert keras.backend.backend() == "jax"
import official.vision
from tests.helpers import enter_bare_packages
# official/vision/gan/__init__ registers CycleGAN's experiments (TensorFlow); COCO-FUNIT needs only its layers
# module, so the package is entered without its __init__: the run then proves the networks import no TF
enter_bare_packages("official.vision.gan")
from research.generative.coco_funit.generator import COCOFUNITGenerator
from research.generative.coco_funit.discriminator import ProjectionDiscriminator
from tests.helpers import numpy_initial_draws
data = np.load(sys.argv[1])
with numpy_initial_draws():  # load_weights overwrites them: no PRNG compile per kernel shape
    g = COCOFUNITGenerator.from_config(json.loads(str(data["g_config"])))
    d = ProjectionDiscriminator.from_config(json.loads(str(data["d_config"])))
g.load_weights(str(data["g_weights"]))
d.load_weights(str(data["d_weights"]))
import jax  # one compiled call each: op-by-op dispatch cost ~30 s CPU here
image = jax.jit(lambda c, s: g({"content": c, "style": s}))(data["content"], data["style"])
out = jax.jit(lambda x, y: d({"image": x, "label": y}))(data["content"], data["label"])
np.savez(sys.argv[2], image=np.asarray(image), logits=np.asarray(out["logits"]), features=np.asarray(out["features"]))
assert "tensorflow" not in sys.modules, "COCO-FUNIT's model modules imported tensorflow"
"""


def test_jax_matches_tensorflow(tmp_path, monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", (os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip())
    keras.backend.clear_session()
    g = registry.create_model("coco_funit_tiny", content_downsamplings=1, style_downsamplings=1)
    d = registry.create_model("coco_funit_discriminator_tiny", stages=2)
    helpers.randomise_weights(g, 4)
    helpers.randomise_weights(d, 5)
    gw, dw = os.path.join(str(tmp_path), "g.weights.h5"), os.path.join(str(tmp_path), "d.weights.h5")
    g.save_weights(gw)
    d.save_weights(dw)
    rng = np.random.default_rng(4)
    content, style = (rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32") for _ in range(2))
    label = np.array([1, 2], "int32")
    got = helpers.run_jax_script(_SCRIPT, tmp_path, g_config=json.dumps(g.get_config()), g_weights=gw,
                                 d_config=json.dumps(d.get_config()), d_weights=dw, content=content, style=style,
                                 label=label)
    want = np.asarray(g({"content": content, "style": style}))
    assert want.std() > 0.05
    np.testing.assert_allclose(got["image"], want, atol=1e-4)
    out = d({"image": content, "label": label})
    np.testing.assert_allclose(got["logits"], np.asarray(out["logits"]), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got["features"], np.asarray(out["features"]), rtol=1e-4, atol=1e-4)


def test_one_xla_training_step(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", (os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip())
    keras.backend.clear_session()
    # the smallest graph with every block kind (XLA compile time on CPU grows with the op count)
    obj = make_objective(seed=1, ema_decay=0.999, g_args=dict(content_downsamplings=1, style_downsamplings=1),
                         d_args=dict(d_stages=2))
    obj.compile(optimizer=keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.999), jit_compile=True)
    obj.optimizer.build(obj.generator_variables)  # as tools.train does: no slot creation inside the trace
    batch = make_batch(1)
    before_g = [w.numpy() for w in obj.network.trainable_weights]
    first = obj.network.weights[0].numpy()
    before_d = [w.numpy() for w in obj.discriminators["d"].trainable_weights]
    ds = tf.data.Dataset.from_tensors(batch)
    logs = obj.fit(ds, epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in logs.values()) and "d_adversarial" in logs
    assert max(np.abs(w.numpy() - b).max() for w, b in zip(obj.network.trainable_weights, before_g, strict=True)) > 1e-6
    assert max(np.abs(w.numpy() - b).max() for w, b in zip(obj.discriminators["d"].trainable_weights, before_d, strict=True)) > 1e-6
    # after step 1 (> ema_start_step 0) the average moved by 0.1 % towards the live weights
    avg = obj.average.weights[0].numpy()
    np.testing.assert_allclose(avg, 0.999 * first + 0.001 * obj.network.weights[0].numpy(), atol=1e-6)
