"""LIMP's evaluation metrics (research/three_d/limp/metrics.py, METHOD_CONTRACT item 6) against independent
references (scipy's Kabsch `Rotation.align_vectors`, the training loss, closed forms), the stage-gated loss
terms of the training method (the tf.cond path that non-XLA runs take) and the generator's input checks."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from scipy.spatial.transform import Rotation

from official.ops.heat_geodesics import heat_geodesics
from research.three_d.limp import losses, metrics
from research.three_d.limp.method import weighted_term
from research.three_d.limp.synthetic import fixture_shapes
from tools.make_limp_shapes import write_limp_shapes

RNG = np.random.default_rng(0)


def test_aligned_error_matches_scipy_kabsch_and_ignores_rigid_motions():
    for seed in range(3):
        target = RNG.normal(scale=0.3, size=(50, 3))
        rot = Rotation.random(random_state=seed)
        pred = rot.apply(target + RNG.normal(scale=0.01, size=target.shape)) + RNG.normal(size=3)
        # reference: scipy's optimal rotation of the centred prediction onto the centred target
        p, q = pred - pred.mean(0), target - target.mean(0)
        best, _ = Rotation.align_vectors(q, p)
        ref = np.linalg.norm(best.apply(p) - q, axis=1).mean()
        assert metrics.aligned_vertex_error(pred, target) == pytest.approx(ref, rel=1e-6)
        assert 0.005 < ref < 0.03
    x = RNG.normal(size=(30, 3))
    assert metrics.aligned_vertex_error(x * [1, 1, -1] + 2.0, x) < 1e-12  # a reflection costs nothing
    assert metrics.aligned_vertex_error(x[::-1], x) > 0.5  # vertex order matters


def test_metric_loss_is_the_training_loss():
    x, r = RNG.normal(scale=0.2, size=(2, 40, 3)), RNG.normal(scale=0.2, size=(2, 40, 3))
    want = float(losses.reconstruction_metric_loss(x, r))
    assert np.mean([metrics.metric_loss(a, b) for a, b in zip(x, r, strict=True)]) == pytest.approx(want, rel=1e-9)


def test_evaluate_shapes_on_a_perfect_and_a_constant_model():
    shapes, faces, _ = fixture_shapes(subjects=2, poses=2, rings=6, around=6)
    dg = np.stack([np.asarray(heat_geodesics(s, faces, t=None)) for s in shapes])
    flat = shapes.reshape(len(shapes), -1).astype(np.float32)

    # "perfect" auto-encoder: the latent is the flattened shape (pose = first 3 numbers, i.e. vertex 0)
    perfect = metrics.evaluate_shapes(lambda x: x.reshape(len(x), -1), lambda z: z.reshape(len(z), -1, 3),
                                      shapes, dg, faces, pose_size=3, heat_t=None)
    assert perfect["aligned_error_mm"] < 1e-3 and perfect["rec_metric_loss"] < 1e-10
    # its mid-point is the vertex-space average, so the two interpolation figures agree
    assert perfect["interp_geodesic_distortion"] == pytest.approx(perfect["linear_vertex_interp_distortion"], rel=1e-5)
    assert perfect["interp_pairs"] == 3 and perfect["shapes"] == 4

    mean = flat.mean(0, keepdims=True)
    constant = metrics.evaluate_shapes(lambda x: np.zeros((len(x), 2), np.float32),
                                       lambda z: np.repeat(mean, len(z), 0).reshape(len(z), -1, 3),
                                       shapes, dg, faces, pose_size=1, heat_t=None, pairs=1)
    want = 1000 * np.mean([metrics.aligned_vertex_error(mean.reshape(-1, 3), s) for s in shapes])
    assert constant["aligned_error_mm"] == pytest.approx(want, rel=1e-5) and want > 20.0
    assert constant["style_interp_euclidean"] > 0.01 and constant["pose_interp_isometry"] > 0.01


def test_stage_gated_terms_skip_the_solves_while_their_weight_is_zero():
    calls = []

    def term():
        calls.append(1)
        return tf.constant(3.0)

    assert float(weighted_term(tf.constant(0.0), term)) == 0.0 and not calls  # tf.cond: not evaluated
    assert float(weighted_term(tf.constant(0.5), term)) == 1.5 and calls
    assert float(weighted_term(tf.constant(0.0), term, skip_when_zero=False)) == 0.0  # XLA path: weighted by 0


def test_generator_rejects_bad_sizes_and_keeps_a_complete_set(tmp_path):
    with pytest.raises(ValueError, match="--poses"):
        write_limp_shapes(str(tmp_path / "a"), subjects=2, poses=1)
    out = str(tmp_path / "b")
    assert write_limp_shapes(out, subjects=2, poses=2, rings=3, around=4, fmt="off") == {
        "meshes": 4, "vertices": 14, "faces": 24}
    assert write_limp_shapes(out, subjects=2, poses=2) == {}  # complete set kept without --force
