"""official/ops/integral_decode.py against a float64 numpy reference: delta volumes decode to their voxel
exactly, Gaussian blobs to their centre within 1e-3 voxel, gradients match the analytic softmax gradient,
decoding is translation-equivariant; plus the JAX parity of soft_argmax_3d and camera project /
back_project (one subprocess for both modules)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from official.ops import camera
from official.ops import integral_decode as idec
from tests import helpers

H, W, J, D = 8, 10, 3, 6  # distinct sizes so a swapped axis shows


def _numpy_soft_argmax_3d(volumes: np.ndarray, joints: int, depth: int, beta: float = 1.0) -> np.ndarray:
    """(B, H, W, J*D) -> (B, J, 3) (x, y, z): softmax over each joint's voxels, expectation of indices."""
    b, h, w, _ = volumes.shape
    logits = beta * volumes.astype(np.float64).reshape(b, h, w, joints, depth)
    logits -= logits.max(axis=(1, 2, 4), keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=(1, 2, 4), keepdims=True)
    ys, xs, zs = np.meshgrid(np.arange(h), np.arange(w), np.arange(depth), indexing="ij")
    x = np.einsum("bhwjd,hwd->bj", p, xs)
    y = np.einsum("bhwjd,hwd->bj", p, ys)
    z = np.einsum("bhwjd,hwd->bj", p, zs)
    return np.stack([x, y, z], -1)


def _gaussian_log_volume(centres: np.ndarray, size: int, sigma: float) -> np.ndarray:
    """(B, S, S, J*S) log of Gaussian blobs at (x, y, z) centres (B, J, 3): softmax gives the Gaussian."""
    ys, xs, zs = np.meshgrid(np.arange(size), np.arange(size), np.arange(size), indexing="ij")
    grid = np.stack([xs, ys, zs], -1)[None, :, :, None]  # (1, S, S, 1, S, 3)
    d2 = ((grid - centres[:, None, None, :, None, :]) ** 2).sum(-1)  # (B, S, S, J, S)
    return (-d2 / (2 * sigma**2)).reshape(len(centres), size, size, -1).astype(np.float32)


def test_delta_volume_decodes_to_its_voxel_exactly():
    vol = np.zeros((2, H, W, J * D), np.float32)
    voxels = np.array([[[0, 0, 0], [9, 7, 5], [3, 6, 2]], [[5, 1, 4], [1, 2, 3], [9, 0, 5]]])  # (x, y, z)
    for b in range(2):
        for j, (x, y, z) in enumerate(voxels[b]):
            vol[b, y, x, j * D + z] = 1.0  # channel j * D + d
    got = np.asarray(idec.soft_argmax_3d(vol, J, D, beta=1000.0))
    np.testing.assert_array_equal(got, voxels.astype(np.float32))
    # 2D: a delta heatmap decodes to its pixel (x, y) exactly.
    hm = np.zeros((1, H, W, 2), np.float32)
    hm[0, 6, 2, 0] = hm[0, 1, 9, 1] = 1.0
    np.testing.assert_array_equal(
        np.asarray(idec.soft_argmax_2d(hm, beta=1000.0)), [[[2.0, 6.0], [9.0, 1.0]]]
    )


def test_gaussian_blob_decodes_to_its_centre_within_1e3_voxel():
    # sigma 1 voxel, centres >= 5 sigma from the borders: sampling and truncation errors are < 1e-6.
    centres = np.array([[[7.3, 6.6, 8.2], [8.0, 7.0, 6.0], [7.71, 8.25, 7.9]]])
    got = np.asarray(idec.soft_argmax_3d(_gaussian_log_volume(centres, 16, 1.0), 3, 16))
    assert np.abs(got - centres).max() < 1e-3
    # 2D: the same with a log-Gaussian heatmap.
    ys, xs = np.mgrid[0:16, 0:18]
    hm = -(((xs - 8.4) ** 2 + (ys - 7.7) ** 2) / (2 * 1.1**2))[None, :, :, None].astype(np.float32)
    np.testing.assert_allclose(np.asarray(idec.soft_argmax_2d(hm))[0, 0], [8.4, 7.7], atol=1e-3)


