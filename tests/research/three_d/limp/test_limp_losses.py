"""LIMP losses (research/three_d/limp/losses.py): spec card limp.md check 3 and numpy references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from scipy.spatial.transform import Rotation

from official.ops.heat_geodesics import heat_geodesics
from research.three_d.limp import losses
from research.three_d.limp.synthetic import fixture_shapes

RNG = np.random.default_rng(0)


def _rigid(points: np.ndarray, seed: int) -> np.ndarray:
    rot = Rotation.random(random_state=seed).as_matrix()
    return points @ rot.T + np.random.default_rng(seed).normal(size=3)


def test_reconstruction_loss_rigid_invariant_and_zero_at_identity():
    x = RNG.normal(scale=0.2, size=(2, 60, 3))
    rec = x + RNG.normal(scale=0.02, size=x.shape)
    base = float(losses.reconstruction_metric_loss(x, rec))
    moved = np.stack([_rigid(r, 7 + i) for i, r in enumerate(rec)])
    assert float(losses.reconstruction_metric_loss(x, moved)) == pytest.approx(base, rel=1e-9, abs=1e-15)
    f32 = float(losses.reconstruction_metric_loss(x.astype(np.float32), moved.astype(np.float32)))
    assert abs(f32 - base) < 1e-6
    assert float(losses.reconstruction_metric_loss(x, x)) == 0.0
    assert float(losses.reconstruction_metric_loss(x, moved[:, ::-1])) > 10 * base  # vertex order matters
    ref = np.mean([(cdist(a, a, "sqeuclidean") - cdist(b, b, "sqeuclidean")) ** 2 for a, b in zip(x, rec, strict=False)])
    assert base == pytest.approx(ref, rel=1e-9)


def test_kl_matches_closed_form():
    mu, logvar = RNG.normal(size=(3, 8)), RNG.normal(size=(3, 8))
    ref = 0.5 * np.mean(np.exp(logvar) + mu**2 - 1 - logvar)
    assert float(losses.kl_loss(mu, logvar)) == pytest.approx(ref, rel=1e-9)
    assert float(losses.kl_loss(np.zeros((2, 4)), np.zeros((2, 4)))) == 0.0


def test_local_and_relative_euclidean_terms():
    shapes, faces, _ = fixture_shapes()
    a_pts, b_pts = shapes[1], shapes[2]  # two poses of subject 0 (near-isometric)
    dg_a, dg_b = (np.asarray(heat_geodesics(p, faces))[None] for p in (a_pts, b_pts))
    de_a, de_b = (cdist(p, p)[None] for p in (a_pts, b_pts))
    for alpha, end in [(1.0, a_pts), (0.0, b_pts)]:  # a = 1 targets A, a = 0 targets B
        dg_t = alpha * dg_a + (1 - alpha) * dg_b
        de_t = alpha * de_a + (1 - alpha) * de_b
        moved = _rigid(end, 3)[None]
        assert float(losses.local_euclidean_loss(dg_t, de_t, moved)) < 1e-12
    # a half-way target against the end shape B: numpy reference of the masked relative distortion
    dg_t, de_t = 0.5 * (dg_a + dg_b), 0.5 * (de_a + de_b)
    got = float(losses.local_euclidean_loss(dg_t, de_t, b_pts[None]))
    mask = dg_t[0] < 0.1 * dg_t.max()
    rel = ((de_t[0] - de_b[0]) / (de_t[0] + 1e-3)) ** 2
    assert got == pytest.approx(rel[mask].mean(), rel=1e-6) and got > 0
    assert float(losses.relative_euclidean_loss(de_t, b_pts[None])) == pytest.approx(rel.mean(), rel=1e-6)


def test_geodesic_loss_zero_for_own_metric_and_scales():
    shapes, faces, _ = fixture_shapes(subjects=1, poses=1)
    pts = shapes[0]
    dg = np.asarray(heat_geodesics(pts, faces, t=0.1))[None]
    assert float(losses.geodesic_loss(dg, _rigid(pts, 5)[None], faces)) < 1e-14
    scaled = float(losses.geodesic_loss(dg, 1.1 * pts[None], faces))
    # heat geodesics with a fixed t are not exactly 1-homogeneous; the metric error dominates: ~(0.1 Dg)^2
    assert scaled == pytest.approx(np.mean((0.1 * dg) ** 2), rel=0.2)


def test_interpolate_parts():
    z_a, z_b = RNG.normal(size=(1, 6)), RNG.normal(size=(1, 6))
    pose = np.asarray(losses.interpolate(z_a, z_b, 0.25, pose_size=2, part="pose"))
    style = np.asarray(losses.interpolate(z_a, z_b, 0.25, pose_size=2, part="style"))
    mixed = 0.25 * z_a + 0.75 * z_b
    np.testing.assert_allclose(pose, np.concatenate([mixed[:, :2], z_a[:, 2:]], 1))
    np.testing.assert_allclose(style, np.concatenate([z_a[:, :2], mixed[:, 2:]], 1))


@pytest.mark.parametrize("iteration, expected", [
    (0, (0, 0, 0, 0)), (7000, (0, 0, 0, 0)), (7001, (0, 10, 10, 0)), (10000, (0, 10, 10, 0)),
    (10001, (1e-2, 100, 10, 10)), (15001, (1e-3, 100, 1, 1)), (20000, (1e-3, 100, 1, 1)),
])
def test_stage_weights_follow_the_authors_schedule(iteration, expected):
    weights = losses.stage_weights(np.int64(iteration * 20 + 19))  # the last inner step of that iteration
    got = tuple(float(weights[k]) for k in ("interp_geo", "interp_euc", "intra_euc", "inter_geo"))
    assert got == pytest.approx(expected)
