"""DAAE end to end on generated faces (CACD names, 32 px, the tiny network): `daae_tiny_faces` trained by the
trainer (tools.train's path) for a short schedule (80 steps of 8 at Adam 5e-3: an overfit check, not the
recipe); the learning bar (age MAE on unseen people, reconstruction error) that the untrained network misses;
 the players update only their own
networks and the hinge does not reach the decoder (spec check 4); the logged KLs equal a hand computation with
the age prior; export: `age` / `age_to` SavedModel signatures match Keras to 1e-5. The XLA step and the TFLite
`age` export moved to benchmarks/daae_checks.py (the test budget; its result is benchmarks/results/daae_checks.json)."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from official.core import config as config_lib
from official.core import export, trainer
from official.data import synthetic_faces
from research.generative.daae import task as daae_task

STEPS = 80


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("daae")
    data = str(root / "faces")
    synthetic_faces.write_faces(data, "cacd", identities=12, per_identity=12, size=32)
    override = ",".join([f"train_data.path={data}", f"eval_data.path={data}", f"trainer.steps_per_epoch={STEPS}",
                         f"trainer.steps_per_loop={STEPS}", "trainer.global_batch_size=8",
                         "trainer.lr_schedule.base_lr=5e-3"])
    cfg = config_lib.resolve("daae_tiny_faces", [], override)
    results, model = trainer.run_experiment(cfg, str(root / "run"), "train_and_eval", return_model=True)
    return cfg, results, model, data


def test_short_run_learns_age_on_unseen_people(run):
    cfg, results, model, _ = run
    assert results["step"] == STEPS
    assert set(results) >= {"g_reconstruction", "g_kl_sample", "d_kl_age", "d_margin", "d_identity"}
    ev = results["eval"]
    task = daae_task.FaceAgingTask(cfg)
    keras.utils.set_random_seed(0)
    fresh = task.build_model()  # the untrained network's MAE on the same faces (eager: no extra traces)
    batches = list(task.build_inputs(cfg.eval_data, False, 32))
    truth = np.concatenate([b["age"].numpy() for b in batches])
    guess = np.concatenate([np.asarray(fresh.estimate_age(b["image"])) for b in batches])
    fresh_mae = float(np.abs(guess - truth).mean())
    assert ev["mae"] < 0.6 * fresh_mae, (ev, fresh_mae)
    assert ev["images"] == len(truth) > 0 and 0.0 <= ev["cs5"] <= 1.0


def _batch(cfg):
    task = daae_task.FaceAgingTask(cfg)
    return next(iter(task.build_inputs(cfg.train_data, True, 8)))


def test_players_update_only_their_networks(run):
    cfg, _, model, _ = run
    encoder, decoder = model.network.encoder, model.network.decoder
    ids = lambda vs: {id(v) for v in vs}  # noqa: E731
    assert ids(model.generator_variables) == ids(decoder.trainable_variables)
    assert ids(model.discriminator_variables) >= ids(encoder.trainable_variables)
    assert not ids(model.discriminator_variables) & ids(decoder.trainable_variables)
    batch = _batch(cfg)
    with tf.GradientTape(persistent=True) as tape:
        g_terms, fakes = model.generator_losses(batch, training=True)
        fakes = tf.nest.map_structure(tf.stop_gradient, fakes)
        d_terms = model.discriminator_losses(batch, fakes, 0)
        hinge = d_terms["margin"]
        g_total = sum(g_terms.values())
    # the generator's KL terms reach the decoder (through the encoder, which its optimizer does not hold)
    assert any(g is not None and float(tf.reduce_max(tf.abs(g))) > 0
               for g in tape.gradient(g_terms["kl_sample"], decoder.trainable_variables))
    # the encoder's hinge on detached fakes gives the decoder nothing
    assert all(g is None or float(tf.reduce_max(tf.abs(g))) == 0
               for g in tape.gradient(hinge, decoder.trainable_variables))
    # fake passes leave the moving statistics to the real faces; a real pass moves them
    stats = [v for v in encoder.non_trainable_variables if "moving_" in v.path]
    kept = [v.numpy().copy() for v in stats]
    model._encode_fake(fakes["sample"], True)
    assert all(np.array_equal(k, v.numpy()) for k, v in zip(kept, stats, strict=True))
    encoder(batch["image"], training=True)
    assert not all(np.array_equal(k, v.numpy()) for k, v in zip(kept, stats, strict=True))
    before = [v.numpy().copy() for v in encoder.trainable_variables]
    grads = tape.gradient(g_total, model.generator_variables)
    model.optimizer.apply_gradients(zip(grads, model.generator_variables, strict=True))
    assert all(np.array_equal(b, v.numpy()) for b, v in zip(before, encoder.trainable_variables, strict=True))


def test_logged_kls_use_the_age_prior(run):
    cfg, _, model, _ = run
    batch = _batch(cfg)
    fakes = tf.nest.map_structure(tf.stop_gradient, model.generator_losses(batch, training=True)[1])
    terms = model.discriminator_losses(batch, fakes, 0)
    post = {k: v.numpy().astype(np.float64) for k, v in model.network.encoder(batch["image"], training=True).items()}
    age = batch["age"].numpy()[:, None] / 10.0

    def kl(mu, logvar, m):
        return (0.5 * (np.exp(logvar) + (mu - m) ** 2 - 1 - logvar).sum(-1)).mean()

    np.testing.assert_allclose(float(terms["kl_age"]), kl(post["mu_age"], post["logvar_age"], age), rtol=1e-4)
    np.testing.assert_allclose(float(terms["kl_identity"]), kl(post["mu_identity"], post["logvar_identity"], 0), rtol=1e-4)


def test_export_age_and_age_to(run, tmp_path):
    cfg, _, model, data = run
    network = model.inference_model
    task = daae_task.FaceAgingTask(cfg)
    path, report = export.export_saved_model(network, task, str(tmp_path / "export"), "daae", cfg.export, 0)
    assert max(report.values()) <= 1e-5, report
    loaded = tf.saved_model.load(path)
    assert set(loaded.signatures) == {"serving_default", "age", "age_to"}
    x = next(iter(task.build_inputs(cfg.eval_data, False, 3)))["image"]
    target = tf.constant([5.0, 45.0, 85.0])
    np.testing.assert_allclose(loaded.signatures["age"](image=x)["age"].numpy(),
                               np.asarray(network.estimate_age(x)), atol=1e-5)
    aged = loaded.signatures["age_to"](image=x, target_age=target)["image"].numpy()
    np.testing.assert_allclose(aged, np.asarray(network.age_to(x, target)), atol=1e-5)
    assert os.path.isfile(os.path.join(path, "assets.extra", "tf_serving_warmup_requests"))

