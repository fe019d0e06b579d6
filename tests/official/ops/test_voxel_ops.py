"""voxel_ops against dense TensorFlow convolutions and numpy voxelisation (PointContrast card checks 1, 3)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from official.ops import voxel_ops

BITS = 5


def _grid_coords(size: int) -> np.ndarray:
    return np.stack(np.meshgrid(*[np.arange(size)] * 3, indexing="ij"), -1).reshape(-1, 3).astype(np.int32)


def _sparse_set(size: int, keep: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Active voxels of a size^3 grid (in shuffled order, + 5 padded slots) and their mask."""
    coords = _grid_coords(size)
    coords = coords[rng.random(len(coords)) < keep] if keep < 1 else coords
    coords = coords[rng.permutation(len(coords))]
    pad = np.zeros((5, 3), np.int32)
    return np.concatenate([coords, pad]), np.concatenate([np.ones(len(coords), bool), np.zeros(5, bool)])


def _dense(coords, mask, feats, size):
    grid = np.zeros((1, size, size, size, feats.shape[1]), np.float32)
    c = coords[mask]
    grid[0, c[:, 0], c[:, 1], c[:, 2]] = feats[mask]
    return grid


def _filter(kernel: np.ndarray) -> np.ndarray:
    """(K, Cin, Cout) MinkowskiEngine-order kernel -> conv3d filter (k, k, k, Cin, Cout) indexed [x, y, z]."""
    k = round(kernel.shape[0] ** (1 / 3))
    return kernel.reshape(k, k, k, *kernel.shape[1:]).transpose(2, 1, 0, 3, 4)  # stored [z][y][x]


@pytest.mark.parametrize("keep", [1.0, 0.4])
def test_submanifold_conv_equals_conv3d_same(keep):
    rng = np.random.default_rng(0)
    size = 8
    coords, mask = _sparse_set(size, keep, rng)
    feats = rng.normal(size=(len(coords), 3)).astype(np.float32)
    kernel = rng.normal(size=(27, 3, 4)).astype(np.float32)
    batch = np.zeros(len(coords), np.int32)
    table = voxel_ops.key_table(voxel_ops.linear_keys(coords, batch, mask, BITS))
    kmap = voxel_ops.conv_kernel_map(table, coords, batch, mask, 3, 1, BITS)
    got = np.asarray(voxel_ops.sparse_conv(feats, kmap, kernel))
    dense = tf.nn.conv3d(_dense(coords, mask, feats, size), _filter(kernel), [1] * 5, "SAME").numpy()[0]
    c = coords[mask]
    np.testing.assert_allclose(got[mask], dense[c[:, 0], c[:, 1], c[:, 2]], atol=1e-5)
    assert np.all(np.asarray(kmap)[~mask] == -1)


