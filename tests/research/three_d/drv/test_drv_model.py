"""DRV model: variant parameter counts, collocated vs marched shadows, TF-vs-JAX forward parity and round
trips. The short training run (check 6, shortened) and the SavedModel (check 8) are in test_drv_task.py."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import research.three_d.drv.variants  # noqa: F401
from official.core.registry import create_model
from research.three_d.drv import synthetic
from research.three_d.drv.model import DRV, pack_camera
from tests import helpers


@pytest.mark.parametrize("name,count", [("drv_tiny", 16**3 * 8 + 1), ("drv_direct32", 262_145),
                                        ("drv_direct128", 16_777_217), ("drv_decoder128", 18_005_401),
                                        ("drv_decoder32", 283_945)])
def test_variant_parameter_counts(name, count):
    assert create_model(name).trainable_parameter_count == count


def test_marched_shadows_agree_with_collocated_transmittance():
    vol = synthetic.scene_volume(32, sharpness=30.0)
    rots, trans, centres = synthetic.orbit_cameras(2, seed=3)
    intr = synthetic.intrinsics(32)
    a = synthetic.render_views(vol, rots[:1], trans[:1], intr, 32, num_samples=64, collocated=True)
    b = synthetic.render_views(vol, rots[:1], trans[:1], intr, 32, num_samples=64, collocated=False)
    psnr = 10 * np.log10(a.max() ** 2 / np.mean((a - b) ** 2))
    assert a.max() > 0.2 and psnr > 25.0, psnr
    # A light behind the object leaves the camera-facing side dark (shadow rays do something).
    c = synthetic.render_views(vol, rots[:1], trans[:1], intr, 32, lights=-centres[:1], num_samples=64,
                               collocated=False)
    assert c.mean() < 0.5 * a.mean()


JAX_SCRIPT = textwrap.dedent("""
    import json, sys
    import jax
    import keras
    import numpy as np
    assert keras.backend.backend() == "jax"
    from research.three_d.drv.model import DRV
    args = np.load(sys.argv[1])
    model = DRV.from_config(json.loads(str(args["config"])))
    model.volume.assign(args["volume"])
    # one jitted call (op-by-op dispatch compiles every small op on its own); the collocated path is a subset
    f = jax.jit(lambda c, l: model.render_image(c, l, collocated=False))
    out = {"marched": np.asarray(f(args["camera"], args["light"]))}
    assert "tensorflow" not in sys.modules
    np.savez(sys.argv[2], **out)
""")


def test_jax_forward_matches_tensorflow(tmp_path):
    import json

    model = DRV(resolution=12, num_samples=16, num_light_samples=4, image_size=12)
    vol = synthetic.scene_volume(12, sharpness=5.0).astype(np.float32)
    model.volume.assign(vol)
    rots, trans, centres = synthetic.orbit_cameras(2, seed=5)
    cam = np.asarray(pack_camera(rots, trans, np.tile(synthetic.intrinsics(12), (2, 1)))).astype(np.float32)
    light = centres.astype(np.float32)
    got = helpers.run_jax_script(JAX_SCRIPT, tmp_path, config=json.dumps(model.get_config()), volume=vol,
                                 camera=cam, light=light)
    marched = np.asarray(model.render_image(cam, light, collocated=False))
    assert marched.max() > 0.1
    np.testing.assert_allclose(got["marched"], marched, atol=1e-5)


def test_config_keras_file_and_checkpoint_round_trip(tmp_path):
    model = create_model("drv_tiny")
    inputs = model.example_inputs(1, rays=16)
    helpers.check_config_round_trip(model, inputs, atol=1e-5)
    helpers.check_keras_round_trip(model, tmp_path, inputs, atol=1e-6)
    assert not helpers.checkpoint_misses(model)
    out = np.asarray(model(inputs))
    assert out.shape == (1, 16, 3) and np.all(np.isfinite(out))


def test_decoder_variant_renders_and_trains_its_code():
    import tensorflow as tf

    model = DRV(resolution=8, decoder=True, code_dim=8, base_resolution=2, decoder_channels=(8, 4), num_samples=8)
    assert model.raw_volume().shape == (8, 8, 8, 8)
    inputs = model.example_inputs(1, rays=16)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(inputs))
    grads = tape.gradient(loss, [model.code, model.fc.kernel])
    assert all(g is not None and np.abs(g.numpy()).sum() > 0 for g in grads)
    with pytest.raises(ValueError, match="base_resolution"):
        DRV(resolution=24, decoder=True, base_resolution=4, decoder_channels=(8, 4))
