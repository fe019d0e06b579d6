"""DRV model: variant parameter counts, a short overfit on the real-format fixture (check 6, shortened),
SavedModel export vs Keras (check 8), collocated vs marched shadows, and TF-vs-JAX forward parity."""

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
                                        ("drv_direct128", 16_777_217), ("drv_decoder128", 15_389_049)])
def test_variant_parameter_counts(name, count):
    assert create_model(name).trainable_parameter_count == count


@pytest.fixture(scope="module")
def tiny_fit(tmp_path_factory):
    """17 collocated 32 px views in the real format (COLMAP text + 16-bit PNGs): 16 to fit, view_004 held out."""
    from research.three_d.drv.fit import fit

    root = str(tmp_path_factory.mktemp("drv_fixture"))
    synthetic.write_fixture(root, num_views=17, size=32, resolution=32, num_samples=64, novel_lights=0)
    return fit(root, "drv_tiny", steps=200, rays=512, lr=0.05, holdout=("view_004.png",), log_every=10**9)


# Measured (README): the untrained volume scores 19.3 dB on training views and 18.4 dB held out; this schedule
# reached 33.3 / 22.5 dB; 300 steps on 24 views reach 33.6 / 26.3 dB.
TRAIN_BAR, HELDOUT_BAR = 30.0, 21.0


def test_overfit_tiny_volume(tiny_fit):
    r = tiny_fit["result"]
    assert r["train_psnr"] > TRAIN_BAR, r
    assert r["heldout_psnr"] > HELDOUT_BAR, r


def test_export_matches_keras(tiny_fit, tmp_path):
    import tensorflow as tf

    from research.three_d.drv.export import export_renderer, warmup_inputs

    model = tiny_fit["model"]
    report = export_renderer(model, str(tmp_path / "drv"))
    assert report["max_abs_diff"] <= 1e-6 and report["mean_image"] > 1e-3, report
    loaded = tf.saved_model.load(report["path"])
    rots, trans, centres = synthetic.orbit_cameras(3, seed=9)
    cam = np.asarray(pack_camera(rots, trans, np.tile(synthetic.intrinsics(32), (3, 1)))).astype(np.float32)
    light = (centres + np.array([0.5, -0.3, 0.2])).astype(np.float32)
    got = loaded.signatures["serving_default"](camera=tf.constant(cam), light=tf.constant(light))["image"].numpy()
    # check 8 to 1e-6 is the report's (the reloaded signature vs the same render traced as a Keras graph);
    # here, other cameras and off-camera lights against eager Keras (float32 op order differs: 1e-6 to 1e-5).
    eager = np.asarray(model.render_image(cam, light))
    assert got.shape == (3, 32, 32, 3) and got.mean() > 1e-3
    np.testing.assert_allclose(got, eager, atol=1e-5)
    assert (tmp_path / "drv" / "1" / "assets.extra" / "tf_serving_warmup_requests").exists()
    assert set(warmup_inputs(model)) == {"camera", "light"}


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