@pytest.mark.parametrize("keep", [1.0, 0.4])
def test_strided_and_transposed_conv_equal_dense(keep):
    rng = np.random.default_rng(1)
    size = 8
    coords, mask = _sparse_set(size, keep, rng)
    batch = np.zeros(len(coords), np.int32)
    feats = rng.normal(size=(len(coords), 3)).astype(np.float32)
    fine = voxel_ops.key_table(voxel_ops.linear_keys(coords, batch, mask, BITS))
    cc, cb, cm = (np.asarray(t) for t in voxel_ops.downsample(coords, batch, mask, 2, BITS))
    # the coarse set is np.unique of floor(c / 2)
    want = np.unique(coords[mask] // 2, axis=0)
    np.testing.assert_array_equal(cc[cm], want)
    assert cm.sum() == len(want) and np.all(cb[cm] == 0)
    # stride-2 2x2x2 conv == conv3d VALID stride 2 at the coarse active sites
    kernel = rng.normal(size=(8, 3, 5)).astype(np.float32)
    down = voxel_ops.conv_kernel_map(fine, cc, cb, cm, 2, 2, BITS)
    got = np.asarray(voxel_ops.sparse_conv(feats, down, kernel))
    dense = tf.nn.conv3d(_dense(coords, mask, feats, size), _filter(kernel), [1, 2, 2, 2, 1], "VALID").numpy()[0]
    np.testing.assert_allclose(got[cm], dense[want[:, 0], want[:, 1], want[:, 2]], atol=1e-5)
    # transposed 2x2x2 stride-2 conv back onto the fine voxels == conv3d_transpose at the fine sites
    coarse_feats = rng.normal(size=(len(cc), 5)).astype(np.float32)
    kernel_t = rng.normal(size=(8, 5, 2)).astype(np.float32)
    coarse = voxel_ops.key_table(voxel_ops.linear_keys(cc, cb, cm, BITS))
    up = voxel_ops.transposed_kernel_map(coarse, coords, batch, mask, 2, 2, BITS)
    got_t = np.asarray(voxel_ops.sparse_conv(coarse_feats, up, kernel_t))
    half = size // 2
    filt = _filter(kernel_t).transpose(0, 1, 2, 4, 3)  # conv3d_transpose filters are (.., out, in)
    dense_t = tf.nn.conv3d_transpose(_dense(cc, cm, coarse_feats, half), filt, [1, size, size, size, 2],
                                     [1, 2, 2, 2, 1], "VALID").numpy()[0]
    c = coords[mask]
    np.testing.assert_allclose(got_t[mask], dense_t[c[:, 0], c[:, 1], c[:, 2]], atol=1e-5)
    # each fine voxel reads exactly one coarse parent
    assert np.all((np.asarray(up)[mask] >= 0).sum(1) == 1)


def test_stride2_odd_kernel_equals_conv3d():
    """A 3^3 stride-2 conv (MinkowskiEngine: centred on the output's fine coordinate) == conv3d SAME, stride 2."""
    rng = np.random.default_rng(2)
    coords, mask = _sparse_set(8, 1.0, rng)
    batch = np.zeros(len(coords), np.int32)
    feats = rng.normal(size=(len(coords), 2)).astype(np.float32)
    kernel = rng.normal(size=(27, 2, 3)).astype(np.float32)
    fine = voxel_ops.key_table(voxel_ops.linear_keys(coords, batch, mask, BITS))
    cc, cb, cm = (np.asarray(t) for t in voxel_ops.downsample(coords, batch, mask, 2, BITS))
    got = np.asarray(voxel_ops.sparse_conv(feats, voxel_ops.conv_kernel_map(fine, cc, cb, cm, 3, 2, BITS), kernel))
    padded = np.pad(_dense(coords, mask, feats, 8), [(0, 0), (1, 1), (1, 1), (1, 1), (0, 0)])
    dense = tf.nn.conv3d(padded, _filter(kernel), [1, 2, 2, 2, 1], "VALID").numpy()[0]
    c = cc[cm]
    np.testing.assert_allclose(got[cm], dense[c[:, 0], c[:, 1], c[:, 2]], atol=1e-5)


def test_batches_do_not_mix():
    """Two samples with the same coordinates see only their own neighbours."""
    coords = np.concatenate([_grid_coords(3), _grid_coords(3)])
    batch = np.repeat(np.arange(2, dtype=np.int32), 27)
    mask = np.ones(54, bool)
    feats = np.concatenate([np.ones((27, 1)), np.zeros((27, 1))]).astype(np.float32)
    table = voxel_ops.key_table(voxel_ops.linear_keys(coords, batch, mask, BITS))
    kmap = np.asarray(voxel_ops.conv_kernel_map(table, coords, batch, mask, 3, 1, BITS))
    out = np.asarray(voxel_ops.sparse_conv(feats, kmap, np.ones((27, 1, 1), np.float32)))
    assert out[13, 0] == 27 and np.all(out[27:] == 0)


def test_voxelize_matches_numpy_unique():
    rng = np.random.default_rng(3)
    points = rng.uniform(-0.3, 0.2, size=(400, 3)).astype(np.float32)
    mask = np.ones(400, bool)
    mask[-20:] = False
    feats = rng.normal(size=(400, 2)).astype(np.float32)
    size = 0.025
    out = {k: np.asarray(v) for k, v in voxel_ops.voxelize(points, mask, size, 512, feats).items()}
    grid = np.floor(points[mask] / size).astype(np.int64)
    uniq, first, inverse = np.unique(grid, axis=0, return_index=True, return_inverse=True)
    n = len(uniq)
    assert int(out["num_voxels"]) == n and out["voxel_mask"].sum() == n
    np.testing.assert_array_equal(out["coords"][:n] + out["origin"], uniq)
    np.testing.assert_array_equal(out["point_index"][:n], first)  # one point per voxel: the first
    np.testing.assert_array_equal(out["point_to_voxel"][mask], inverse.reshape(-1))
    assert np.all(out["point_to_voxel"][~mask] == -1) and np.all(out["point_index"][n:] == -1)
    means = np.stack([feats[mask][inverse.reshape(-1) == v].mean(0) for v in range(n)])
    np.testing.assert_allclose(out["voxel_features"][:n], means, atol=1e-5)
    # a capacity below the count keeps the first voxels in (x, y, z) order and maps the rest to -1
    small = {k: np.asarray(v) for k, v in voxel_ops.voxelize(points, mask, size, 10, feats).items()}
    np.testing.assert_array_equal(small["coords"] + small["origin"], uniq[:10])
    assert set(np.unique(small["point_to_voxel"])) <= set(range(-1, 10))
