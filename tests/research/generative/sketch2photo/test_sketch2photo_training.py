"""Stage 1 end to end on the card's fixture (4 sketch / photo pairs, noise strokes; 32 px, tiny networks, Adam 2e-3):
`sketch2photo_tiny_domains` trained by the trainer (tools.train's path) for a short schedule drives the
clean-sketch cycle L1 |G_B(G_A(a)) - a| below the card's 0.05 (the untrained pair is far above; a
generator that ignores its input cannot get there); G_A's outputs move to the photos' gray level; 1-channel
sample grids are written; tools.export writes a SavedModel whose float and uint8 signatures match Keras
(1e-5 / one level) and a TFLite float16 G_A (here at 32 px; 256 px in the card) verified against Keras;
the two-stage SavedModel (G_A + colouriser) round-trips to 1e-5. The run compiles its step with XLA
(runtime.jit_compile; METHOD_CONTRACT item 9): one compile serves both checks, cheaper than a graph-mode run
plus a separate XLA step (measured: 38 s vs ~58 s of CPU). The history pool is off: not needed to overfit."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from official.core import config as config_lib
from official.core import export, trainer
from research.generative.sketch2photo import task as s2p_task
from research.generative.sketch2photo.export import export_pipeline
from research.generative.sketch2photo.fixture import write_fixture
from research.generative.sketch2photo.model import Colorizer, Sketch2PhotoGenerator

STEPS = 100  # at Adam 2e-3 (10x the recipe's rate), no crop or flip: an overfit check, not the recipe
CYCLE_BAR = 0.05  # the card's overfit bar


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("sketch2photo")
    data = write_fixture(str(root / "data"), size=36)["stage1"]
    override = ",".join([
        f"train_data.path={data}", f"eval_data.path={data}", "trainer.epochs=1", f"trainer.steps_per_epoch={STEPS}",
        f"trainer.steps_per_loop={STEPS}", "trainer.lr_schedule.warmup_epochs=1", f"training.sample_every_n_steps={STEPS}",
        "training.pool_size=0", "runtime.jit_compile=true", "trainer.lr_schedule.base_lr=2e-3", "trainer.lr_schedule.warmup_start_lr=2e-3",
        "train_data.load_size=[32,32]", "train_data.horizontal_flip=false",
    ])
    cfg = config_lib.resolve("sketch2photo_tiny_domains", [], override)
    results, model = trainer.run_experiment(cfg, str(root / "run"), "train_and_eval", return_model=True)
    return cfg, results, model, str(root), data


def _gray(data, folder):
    files = sorted(os.listdir(os.path.join(data, folder)))
    images = [np.asarray(Image.open(os.path.join(data, folder, f)).convert("L").resize((32, 32), Image.BICUBIC)) for f in files]
    return np.stack(images)[..., None].astype(np.float32) / 127.5 - 1.0


def _cycle(g_a, g_b, a):
    return float(np.abs(np.asarray(g_b(g_a(a, training=False), training=False)) - a).mean())


def test_cycle_overfits_and_translations_move_to_photos(run):
    cfg, results, model, _, data = run
    assert results["step"] == STEPS and set(results) >= {"g_cycle_a", "g_identity_b", "d_a", "d_b"}
    assert model.jit_compile is True  # the whole run's step (corruption included) compiled with XLA
    a, b = _gray(data, "trainA"), _gray(data, "trainB")
    g_a, g_b = model.network, model.generators["b"]
    trained = _cycle(g_a, g_b, a)
    fresh = Sketch2PhotoGenerator(filters=8, blocks=2, image_size=(32, 32))
    untrained = _cycle(fresh, Sketch2PhotoGenerator(filters=8, blocks=2, image_size=(32, 32), attention=""), a)
    print(f"clean cycle L1: trained {trained:.4f}, untrained {untrained:.4f}")
    assert trained < CYCLE_BAR and trained < 0.25 * untrained, (trained, untrained)
    fake = np.asarray(g_a(a, training=False))
    assert abs(fake.mean() - b.mean()) < 0.5 * abs(a.mean() - b.mean())
    assert results["eval"]["images"] == 2 and results["eval"]["input_change_l1"] > 0.05


def test_sample_grid_is_one_channel_translations(run):
    _, _, _, root, _ = run
    grid = np.asarray(Image.open(os.path.join(root, "run", "samples", f"step_{STEPS:07d}.png")))
    assert grid.shape[:2] == (64, 2 * 32)


def test_export_saved_model_and_tflite(run, tmp_path):
    cfg, _, model, _, data = run
    network = model.inference_model
    task = s2p_task.Sketch2PhotoTask(cfg)
    path, report = export.export_saved_model(network, task, str(tmp_path / "export"), "s2p", cfg.export, 0)
    assert max(report.values()) <= 1e-5
    loaded = tf.saved_model.load(path)
    x = _gray(data, "testA")
    want = np.asarray(network(x, training=False))
    np.testing.assert_allclose(loaded.signatures["serving_default"](image=tf.constant(x))["image"].numpy(), want, atol=1e-5)
    x8 = np.clip(np.round((x + 1) * 127.5), 0, 255).astype(np.uint8)
    got8 = loaded.signatures["translate_uint8"](image=tf.constant(x8))["image"].numpy()
    want8 = np.clip(np.round((np.asarray(network(x8 / 127.5 - 1.0, training=False)) + 1) * 127.5), 0, 255)
    assert got8.dtype == np.uint8 and got8.shape == (2, 32, 32, 1) and np.abs(got8.astype(np.float32) - want8).max() <= 1
    tfl, tfl_report = export.export_tflite(network, task, str(tmp_path / "export"), "s2p", cfg.export, 0, "float16")
    assert os.path.getsize(tfl) > 0 and tfl_report["max_abs_diff"] <= 1e-2
    interp = tf.lite.Interpreter(model_path=tfl)
    assert tuple(interp.get_input_details()[0]["shape"][1:]) == (32, 32, 1)


def test_two_stage_saved_model_round_trip(tmp_path):
    keras.utils.set_random_seed(1)
    g_a = Sketch2PhotoGenerator(filters=4, blocks=1, image_size=(16, 16))
    colorizer = Colorizer(image_size=(16, 16), blocks=1)
    assert export_pipeline(g_a, colorizer, str(tmp_path / "pipeline")) <= 1e-5

