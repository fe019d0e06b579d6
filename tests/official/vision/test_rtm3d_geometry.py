"""RTM3D / KM3D geometry (official/ops/box3d.py, official/vision/rtm3d/geometry.py) against numpy and scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from scipy.optimize import least_squares

from official.data import kitti_geometry as kg
from official.ops import box3d
from official.vision.rtm3d import geometry
from tests import helpers

# KITTI's P2 (training/calib/000000.txt).
P2 = np.array(
    [[721.5377, 0.0, 609.5593, 44.85728], [0.0, 721.5377, 172.854, 0.2163791], [0.0, 0.0, 1.0, 0.002745884]]
)


def _boxes(seed, batch=2, objects=16, depth=(8.0, 40.0)):
    """Random car-like boxes in front of the camera: dims (B, K, 3), location (B, K, 3), rotation_y (B, K)."""
    rng = np.random.default_rng(seed)
    shape = (batch, objects)
    dims = np.stack(
        [rng.uniform(1.3, 1.8, shape), rng.uniform(1.5, 1.9, shape), rng.uniform(3.3, 4.6, shape)], -1
    )
    z = rng.uniform(*depth, shape)
    loc = np.stack([rng.uniform(-0.3, 0.3, shape) * z, rng.uniform(1.3, 1.9, shape), z], -1)
    ry = rng.uniform(-np.pi, np.pi, shape)
    return dims, loc, ry, np.stack([P2] * batch)


def _np(x):
    return np.asarray(x, dtype=np.float64)


# (a) keypoints and projection ---------------------------------------------------------------------


def test_box_keypoints_match_numpy_reference():
    dims, loc, ry, P = _boxes(seed=0)
    np.testing.assert_allclose(
        _np(box3d.box_keypoints_3d(dims, loc, ry)), kg.box_keypoints_3d(dims, loc, ry), atol=1e-9
    )
    expected = kg.box_keypoints_2d(dims, loc, ry, P2)
    got = _np(box3d.box_keypoints_2d(dims, loc, ry, P))  # float64 in, float64 out
    assert np.max(np.abs(got - expected)) < 1e-4
    _, depth = kg.project(kg.box_keypoints_3d(dims, loc, ry), P2)
    np.testing.assert_allclose(
        _np(box3d.project_points(kg.box_keypoints_3d(dims, loc, ry), P)[1]), depth, atol=1e-9
    )
    # float32, the model's dtype: still well under a tenth of a pixel
    got32 = _np(box3d.box_keypoints_2d(*(a.astype(np.float32) for a in (dims, loc, ry, P))))
    assert np.max(np.abs(got32 - expected)) < 1e-3


# (b) GRM -------------------------------------------------------------------------------------------


def test_grm_exact_keypoints_recover_location():
    dims, loc, ry, P = _boxes(seed=1)
    kps = kg.box_keypoints_2d(dims, loc, ry, P2)
    weights = np.ones(kps.shape[:-1])
    f32 = [a.astype(np.float32) for a in (kps, weights, dims, ry, P)]
    assert np.max(np.abs(_np(geometry.solve_location_grm(*f32)) - loc)) < 1e-3
    # a corrupted keypoint with weight 0 changes nothing; the 8 corners alone (KM3D's decoding) suffice
    bad = kps.copy()
    bad[..., 8, :] += 50.0
    corners_only = weights.copy()
    corners_only[..., 8] = 0.0
    got = _np(geometry.solve_location_grm(bad.astype(np.float32), corners_only.astype(np.float32), *f32[2:]))
    assert np.max(np.abs(got - loc)) < 1e-3


def test_grm_noisy_keypoints_at_20m():
    dims, loc, ry, P = _boxes(seed=2, batch=4, objects=16, depth=(18.0, 22.0))
    kps = kg.box_keypoints_2d(dims, loc, ry, P2) + np.random.default_rng(3).normal(0.0, 1.0, (4, 16, 9, 2))
    got = _np(geometry.solve_location_grm(kps, np.ones((4, 16, 9)), dims, ry, P))
    assert np.max(np.linalg.norm(got - loc, axis=-1)) < 0.5


# (c) Gauss-Newton ----------------------------------------------------------------------------------


def _scipy_residuals(params, kps, weights, dims_prior, yaw_prior, lam_d, lam_o):
    uv = kg.box_keypoints_2d(params[:3], params[4:], params[3], P2)
    return np.concatenate(
        [
            (np.sqrt(weights)[:, None] * (uv - kps)).ravel(),
            math.sqrt(lam_d) * (params[:3] - dims_prior),
            [math.sqrt(lam_o) * (params[3] - yaw_prior)],
        ]
    )


def _reprojection_rms(kps, dims, loc, ry):
    return np.sqrt(np.mean(np.sum((kg.box_keypoints_2d(dims, loc, ry, P2) - kps) ** 2, -1), -1))


def test_gauss_newton_matches_scipy_and_reduces_reprojection_error():
    dims, loc, ry, P = _boxes(seed=4, batch=2, objects=8, depth=(8.0, 30.0))
    rng = np.random.default_rng(5)
    kps = kg.box_keypoints_2d(dims, loc, ry, P2) + rng.normal(0.0, 2.0, (2, 8, 9, 2))
    weights = rng.uniform(0.3, 1.0, (2, 8, 9))
    dims_pred = dims + rng.normal(0.0, 0.15, dims.shape)
    yaw_pred = ry + rng.normal(0.0, 0.1, ry.shape)
    loc0 = _np(geometry.solve_location_grm(kps, weights, dims_pred, yaw_pred, P))
    lam_d, lam_o = geometry.DEFAULT_PRIOR_WEIGHTS
    d, y, loc_gn = (
        _np(t)
        for t in geometry.solve_box_gauss_newton(kps, weights, dims_pred, yaw_pred, loc0, P, iterations=10)
    )
    worst = 0.0
    for b in range(2):
        for k in range(8):
            x0 = np.concatenate([dims_pred[b, k], [yaw_pred[b, k]], loc0[b, k]])
            ref = least_squares(
                _scipy_residuals,
                x0,
                method="lm",
                xtol=1e-12,
                ftol=1e-12,
                gtol=1e-12,
                args=(kps[b, k], weights[b, k], dims_pred[b, k], yaw_pred[b, k], lam_d, lam_o),
            ).x
            mine = np.concatenate([d[b, k], [y[b, k]], loc_gn[b, k]])
            worst = max(worst, float(np.max(np.abs(mine - ref))))
    assert worst < 1e-5, worst  # metres and radians, float64
    # float32 (the model's dtype) lands on the same optimum to well under a millimetre
    f32 = [a.astype(np.float32) for a in (kps, weights, dims_pred, yaw_pred, loc0, P)]
    d32, y32, l32 = (_np(t) for t in geometry.solve_box_gauss_newton(*f32, iterations=10))
    assert np.max(np.abs(l32 - loc_gn)) < 5e-4 and np.max(np.abs(d32 - d)) < 1e-4
    assert np.max(_angle_diff(y32, y)) < 1e-4
    before = _reprojection_rms(kps, dims_pred, loc0, yaw_pred)
    after = _reprojection_rms(kps, d, loc_gn, y)
    assert np.all(after < before) and np.mean(after) < 0.6 * np.mean(before), (before, after)
    # the same solve through solve_box (GRM start inside)
    d2, y2, l2 = geometry.solve_box(kps, weights, dims_pred, yaw_pred, P, method="gauss_newton")
    np.testing.assert_allclose(_np(l2), loc_gn, atol=1e-9)
    _, _, l3 = geometry.solve_box(kps, weights, dims_pred, yaw_pred, P, method="grm")
    np.testing.assert_allclose(_np(l3), loc0, atol=1e-12)


# (d) multi-bin orientation -------------------------------------------------------------------------


def _ideal_rot(alpha, bin1_hot):
    bins, res = (_np(t) for t in box3d.multibin_encode(alpha))
    hot1 = bin1_hot.astype(np.float64)
    return np.stack(
        [
            1 - hot1,
            hot1,
            np.sin(res[..., 0]),
            np.cos(res[..., 0]),
            hot1,
            1 - hot1,
            np.sin(res[..., 1]),
            np.cos(res[..., 1]),
        ],
        -1,
    ), bins


def _angle_diff(a, b, period=2 * np.pi):
    d = np.mod(np.asarray(a) - np.asarray(b) + period / 2, period) - period / 2
    return np.abs(d)


def test_multibin_encode_is_km3d_rule():
    alpha = np.random.default_rng(6).uniform(-np.pi, np.pi, 2000)
    bins, res = (_np(t) for t in box3d.multibin_encode(alpha))
    on1 = (alpha < np.pi / 6) | (alpha > 5 * np.pi / 6)
    on2 = (alpha > -np.pi / 6) | (alpha < -5 * np.pi / 6)
    np.testing.assert_array_equal(bins, np.stack([on1, on2], -1).astype(np.float64))
    np.testing.assert_allclose(res[:, 0], np.where(on1, alpha + np.pi / 2, 0.0), atol=1e-12)
    np.testing.assert_allclose(res[:, 1], np.where(on2, alpha - np.pi / 2, 0.0), atol=1e-12)
    assert np.all(bins.sum(-1) >= 1)


def test_multibin_round_trip():
    rng = np.random.default_rng(7)
    edges = np.array(
        [np.pi, -np.pi + 1e-6, 0.0, np.pi / 6, -np.pi / 6, 5 * np.pi / 6, -5 * np.pi / 6, np.pi / 2]
    )
    alpha = np.concatenate([rng.uniform(-np.pi, np.pi, 4000), edges])
    # atan2: the encoding's own bins (both hot in the overlaps -> the tie goes to bin 2) decode exactly
    rot, bins = _ideal_rot(alpha, bin1_hot=np.zeros_like(alpha, dtype=bool))
    rot[:, 1], rot[:, 5] = bins[:, 0], bins[:, 1]
    rot[:, 0], rot[:, 4] = 1 - bins[:, 0], 1 - bins[:, 1]
    assert np.max(_angle_diff(_np(box3d.multibin_decode(rot, mode="atan2")), alpha)) < 1e-5
    # KM3D's atan(sin / cos): the same vector decodes to alpha modulo pi ...
    assert np.max(_angle_diff(_np(box3d.multibin_decode(rot)), alpha, period=np.pi)) < 1e-5
    # ... and exactly when the hot bin is the one whose residual lies in (-pi/2, pi/2): bin 1 for alpha < 0
    rot_principal, _ = _ideal_rot(alpha, bin1_hot=alpha < 0)
    away = np.minimum(_angle_diff(alpha, 0.0), _angle_diff(alpha, np.pi)) > 1e-3
    got = _np(box3d.multibin_decode(rot_principal))
    assert np.max(_angle_diff(got[away], alpha[away])) < 1e-5
    # float32 network outputs: same
    got32 = _np(box3d.multibin_decode(rot_principal.astype(np.float32)))
    assert np.max(_angle_diff(got32[away], alpha[away])) < 1e-5


# (e) rotation_y from alpha -------------------------------------------------------------------------


def test_rotation_y_from_alpha_matches_numpy():
    dims, loc, ry, P = _boxes(seed=8)
    u_centre = kg.box_keypoints_2d(dims, loc, ry, P2)[..., 8, 0]
    alpha = np.random.default_rng(9).uniform(-np.pi, np.pi, ry.shape)
    expected = kg.wrap_angle(alpha + np.arctan2(u_centre - P2[0, 2], P2[0, 0]))
    got = _np(box3d.rotation_y_from_alpha(alpha, u_centre, P))
    assert np.max(_angle_diff(got, expected)) < 1e-9
    assert np.all(got >= -np.pi) and np.all(got < np.pi)
    np.testing.assert_allclose(
        _angle_diff(_np(box3d.alpha_from_rotation_y(got, u_centre, P)), alpha), 0, atol=1e-9
    )
    # with no 4th column in P the ray angle is the devkit's atan2(x, z) of the 3D centre
    P0 = P2.copy()
    P0[:, 3] = 0.0
    u0 = kg.box_keypoints_2d(dims, loc, ry, P0)[..., 8, 0]
    centre = kg.box_keypoints_3d(dims, loc, ry)[..., 8, :]
    devkit = kg.rotation_y_from_alpha(alpha, centre[..., 0], centre[..., 2])
    assert np.max(_angle_diff(_np(box3d.rotation_y_from_alpha(alpha, u0, P0)), devkit)) < 1e-9
    assert (
        np.max(_angle_diff(_np(box3d.wrap_angle(np.linspace(-20, 20, 101))), np.linspace(-20, 20, 101)))
        < 1e-9
    )


def test_decode_boxes_from_network_outputs():
    """Ideal network outputs (exact keypoints, true dims, KM3D rot vector of alpha) give the true box."""
    dims, loc, ry, P = _boxes(seed=10, depth=(10.0, 30.0))
    kps = kg.box_keypoints_2d(dims, loc, ry, P2)
    alpha = _np(box3d.alpha_from_rotation_y(ry, kps[..., 8, 0], P))
    rot, _ = _ideal_rot(alpha, bin1_hot=alpha < 0)
    d, y, loc_gn = (_np(t) for t in geometry.decode_boxes(kps, np.ones(kps.shape[:-1]), dims, rot, P))
    np.testing.assert_allclose(loc_gn, loc, atol=1e-6)
    assert np.max(_angle_diff(y, ry)) < 1e-6


def test_graph_trace_with_unknown_object_count():
    """A tf.function with free batch and object dims traces (the SavedModel path) and agrees with eager."""
    dims, loc, ry, P = (a.astype(np.float32) for a in _boxes(seed=11))
    kps = kg.box_keypoints_2d(dims, loc, ry, P2).astype(np.float32)
    weights = np.ones(kps.shape[:-1], np.float32)
    spec = [
        tf.TensorSpec([None, None, 9, 2]),
        tf.TensorSpec([None, None, 9]),
        tf.TensorSpec([None, None, 3]),
        tf.TensorSpec([None, None]),
        tf.TensorSpec([None, 3, 4]),
    ]
    fn = tf.function(lambda *a: geometry.solve_box(*a, iterations=3), input_signature=spec)
    got = fn(kps, weights, dims, ry, P)
    eager = geometry.solve_box(kps, weights, dims, ry, P, iterations=3)
    for g, e in zip(got, eager, strict=True):
        np.testing.assert_allclose(g.numpy(), np.asarray(e), atol=1e-4)


# (f) JAX -------------------------------------------------------------------------------------------

_JAX_SCRIPT = """
import sys
import numpy as np
import jax
import keras
assert keras.backend.backend() == "jax"
from official.ops import box3d
from official.vision.rtm3d import geometry
a = dict(np.load(sys.argv[1]))