def test_soft_argmax_matches_numpy_reference_with_large_logits():
    rng = np.random.default_rng(0)
    vol = rng.normal(scale=3.0, size=(2, H, W, J * D)).astype(np.float32) + 500.0  # exp would overflow
    for beta in (1.0, 2.5):
        got = np.asarray(idec.soft_argmax_3d(vol, J, D, beta=beta))
        np.testing.assert_allclose(got, _numpy_soft_argmax_3d(vol, J, D, beta), atol=2e-5)
    hm = rng.normal(size=(2, H, W, J)).astype(np.float32)
    ref = _numpy_soft_argmax_3d(hm, J, 1)[..., :2]  # a 2D heatmap is a volume with one depth bin
    np.testing.assert_allclose(np.asarray(idec.soft_argmax_2d(hm)), ref, atol=2e-5)


def test_gradient_is_finite_non_zero_and_equals_the_analytic_softmax_gradient():
    rng = np.random.default_rng(1)
    vol = tf.constant(rng.normal(size=(1, H, W, J * D)).astype(np.float32))
    weights = rng.normal(size=(1, J, 3)).astype(np.float32)
    with tf.GradientTape() as tape:
        tape.watch(vol)
        loss = tf.reduce_sum(idec.soft_argmax_3d(vol, J, D, beta=2.0) * weights)
    grad = tape.gradient(loss, vol).numpy().reshape(1, H, W, J, D)
    assert np.all(np.isfinite(grad)) and np.all(grad != 0.0)
    # d(w . E[c]) / d logit_v = beta * p_v * w . (c_v - E[c]).
    v = 2.0 * vol.numpy().astype(np.float64).reshape(1, H, W, J, D)
    p = np.exp(v - v.max(axis=(1, 2, 4), keepdims=True))
    p /= p.sum(axis=(1, 2, 4), keepdims=True)
    ys, xs, zs = np.meshgrid(np.arange(H), np.arange(W), np.arange(D), indexing="ij")
    coords = np.stack([xs, ys, zs], -1)[None, :, :, None]  # (1, H, W, 1, D, 3)
    mean = _numpy_soft_argmax_3d(vol.numpy(), J, D, 2.0)[:, None, None, :, None]  # (1, 1, 1, J, 1, 3)
    expected = 2.0 * p * ((coords - mean) * weights[:, None, None, :, None]).sum(-1)
    np.testing.assert_allclose(grad, expected, atol=1e-6)


def test_translation_equivariance():
    rng = np.random.default_rng(2)
    vol = np.full((1, H, W, J, D), -1e4, np.float32)  # support in an interior box only
    vol[:, 1:4, 2:5, :, 1:3] = rng.normal(size=(1, 3, 3, J, 2))
    base = np.asarray(idec.soft_argmax_3d(vol.reshape(1, H, W, J * D), J, D))
    shifted = np.roll(vol, shift=(3, 4, 2), axis=(1, 2, 4))  # +3 rows (y), +4 cols (x), +2 bins (z)
    got = np.asarray(idec.soft_argmax_3d(shifted.reshape(1, H, W, J * D), J, D))
    np.testing.assert_allclose(got - base, np.broadcast_to([4.0, 3.0, 2.0], base.shape), atol=1e-5)


def test_heatmap_pool_is_softmax_weighted_average():
    rng = np.random.default_rng(3)
    feats = rng.normal(size=(2, H, W, 5)).astype(np.float32)
    maps = rng.normal(size=(2, H, W, J)).astype(np.float32)
    p = np.exp(maps.reshape(2, H * W, J).astype(np.float64))
    p /= p.sum(1, keepdims=True)
    expected = np.einsum("bnj,bnc->bjc", p, feats.reshape(2, H * W, 5))
    np.testing.assert_allclose(np.asarray(idec.heatmap_pool(feats, maps)), expected, atol=1e-5)
    # A delta heatmap picks the feature at its pixel.
    delta = np.zeros((2, H, W, J), np.float32)
    delta[:, 3, 7, :] = 1.0
    np.testing.assert_allclose(
        np.asarray(idec.heatmap_pool(feats, delta, beta=1000.0)), np.repeat(feats[:, 3, 7][:, None], J, 1)
    )


