"""DRV decoder options (spec card "Method"): the Neural Volumes warp field and the opacity / normal priors.

Values, not shapes: an identity warp renders exactly what the unwarped volume renders; a known affine warp moves
a blob to where its inverse puts it; the mixture equals a numpy + scipy evaluation of its formula; each prior
equals a hand computation on a tiny volume and its gradient step moves the right way."""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf
from scipy.interpolate import RegularGridInterpolator
from scipy.spatial.transform import Rotation

from research.three_d.drv import priors, render, synthetic
from research.three_d.drv.model import DRV
from research.three_d.drv.warp import affine_params, mixture_warp, quaternion_to_matrix


def _affines(rotations: np.ndarray, scales: np.ndarray, translations: np.ndarray):
    return (tf.constant(rotations, tf.float64), tf.constant(scales, tf.float64), tf.constant(translations, tf.float64))


def test_identity_warp_renders_the_unwarped_volume():
    vol = synthetic.scene_volume(12, sharpness=5.0)
    rots, trans, centres = synthetic.orbit_cameras(2, seed=5)
    origins, directions = render.camera_rays(rots, trans, np.tile(synthetic.intrinsics(12), (2, 1)), 12, 12)
    lights = np.broadcast_to(centres[:, None] + np.array([0.5, 0.0, 0.0]), origins.shape)  # shadow rays too
    k = 3
    weights = np.random.default_rng(0).uniform(0.1, 2.0, (4, 4, 4, k))  # any positive weights
    rot, scale, shift = _affines(np.tile(np.eye(3), (k, 1, 1)), np.ones((k, 3)), np.zeros((k, 3)))

    def warp(p):
        return mixture_warp(p, rot, scale, shift, weights, -1.0, 1.0)

    kw = dict(intensity=12.0, num_samples=24, collocated=False, num_light_samples=6)
    plain, _ = render.render_rays(vol, origins, directions, lights, **kw)
    warped, _ = render.render_rays(vol, origins, directions, lights, warp=warp, **kw)
    assert float(np.max(plain)) > 0.1
    np.testing.assert_allclose(np.asarray(warped), np.asarray(plain), rtol=0, atol=1e-12)


def test_initial_decoder_warp_is_the_identity():
    """The decoder's warp starts as K identity affines: rendering with it equals rendering its template unwarped."""
    kw = dict(resolution=8, decoder=True, code_dim=8, base_resolution=2, decoder_channels=(8, 4), num_samples=8,
              num_light_samples=4, image_size=8)
    model = DRV(warp=True, warp_affines=3, warp_channels=(4,), **kw)
    rots, trans, centres = synthetic.orbit_cameras(1, seed=2)
    cam = np.concatenate([rots.reshape(1, 9), trans, synthetic.intrinsics(8)[None]], -1).astype(np.float32)
    got = np.asarray(model.render_image(cam, centres.astype(np.float32) + 0.3))
    origins, directions = render.camera_rays(rots.astype(np.float32), trans, synthetic.intrinsics(8)[None], 8, 8)
    want, _ = render.render_rays(model.raw_volume(), origins, directions, centres[:, None] + 0.3, model.intensity(),
                                 num_samples=8, collocated=False, num_light_samples=4)
    np.testing.assert_allclose(got.reshape(1, -1, 3), np.asarray(want), atol=1e-6)


def _blob_volume(res: int, centre, radius: float) -> np.ndarray:
    """Raw channels: a soft opaque ball (alpha logit +8 inside, -20 outside: no haze), normals along +x."""
    g = np.linspace(-1.0, 1.0, res)
    x = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1)
    vol = np.zeros((res, res, res, 8))
    vol[..., 0] = 14.0 * np.tanh(20.0 * (radius - np.linalg.norm(x - np.asarray(centre), axis=-1))) - 6.0
    vol[..., 1] = 1.0
    return vol


def _opacity_image(vol, warp, n: int = 41):
    """Accumulated opacity of orthographic rays along +z through an n x n grid of (x, y) in [-1, 1]^2."""
    g = np.linspace(-0.975, 0.975, n)
    xy = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    origins = np.concatenate([xy, np.full((len(xy), 1), -3.0)], -1)
    directions = np.tile([0.0, 0.0, 1.0], (len(xy), 1))
    _, w = render.render_rays(vol, origins, directions, origins, 1.0, num_samples=96, warp=warp)
    return xy, np.asarray(w).sum(-1)


def test_known_affine_warp_moves_the_rendered_blob():
    """Template blob at c (radius 0.25); A(x) = R (s x) + t (R: 90 degrees about z, s = 1.25) puts it at
    A^-1(c) = R^T (c - t) / s with radius 0.25 / s. Two identical affines (any weights) act as one."""
    c, t, s = np.array([0.4, 0.0, 0.0]), np.array([0.1, -0.2, 0.0]), 1.25
    vol = _blob_volume(48, c, 0.25)
    r = Rotation.from_euler("z", 90, degrees=True).as_matrix()
    rot, scale, shift = _affines(np.stack([r, r]), np.full((2, 3), s), np.stack([t, t]))
    weights = np.random.default_rng(1).uniform(0.5, 1.5, (6, 6, 6, 2))

    def warp(p):
        return mixture_warp(p, rot, scale, shift, weights, -1.0, 1.0)

    xy, plain = _opacity_image(vol, None)
    _, moved = _opacity_image(vol, warp)
    centroid = lambda a: (a[:, None] * xy).sum(0) / a.sum()  # noqa: E731
    np.testing.assert_allclose(centroid(plain), c[:2], atol=0.01)
    expected = r.T @ (c - t) / s  # (0.16, -0.24, 0)
    np.testing.assert_allclose(centroid(moved), expected[:2], atol=0.01)
    assert abs(moved.sum() / plain.sum() - 1.0 / s**2) < 0.05  # projected area shrinks by 1 / s^2


