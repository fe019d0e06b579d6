"""ShapeGF export (card check 8, METHOD_CONTRACT item 7): through the shapegf task, the SavedModel holds
serving_default (points -> z), score (points, z, sigma -> field), sample and generate (fixed step count,
start points and noise as inputs), each equal to Keras to 1e-5 on a fixed noise tensor; stock ops only."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from official.core.config import model_config
from official.core.export import export_all
from research.three_d.shapegf.experiments import shapegf_tiny_shapes_ae
from research.three_d.shapegf.model import ShapeGF
from research.three_d.shapegf.task import ShapeGFTask, start_and_noise
from tests.helpers import randomise_weights

ARGS = dict(zdim=8, hidden=16, blocks=2, conv_widths=(8, 8, 16, 16), fc_widths=(16, 8), num_sigmas=3, num_steps=2,
            num_points=32, generator_dims=(8,))


def test_saved_model_signatures_match_keras(tmp_path):
    cfg = shapegf_tiny_shapes_ae()
    cfg.model = model_config("shapegf_tiny", **ARGS)
    task = ShapeGFTask(cfg)
    keras.utils.set_random_seed(0)
    model = ShapeGF(**ARGS)
    randomise_weights(model, 0)
    export = dataclasses.replace(cfg.export, verify_examples=2, warmup_requests=1, atol=1e-5)
    done = export_all(model, task, str(tmp_path / "exports"), "shapegf", export, 0)
    path, report = done["saved_model"]
    assert set(report) == {"serving_default/z", "score/field", "sample/points", "generate/points"}
    assert max(report.values()) <= 1e-5
    loaded = tf.saved_model.load(path)
    rng = np.random.default_rng(5)
    points = rng.uniform(-1, 1, (3, 32, 3)).astype("float32")
    z = np.asarray(model.encoder(points, training=False))
    x0, noise = start_and_noise(model, 3, 32, rng)
    got = loaded.signatures["sample"](z=tf.constant(z), x0=tf.constant(x0), noise=tf.constant(noise))["points"].numpy()
    want = keras.ops.convert_to_numpy(model.reconstruct(points, x0, noise))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert np.abs(got - x0).max() > 0.1  # the sampler moved the points
    noise2 = noise.copy()
    noise2[-1] += 1.0  # the last step's noise (scale sqrt(2) sigma_min = 0.014) comes before its move: it shows
    moved = loaded.signatures["sample"](z=tf.constant(z), x0=tf.constant(x0), noise=tf.constant(noise2))["points"].numpy()
    assert np.abs(moved - got).max() > 0.005
    graph = loaded.signatures["sample"].graph.as_graph_def()
    graph_ops = {n.op for f in graph.library.function for n in f.node_def} | {n.op for n in graph.node}
    assert "While" in graph_ops or "StatelessWhile" in graph_ops  # the fixed-count loop, not 2 x 3 unrolled steps
    assert not {op for op in graph_ops if op.startswith("Zoo")}  # no C++ kernel of official/ops/kernels
