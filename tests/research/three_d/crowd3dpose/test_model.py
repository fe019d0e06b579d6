"""The 2D pose network: parameter counts, round trips, TF vs JAX, an XLA training step through the
feet-weighted loss, and the trained tiny network (tests/fixtures/crowd3dpose_resnettiny_crowd23.weights.h5:
`crowd3dpose_resnettiny_crowd23`, 1000 CPU steps, see the card) on a fresh crowd: keypoint AP far above an
untrained model's, and its SavedModel export verified against Keras (tools.export's checks)."""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from official.core import config as config_lib
from official.core import export
from official.core.registry import create_model
from official.core.task import build_task
from research.three_d.crowd3dpose.model import Crowd3DPoseNet
from tests import helpers

FIXTURE = os.path.join(helpers.REPO, "tests", "fixtures", "crowd3dpose_resnettiny_crowd23.weights.h5")


def test_parameter_counts():
    # No paper figure (the authors' network is AlphaPose's FastPose): counts of our build, kept fixed.
    # The count does not depend on the input size: a 64 x 64 build saves the 320 x 256 graph's time.
    assert helpers.trainable_count(create_model("crowd3dpose_resnet50", input_shape=(64, 64, 3))) == 34_001_239
    tiny = create_model("crowd3dpose_resnettiny")
    assert helpers.trainable_count(tiny) == 127_991
    assert tiny(np.zeros((1, 64, 64, 3), np.float32))["heatmaps"].shape == (1, 16, 16, 23)


@pytest.fixture(scope="module")
def micro():
    """The smallest build that keeps every layer kind: one block per stage, width 8, 32 x 32 input and
    two deconvolution stages (stride 8: 4 x 4 heatmaps; equal deconv kernels share JAX's init compile)."""
    keras.utils.set_random_seed(0)
    return Crowd3DPoseNet(depth=18, input_shape=(32, 32, 3), blocks=(1, 1, 1, 1), widths=(8, 8, 8, 8), stem_width=8,
                          deconv_filters=(8, 8))


@pytest.mark.jax
def test_round_trips_and_jax_parity(micro, tmp_path, monkeypatch):
    helpers.randomise_weights(micro, 1)
    x = helpers.random_inputs(micro, seed=1)
    helpers.check_config_round_trip(micro, x)
    np.testing.assert_allclose(micro.inference_model()(x), micro(x)["heatmaps"], atol=1e-6)
    # The JAX subprocess inherits this environment: without LLVM's optimisation passes its ~10 jitted
    # initialisers and eager ops compile ~4x faster (the same HLO, so the same numbers to 1e-4).
    monkeypatch.setenv("XLA_FLAGS", (os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip())
    helpers.check_jax_parity(micro, tmp_path, x, atol=1e-4, without_tensorflow=True)


@pytest.mark.slow
def test_xla_training_step_lowers_the_feet_weighted_loss(micro):
    """Two jit_compile=True steps through the network and compute_loss (the trainer's objective)."""
    model = Crowd3DPoseNet.from_config(micro.get_config())
    optimizer = keras.optimizers.SGD(1e-4)  # heatmaps in 0-255 units: large gradients
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(2, 32, 32, 3)).astype(np.float32))
    targets = np.zeros((2, 2, 4, 4, 23), np.float32)
    targets[:, :, 1, 2, :] = 255.0
    y = {"targets": tf.constant(targets), "valid": tf.constant(np.full((2, 23), 2.0, np.float32))}

    @tf.function(jit_compile=True)
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x, y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    first, second = float(step(x, y)), float(step(x, y))
    assert np.isfinite(first) and second < first, (first, second)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from tools.make_crowd_views import write_crowd_views

    root = tmp_path_factory.mktemp("data")
    write_crowd_views(str(root / "crowd23" / "val"), frames=1, images=True, seed=5)
    cfg = config_lib.resolve("crowd3dpose_resnettiny_crowd23", [], "trainer.global_batch_size=8", str(root))
    task = build_task(cfg)
    model = task.build_model()
    model.load_weights(FIXTURE)
    return cfg, task, model


def test_trained_tiny_network_finds_the_joints(trained):
    cfg, task, model = trained
    metrics = task.evaluate(model, task.build_inputs(cfg.eval_data, False, 12))
    # An untrained network scores AP50 ~0; the run's own val split gave AP50 0.918 / AP 0.281.
    assert metrics["AP50"] > 0.6 and metrics["persons"] == 36.0, metrics


def test_saved_model_export_verifies(trained, tmp_path):
    cfg, task, model = trained
    cfg.export.formats = ("saved_model",)
    done = export.export_all(model, task, str(tmp_path), "crowd3dpose", cfg.export, cfg.eval_data.image_size)
    _, report = done["saved_model"]
    assert {"serving_default/heatmaps", "serving_default/keypoints", "serving_image/keypoints"} <= set(report)
    assert max(report.values()) <= cfg.export.atol
    assert tf.saved_model.contains_saved_model(done["saved_model"][0])