def test_mixture_warp_equals_its_formula():
    """W(x) = sum_k w_k(A_k x) A_k x / sum_k w_k(A_k x), weights read in each warp's frame (scipy lookup)."""
    rng = np.random.default_rng(3)
    k, res = 3, 5
    quat = rng.normal(size=(k, 4))
    raw = np.concatenate([rng.normal(0, 0.2, (k, 3)), quat, rng.normal(0, 0.2, (k, 3))], -1)
    rot, scale, shift = (np.asarray(a) for a in affine_params(tf.constant(raw)))
    np.testing.assert_allclose(rot, Rotation.from_quat(quat[:, [1, 2, 3, 0]]).as_matrix(), atol=1e-12)
    weights = rng.uniform(0.1, 3.0, (res, res, res, k))
    points = rng.uniform(-1.0, 1.0, (50, 3))
    got = np.asarray(mixture_warp(points, rot, scale, shift, weights, -1.0, 1.0))
    grid = (np.linspace(-1.0, 1.0, res),) * 3
    ys = [points * scale[i] @ rot[i].T + shift[i] for i in range(k)]
    ws = [RegularGridInterpolator(grid, weights[..., i])(np.clip(ys[i], -1.0, 1.0)) for i in range(k)]
    want = sum(w[:, None] * y for w, y in zip(ws, ys, strict=True)) / sum(ws)[:, None]
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert np.abs(got - points).max() > 0.05  # not the identity
    np.testing.assert_allclose(np.asarray(quaternion_to_matrix(tf.constant([[2.0, 0, 0, 0]]))), [np.eye(3)])


def _beta(a: float) -> float:
    return math.log(0.1 + a) + math.log(1.1 - a) - math.log(0.1) - math.log(1.1)


def test_opacity_beta_prior_value_and_gradient():
    """A uniform 4^3 volume (alpha logit z) crossed along x: every ray's opacity is 1 - exp(-(2 / voxel) softplus(z))
    = 1 - exp(-3 softplus(z)); the model's added loss is weight * beta(a) and its gradient lowers a below 0.5 and
    raises it above."""
    rays = 5
    yz = np.random.default_rng(4).uniform(-0.9, 0.9, (rays, 2))
    origins = np.concatenate([np.full((rays, 1), -3.0), yz], -1).astype(np.float32)
    inputs = {"origins": origins[None], "directions": np.tile([[[1.0, 0.0, 0.0]]], (1, rays, 1)).astype(np.float32),
              "light": origins[None]}
    for z, sign in ((-2.0, 1.0), (0.0, -1.0)):
        model = DRV(resolution=4, num_samples=8, opacity_prior_weight=0.5)
        vol = np.zeros((4, 4, 4, 8), np.float32)
        vol[..., 0] = z
        model.volume.assign(vol)
        a = 1.0 - math.exp(-3.0 * math.log1p(math.exp(z)))
        with tf.GradientTape() as tape:
            model(inputs, training=True)
            (loss,) = model.losses
        assert abs(float(loss) - 0.5 * _beta(a)) < 1e-5, (z, a, float(loss))
        grad = tape.gradient(loss, model.volume).numpy()
        assert sign * grad[..., 0].sum() > 0 and np.all(grad[..., 1:] == 0), z  # descent: a -> 0 (z=-2), -> 1 (z=0)
    model(inputs, training=False)
    assert not model.losses  # evaluation keeps the plain L2


def test_normal_consistency_prior_value_and_gradient():
    """Random raw 4^3 volume: the prior equals numpy's |grad a|-weighted 1 - n . (-grad a / |grad a|) over the
    2^3 interior voxels (np.gradient's central differences); a gradient step turns normals towards -grad a and
    leaves the opacity alone; the model adds weight * prior."""
    rng = np.random.default_rng(5)
    raw = rng.normal(size=(4, 4, 4, 8))
    voxel = 2.0 / 3.0
    alpha = 1.0 / (1.0 + np.exp(-raw[..., 0]))
    g = np.stack(np.gradient(alpha, voxel), -1)[1:-1, 1:-1, 1:-1]
    n = raw[1:-1, 1:-1, 1:-1, 1:4]
    n = n / np.linalg.norm(n, axis=-1, keepdims=True)
    mag = np.linalg.norm(g, axis=-1)
    cos = -(n * g).sum(-1) / mag
    want = (mag * (1 - cos)).sum() / mag.sum()
    volume = tf.Variable(raw)
    with tf.GradientTape() as tape:
        got = priors.normal_consistency(volume, voxel)
    assert abs(float(got) - want) < 1e-10
    grad = tape.gradient(got, volume).numpy()
    assert np.all(grad[..., 0] == 0) and np.all(grad[..., 4:] == 0)
    stepped = raw - 0.05 * grad
    n2 = stepped[1:-1, 1:-1, 1:-1, 1:4]
    cos2 = -(n2 / np.linalg.norm(n2, axis=-1, keepdims=True) * g).sum(-1) / mag
    assert np.all(cos2 >= cos - 1e-12) and (cos2 - cos).max() > 1e-3
    assert float(priors.normal_consistency(stepped, voxel)) < want
    model = DRV(resolution=4, num_samples=4, normal_prior_weight=0.25)
    model.volume.assign(raw.astype(np.float32))
    model(model.example_inputs(1, rays=4), training=True)
    assert abs(float(model.losses[0]) - 0.25 * want) < 1e-5
