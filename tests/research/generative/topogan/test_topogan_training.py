"""TopoGAN end to end: (1) the topological loss alone trains the tiny generator so that its diagrams move
towards the matched real diagrams (a learning bar a sign or gather bug misses); (2) the `topogan_tiny_membranes`
experiment runs through the trainer (tools.train's path) with n_critic 2 on the reader's fixture, reports the
topology scores, and the exported SavedModel's signatures equal Keras (1e-5 / one level); the same step
without the topological loss compiles with XLA."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from official.core import config as config_lib
from official.core import export, trainer
from official.evaluation.diagram_distance import wasserstein_distance
from official.losses.topology import generated_diagrams, topological_loss, topology_targets
from research.generative.topogan import task as topo_task
from research.generative.topogan.model import DCGANGenerator
from tools import make_thin_structures


def _distance_and_loss(g, z, references):
    images = np.asarray(g(z, training=False))
    targets = topology_targets(images, references, 1, 32)
    diagrams = generated_diagrams(images, 1, 32)
    distance = np.mean([wasserstein_distance(d.points, references[r], 2.0, 2.0)
                        for d, r in zip(diagrams, targets["reference"], strict=False)])
    return distance, float(topological_loss(images, targets))


def test_topological_loss_alone_moves_generated_diagrams_to_the_references():
    keras.utils.set_random_seed(0)
    g = DCGANGenerator(latent_dim=8, filters=4)
    z = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    references = [np.array([[-0.5, 0.5]] * 3), np.array([[-0.5, 0.5]] * 5)]  # closed cells: born dark, die light
    distance0, loss0 = _distance_and_loss(g, z, references)
    optimizer = keras.optimizers.Adam(5e-2)
    for _ in range(20):
        with tf.GradientTape() as tape:
            images = g(z, training=False)
            loss = topological_loss(images, topology_targets(images.numpy(), references, 1, 32))
        optimizer.apply_gradients(zip(tape.gradient(loss, g.trainable_variables), g.trainable_variables, strict=False))
    distance, loss = _distance_and_loss(g, z, references)
    # measured: distance 1.40 -> 1.25, loss 2.00 -> 1.57 (a flipped sign or a wrong gather moves away)
    assert distance < 0.95 * distance0 and loss < 0.85 * loss0, (distance0, distance, loss0, loss)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("topogan")
    data = str(root / "membranes")
    make_thin_structures.write(data, "membranes", train=8, test=4)
    override = ",".join([f"train_data.path={data}", f"eval_data.path={data}", "trainer.steps_per_epoch=4",
                         "trainer.steps_per_loop=4", "trainer.global_batch_size=4", "training.generator_every=2",
                         "task.eval_samples=4", "task.kid_subsets=2"])
    cfg = config_lib.resolve("topogan_tiny_membranes", [], override)
    results, model = trainer.run_experiment(cfg, str(root / "run"), "train_and_eval", return_model=True)
    return cfg, results, model, root


def test_trainer_run_reports_topology_scores(run):
    cfg, results, model, _ = run
    assert int(model.optimizer.iterations.numpy()) == 2  # 4 critic steps, the generator on every 2nd
    assert int(model.d_optimizer.iterations.numpy()) == 4
    metrics = results["eval"]
    for key in ("betti1_real_mean", "betti1_w1", "diagram1_distance", "fid", "kid"):
        assert np.isfinite(metrics[key]), key
    assert metrics["betti1_real_mean"] >= 5  # Voronoi membranes: 6-12 cells, a few merged by gaps


def test_export_signatures_equal_keras(run, tmp_path):
    cfg, _, model, _ = run
    network = model.inference_model
    task = topo_task.TopologyGenerationTask(cfg)
    path, report = export.export_saved_model(network, task, str(tmp_path / "export"), "topogan", cfg.export, 0)
    assert max(report.values()) <= 1e-5
    loaded = tf.saved_model.load(path)
    z = task.eval_noise()[:3]
    want = np.asarray(network(z, training=False))
    np.testing.assert_allclose(loaded.signatures["serving_default"](z=tf.constant(z))["image"].numpy(), want, atol=1e-5)
    got8 = loaded.signatures["generate_uint8"](z=tf.constant(z))["image"].numpy()
    assert got8.dtype == np.uint8 and np.abs(got8.astype(np.float32) - np.clip(np.round((want + 1) * 127.5), 0, 255)).max() <= 1
    assert os.path.exists(os.path.join(path, "assets.extra", "tf_serving_warmup_requests"))


def test_gan_step_without_topology_compiles_with_xla(run):
    # the trained objective's own train_step, XLA-compiled with the topological term off (its host routine is a
    # tf.numpy_function, which XLA cannot compile); runs last: it changes the fixture's model
    cfg, _, model, _ = run
    batch = next(iter(topo_task.TopologyGenerationTask(cfg).build_inputs(cfg.train_data, True, 2)))
    model.topology_weight = 0.0
    d_steps = int(model.d_optimizer.iterations.numpy())
    logs = tf.function(model.train_step, jit_compile=True)(batch)
    assert int(model.d_optimizer.iterations.numpy()) == d_steps + 1
    assert all(np.isfinite(float(v)) for v in logs.values())
    assert all(np.isfinite(w).all() for w in model.network.get_weights())
