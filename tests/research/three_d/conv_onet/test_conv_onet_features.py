"""ConvONet spec-card checks 2-5: cell indices and scatters against np.add.at / np.maximum.at, bilinear and
trilinear reads against scipy.ndimage.map_coordinates, permutation invariance, translation equivariance."""

import numpy as np
import pytest
from scipy import ndimage

from research.three_d.conv_onet import features as F
from research.three_d.conv_onet.model import ConvONet

RES = 8
AXES = {"xz": (0, 2), "xy": (0, 1), "yz": (1, 2)}  # spec card / src/common.py normalize_coordinate


def _points(n=200, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.uniform(-0.55, 0.55, (2, n, 3)).astype(np.float32)
    # the cube's corners and faces, and points outside it: clipped into valid cells
    p[0, :6] = [[0.55, 0.55, 0.55], [-0.55, -0.55, -0.55], [0.7, -0.7, 0.0], [0.5, 0.0, -0.5], [0, 0, 0],
                [0.54999, 0.3, -0.6]]
    return p


def _numpy_cells(p, plane):
    """The authors' normalize_coordinate + coordinate2index in numpy (float32 like their tensors)."""
    a, b = AXES[plane]
    u = p[..., [a, b]] / np.float32(1 + 0.1 + 1e-5) + np.float32(0.5)
    u[u >= 1] = 1 - 1e-5
    u[u < 0] = 0
    x = (u * RES).astype(np.int64)
    return x[..., 0] + RES * x[..., 1]


@pytest.mark.parametrize("plane", ["xz", "xy", "yz"])
def test_cell_index_and_scatter_mean_match_numpy(plane):
    """Check 2: the flat cell index and scatter-mean equal np.add.at sums / counts exactly; boundary and
    outside points land in valid cells; empty cells are 0."""
    p = _points()
    feats = np.random.default_rng(1).normal(size=(2, p.shape[1], 5)).astype(np.float32)
    index = np.asarray(F.cell_index(F.plane_coordinates(p, plane), RES))
    want_index = _numpy_cells(p, plane)
    np.testing.assert_array_equal(index, want_index)
    assert index.min() >= 0 and index.max() < RES * RES
    assert index[0, 0] == RES * RES - 1 and index[0, 1] == 0  # the far corner and the near corner
    got = np.asarray(F.scatter_mean(feats, index, RES * RES))
    total = np.zeros((2, RES * RES, 5))
    count = np.zeros((2, RES * RES, 1))
    for b in range(2):
        np.add.at(total[b], want_index[b], feats[b])
        np.add.at(count[b], want_index[b], 1.0)
    want = total / np.maximum(count, 1)
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert np.all(got[count[..., 0] == 0] == 0)


def test_scatter_max_and_gather_match_numpy():
    """Local pooling: scatter-max per cell (np.maximum.at), read back at each point; empty cells 0."""
    p = _points()
    feats = np.random.default_rng(2).normal(size=(2, p.shape[1], 4)).astype(np.float32)
    index = _numpy_cells(p, "xz")
    got = np.asarray(F.gather_cells(F.scatter_max(feats, index.astype(np.int32), RES * RES), index.astype(np.int32)))
    top = np.full((2, RES * RES, 4), -np.inf)
    for b in range(2):
        np.maximum.at(top[b], index[b], feats[b])
    np.testing.assert_allclose(got, np.take_along_axis(top, index[..., None], 1), atol=0)
    cells = np.asarray(F.scatter_max(feats, index.astype(np.int32), RES * RES))
    assert np.all(cells[~np.isfinite(top)] == 0)


def test_bilinear_plane_read_matches_map_coordinates():
    """Check 3: grid_sample(align_corners=True, border) = map_coordinates(order=1, mode='nearest') at
    pixel (row = u1 (R - 1), col = u0 (R - 1)), borders included, to 1e-6."""
    rng = np.random.default_rng(3)
    plane = rng.normal(size=(2, RES, RES, 3)).astype(np.float32)
    u = rng.uniform(0, 1, (2, 50, 2)).astype(np.float32)
    u[0, :4] = [[0, 0], [1 - 1e-5, 1 - 1e-5], [0, 1 - 1e-5], [0.5, 0]]
    got = np.asarray(F.sample_plane(plane, u))
    for b in range(2):
        for c in range(3):
            want = ndimage.map_coordinates(plane[b, :, :, c].astype(np.float64),
                                           [u[b, :, 1] * (RES - 1), u[b, :, 0] * (RES - 1)], order=1, mode="nearest")
            np.testing.assert_allclose(got[b, :, c], want, atol=1e-6)


def test_trilinear_grid_read_matches_map_coordinates():
    """Check 3 for the grid: the [z][y][x] grid read trilinearly at (x, y, z) = u (R - 1)."""
    rng = np.random.default_rng(4)
    grid = rng.normal(size=(1, RES, RES, RES, 2)).astype(np.float32)
    u = rng.uniform(0, 1, (1, 40, 3)).astype(np.float32)
    u[0, :2] = [[0, 0, 0], [1 - 1e-3, 1 - 1e-3, 1 - 1e-3]]
    got = np.asarray(F.sample_grid(grid, u))
    for c in range(2):
        want = ndimage.map_coordinates(grid[0, ..., c].astype(np.float64), (u[0, :, ::-1] * (RES - 1)).T,
                                       order=1, mode="nearest")
        np.testing.assert_allclose(got[0, :, c], want, atol=1e-6)


def _tiny(**kwargs):
    import keras

    from tests.helpers import randomise_weights

    keras.utils.set_random_seed(0)
    args = dict(plane_resolution=RES * 2, unet_depth=2, unet_filters=4, hidden_dim=8, c_dim=8, decoder_hidden=8)
    model = ConvONet(**{**args, **kwargs})
    randomise_weights(model, 0)
    return model


def test_permutation_invariance():
    """Check 4: shuffling the input points changes no plane feature and no decoder output (1e-6)."""
    model = _tiny()
    p = _points(300)
    q = np.random.default_rng(5).uniform(-0.55, 0.55, (2, 64, 3)).astype(np.float32)
    perm = np.random.default_rng(6).permutation(p.shape[1])
    f1, f2 = model.encode(p)["planes"], model.encode(p[:, perm])["planes"]
    scale = float(np.max(np.abs(f1)))
    assert scale > 1e-2
    np.testing.assert_allclose(np.asarray(f2), np.asarray(f1), atol=1e-6 * max(scale, 1))
    out1 = np.asarray(model({"points": p, "queries": q}))
    out2 = np.asarray(model({"points": p[:, perm], "queries": q}))
    np.testing.assert_allclose(out2, out1, atol=1e-6 * max(1.0, float(np.max(np.abs(out1)))))


def test_grid_translation_equivariance():
    """Check 5 (grid variant): a cloud shifted by exactly one voxel scatters the same point features one
    cell further (exactly), and the 3D U-Net maps a grid shifted by 2^(levels - 1) cells (its pooling
    stride) to an output shifted the same in the interior. The point MLP itself sees absolute
    coordinates (fc_pos), so the whole encoder is not equivariant: the check is on the two shift-free parts."""
    import keras

    from research.three_d.conv_onet.unet import UNet3D
    from tests.helpers import randomise_weights

    res = 8
    rng = np.random.default_rng(7)
    cells = rng.integers(1, res - 2, (1, 60, 3))
    p = (((cells + 0.5) / res - 0.5) * (1.1 + 1e-3)).astype(np.float32)
    shifted = p + np.array([(1.1 + 1e-3) / res, 0, 0], np.float32)
    feats = rng.normal(size=(1, 60, 4)).astype(np.float32)
    idx = F.cell_index(F.grid_coordinates(p), res)
    idx2 = F.cell_index(F.grid_coordinates(shifted), res)
    np.testing.assert_array_equal(np.asarray(idx2), np.asarray(idx) + 1)  # [z][y][x]: x is the fastest axis
    g1 = np.asarray(F.scatter_mean(feats, idx, res ** 3)).reshape(res, res, res, 4)
    g2 = np.asarray(F.scatter_mean(feats, idx2, res ** 3)).reshape(res, res, res, 4)
    np.testing.assert_array_equal(g2[:, :, 1:], g1[:, :, :-1])
    assert not g1[:, :, -1].any() and np.abs(g1).max() > 0.1

    keras.utils.set_random_seed(0)
    size = 40
    unet = UNet3D(8, 3, num_levels=2, f_maps=8)
    unet.build((None, size, size, size, 8))
    randomise_weights(unet, 0)
    grid = np.zeros((1, size, size, size, 8), np.float32)
    grid[0, 17:21, 17:21, 17:21] = rng.normal(size=(4, 4, 4, 8))
    out1 = np.asarray(unet(grid))[0]
    out2 = np.asarray(unet(np.roll(grid, 2, axis=3)))[0]
    # m: the receptive field's reach from the zero-padded border. GroupNorm's statistics span the whole
    # grid, so far-away border responses leave a ~1e-5 relative residue in the interior.
    m, s = 8, 2
    inner1, inner2 = out1[m:-m, m:-m, m:-m - s], out2[m:-m, m:-m, m + s:-m]
    assert np.abs(inner1).max() > 1.0
    np.testing.assert_allclose(inner2, inner1, atol=1e-3)
    assert np.abs(out2[m:-m, m:-m, m:-m - s] - inner1).max() > 0.1  # unshifted differs: the check has teeth


def test_projection_is_scatter_mean_of_point_features():
    """The planes (before the U-Net) are the per-cell MEANS of the encoder's point features, plane by
    plane in xz, xy, yz order (np.add.at reference on the model's own point features)."""
    model = _tiny(unet_depth=0)
    p = _points(300)
    c, _ = model.encoder.point_features(p)
    c = np.asarray(c)
    planes = np.asarray(model.encode(p)["planes"])
    res = RES * 2
    for k, plane in enumerate(("xz", "xy", "yz")):
        a, b = AXES[plane]
        u = np.clip(p[..., [a, b]] / np.float32(1.1 + 1e-5) + np.float32(0.5), 0, 1 - 1e-5)
        cells = (u * res).astype(np.int64)
        index = cells[..., 0] + res * cells[..., 1]
        for batch in range(2):
            total, count = np.zeros((res * res, c.shape[-1])), np.zeros((res * res, 1))
            np.add.at(total, index[batch], c[batch])
            np.add.at(count, index[batch], 1.0)
            want = (total / np.maximum(count, 1)).reshape(res, res, -1)
            np.testing.assert_allclose(planes[batch, k], want, atol=1e-5)
