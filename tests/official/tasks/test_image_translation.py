"""The translation stack end to end on generated domains (tools.make_domains, outline drawings <-> filled
shapes, 32 px): `cyclegan_tiny_domains` trained 40 steps by the trainer moves its translations most of the
way to domain B (pixel KID far below the untranslated inputs'), writes sample grids, exports a SavedModel
whose float and uint8 signatures match Keras, and tools.translate writes what the network computes."""

import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from official.core import config as config_lib
from official.core import export, trainer
from official.evaluation import gan_features, gan_metrics
from official.tasks.image_translation import ImageTranslationTask
from tools import make_domains, translate

STEPS = 40


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("translation")
    data = str(root / "domains")
    make_domains.write(data, "outline_fill", 40, 16, 36, seed=0)
    override = ",".join([
        f"train_data.path={data}", f"eval_data.path={data}", "trainer.epochs=2", f"trainer.steps_per_epoch={STEPS // 2}",
        f"trainer.steps_per_loop={STEPS // 2}", "trainer.lr_schedule.warmup_epochs=1", "training.sample_every_n_steps=20",
        "training.pool_size=8",
    ])
    cfg = config_lib.resolve("cyclegan_tiny_domains", [], override)
    results, model = trainer.run_experiment(cfg, str(root / "run"), "train_and_eval", return_model=True)
    return cfg, results, model, str(root), data


def _domain(data, split, domain):
    files = sorted(os.listdir(os.path.join(data, f"{split}{domain}")))
    images = [np.asarray(Image.open(os.path.join(data, f"{split}{domain}", f)).resize((32, 32), Image.BICUBIC)) for f in files]
    return np.stack(images).astype(np.float32) / 127.5 - 1.0


def test_training_moves_translations_to_domain_b(run):
    cfg, results, model, _, data = run
    assert results["step"] == STEPS
    assert set(results) >= {"g_cycle_a", "g_adversarial_a", "d_a", "d_b"}
    # Reference computed here from the files: the untranslated test inputs against test B.
    a, b = _domain(data, "test", "A"), _domain(data, "test", "B")
    untranslated = gan_metrics.kid_from_features(gan_features.pixel_features(b), gan_features.pixel_features(a), 100, 16)[0]
    assert untranslated > 2.0
    ev = results["eval"]
    assert ev["images"] == 16 and ev["features"] == "pixels16"
    assert ev["kid"] < 0.25 * untranslated, (ev, untranslated)
    assert ev["input_change_l1"] > 0.3  # the generator is not the identity


def test_sample_grids_are_written(run):
    _, _, model, root, _ = run
    samples = os.path.join(root, "run", "samples")
    assert sorted(f for f in os.listdir(samples) if f.endswith(".png")) == ["step_0000020.png", "step_0000040.png"]
    grid = np.asarray(Image.open(os.path.join(samples, "step_0000040.png")))
    assert grid.shape == (64, 4 * 32, 3)
    task = ImageTranslationTask(run[0])
    first = next(iter(task.build_inputs(run[0].eval_data, False, 4)))["a"].numpy()
    np.testing.assert_allclose(grid[:32, :32].astype(np.float32) / 127.5 - 1.0, first[0], atol=0.01)
    want = np.asarray(model.inference_model(first, training=False))[1]
    np.testing.assert_allclose(grid[32:, 32:64].astype(np.float32) / 127.5 - 1.0, want, atol=0.01)


def test_export_and_translate_cli_match_keras(run, tmp_path):
    cfg, _, model, root, data = run
    network = model.inference_model
    task = ImageTranslationTask(cfg)
    path, report = export.export_saved_model(network, task, str(tmp_path / "export"), "cg", cfg.export, 0)
    assert max(report.values()) <= 1e-4
    loaded = tf.saved_model.load(path)
    x = _domain(data, "test", "A")[:3]
    want = np.asarray(network(x, training=False))
    got = loaded.signatures["serving_default"](image=tf.constant(x))["image"].numpy()
    np.testing.assert_allclose(got, want, atol=1e-4)
    x8 = np.clip(np.round((x + 1) * 127.5), 0, 255).astype(np.uint8)
    got8 = loaded.signatures["translate_uint8"](image=tf.constant(x8))["image"].numpy()
    want8 = np.clip(np.round((np.asarray(network(x8 / 127.5 - 1.0, training=False)) + 1) * 127.5), 0, 255)
    assert got8.dtype == np.uint8 and np.abs(got8.astype(np.float32) - want8).max() <= 1

    out = str(tmp_path / "translated")
    written, skipped = translate.translate_folder(
        lambda images: loaded.signatures["serving_default"](image=tf.constant(images))["image"], (32, 32),
        os.path.join(data, "testA"), out, 8, keep_size=True)
    assert (written, skipped) == (16, 0)
    first = np.asarray(Image.open(os.path.join(out, "00000.png")))
    assert first.shape == (36, 36, 3)  # --keep_size: back to the input's 36 px
    reference = Image.fromarray(np.clip(np.round((want[0] + 1) * 127.5), 0, 255).astype(np.uint8)).resize((36, 36), Image.BICUBIC)
    assert np.abs(first.astype(np.float32) - np.asarray(reference, np.float32)).max() <= 2