def test_depth_bins_mm_follow_3dmppe_and_invert():
    z_mm = np.array([-1000.0, 0.0, 250.0, 1000.0])
    bins = idec.mm_to_depth_bins(z_mm)
    np.testing.assert_allclose(bins, [0.0, 32.0, 40.0, 64.0])  # (z / 1000 + 1) / 2 * 64
    np.testing.assert_allclose(idec.depth_bins_to_mm(bins), z_mm)
    np.testing.assert_allclose(
        idec.depth_bins_to_mm(np.array([8.0]), depth_bins=16, depth_range_mm=1000.0), [0.0]
    )


def test_wrong_channel_count_names_the_layout():
    with pytest.raises(ValueError, match="num_joints \\* depth_bins"):
        idec.soft_argmax_3d(np.zeros((1, H, W, 7), np.float32), J, D)


_JAX_SCRIPT = """
import sys
import numpy as np
import jax
import keras
assert keras.backend.backend() == "jax"
from official.ops import camera
from official.ops import integral_decode as idec
d = np.load(sys.argv[1])
j, dd = int(d["j"]), int(d["d"])
xyz = jax.jit(lambda v: idec.soft_argmax_3d(v, j, dd, beta=1.5))(d["vol"])
uv = jax.jit(camera.project)(d["cam"], d["focal"], d["center"])
back = jax.jit(camera.back_project)(d["uv"], d["z"], d["focal"], d["center"])
np.savez(sys.argv[2], xyz=np.asarray(xyz), uv=np.asarray(uv), back=np.asarray(back))
assert "tensorflow" not in sys.modules, "integral_decode / camera imported tensorflow"
"""


@pytest.mark.jax
def test_jax_backend_parity_of_soft_argmax_and_camera(tmp_path):
    import jax  # noqa: F401  required (pyproject extra "jax"): a missing install fails, never skips

    rng = np.random.default_rng(4)
    vol = rng.normal(scale=2.0, size=(2, H, W, J * D)).astype(np.float32)
    cam = (rng.normal(scale=300.0, size=(2, 5, 3)) + [0.0, 0.0, 5000.0]).astype(np.float32)
    focal = np.array([[1500.0, 1400.0], [1100.0, 1150.0]], np.float32)
    center = np.array([[320.0, 240.0], [300.0, 260.0]], np.float32)
    uv = np.asarray(camera.project(cam, focal, center))
    got = helpers.run_jax_script(
        _JAX_SCRIPT,
        tmp_path,
        vol=vol,
        j=np.array(J),
        d=np.array(D),
        cam=cam,
        focal=focal,
        center=center,
        uv=uv,
        z=cam[..., 2],
    )
    np.testing.assert_allclose(got["xyz"], np.asarray(idec.soft_argmax_3d(vol, J, D, beta=1.5)), atol=1e-5)
    np.testing.assert_allclose(got["uv"], uv, atol=1e-3)
    np.testing.assert_allclose(
        got["back"], np.asarray(camera.back_project(uv, cam[..., 2], focal, center)), atol=1e-3
    )


def test_traces_with_unknown_sizes_and_compiles_with_xla_with_camera_ops():
    vol = np.random.default_rng(5).normal(size=(2, H, W, J * D)).astype(np.float32)
    eager = np.asarray(idec.soft_argmax_3d(vol, J, D))
    dynamic = tf.function(
        lambda v: (idec.soft_argmax_3d(v, J, D), idec.heatmap_pool(v, v[..., :J]), idec.soft_argmax_2d(v)),
        input_signature=[tf.TensorSpec([None, None, None, J * D])],
    )
    xyz, pooled, xy = dynamic(vol)
    np.testing.assert_allclose(xyz, eager, atol=1e-6)
    np.testing.assert_allclose(pooled, np.asarray(idec.heatmap_pool(vol, vol[..., :J])), atol=1e-5)
    np.testing.assert_allclose(xy, np.asarray(idec.soft_argmax_2d(vol)), atol=1e-6)
    # One XLA compile for the integral decoder and the camera ops that follow it in the models.
    focal, center = np.array([1500.0, 1400.0], np.float32), np.array([4.0, 5.0], np.float32)

    def chain(v):
        xyz = idec.soft_argmax_3d(v, J, D) + np.array([0.0, 0.0, 10.0], np.float32)
        uv = camera.project(xyz, focal, center)
        return xyz, uv, camera.back_project(uv, xyz[..., 2], focal, center)

    for got, want in zip(tf.function(chain, jit_compile=True)(vol), chain(vol), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