@jax.jit  # one compilation; op-by-op eager dispatch would compile every op separately
def run(kps, weights, dims, ry, P, rot, loc):
    d, y, l = geometry.solve_box(kps, weights, dims, ry, P, method="gauss_newton")
    lg = geometry.solve_location_grm(kps, weights, dims, ry, P)
    return d, y, l, lg, box3d.multibin_decode(rot), box3d.box_keypoints_2d(dims, loc, ry, P)

d, y, l, lg, alpha, uv = run(a["kps"], a["weights"], a["dims"], a["ry"], a["P"], a["rot"], a["loc"])
np.savez(sys.argv[2], d=np.asarray(d), y=np.asarray(y), l=np.asarray(l), lg=np.asarray(lg),
         alpha=np.asarray(alpha), uv=np.asarray(uv))
assert "tensorflow" not in sys.modules, "geometry imported tensorflow"
"""


@pytest.mark.jax
def test_jax_backend_matches_tensorflow(tmp_path):
    import jax  # noqa: F401  required (pyproject extra "jax"): a missing install fails, never skips

    dims, loc, ry, P = (a.astype(np.float32) for a in _boxes(seed=12, depth=(10.0, 30.0)))
    rng = np.random.default_rng(13)
    kps = (kg.box_keypoints_2d(dims, loc, ry, P2) + rng.normal(0, 1.0, (2, 16, 9, 2))).astype(np.float32)
    weights = rng.uniform(0.5, 1.0, (2, 16, 9)).astype(np.float32)
    dims_pred = (dims + rng.normal(0, 0.1, dims.shape)).astype(np.float32)
    ry_pred = (ry + rng.normal(0, 0.05, ry.shape)).astype(np.float32)
    rot = rng.normal(0, 1, (2, 16, 8)).astype(np.float32)
    got = helpers.run_jax_script(_JAX_SCRIPT, tmp_path, kps=kps, weights=weights, dims=dims_pred, ry=ry_pred, P=P, rot=rot, loc=loc)
    d, y, loc_gn = (np.asarray(t) for t in geometry.solve_box(kps, weights, dims_pred, ry_pred, P))
    _, _, lg = geometry.solve_box(kps, weights, dims_pred, ry_pred, P, method="grm")
    # measured: GRM 6e-5 m, GN location 2e-5 m, dims 3e-6 m, yaw 1.4e-6 rad (float32 both sides)
    np.testing.assert_allclose(got["lg"], np.asarray(lg), atol=5e-4)
    np.testing.assert_allclose(got["l"], loc_gn, atol=5e-4)
    np.testing.assert_allclose(got["d"], d, atol=1e-4)
    np.testing.assert_allclose(_angle_diff(got["y"], y), 0.0, atol=2e-5)
    np.testing.assert_allclose(got["alpha"], np.asarray(box3d.multibin_decode(rot)), atol=1e-6)
    np.testing.assert_allclose(
        got["uv"], np.asarray(box3d.box_keypoints_2d(dims_pred, loc, ry_pred, P)), atol=1e-3
    )
