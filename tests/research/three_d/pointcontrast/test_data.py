"""ScanNet-pair reader/writer and the pair pipeline (PointContrast card checks 3-4, real data format)."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest
import tensorflow as tf
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from official.core.errors import PathNotFoundError
from official.data import scannet_pairs, shapes3d
from research.three_d.pointcontrast import pairs


def _write_fixture(root: str) -> None:
    """Two frames of one scene in the official layout, a broken frame and a list with a bad line."""
    rng = np.random.default_rng(0)
    folder = os.path.join(root, "data_f25", "scene0001_00", "pcd")
    os.makedirs(folder)
    cloud = rng.uniform(0, 1, (500, 3)).astype(np.float32)
    np.savez(os.path.join(folder, "0.npz"), pcd=cloud[:350])
    np.savez(os.path.join(folder, "25.npz"), pcd=cloud[150:])
    np.savez(os.path.join(folder, "50.npz"), points=cloud)  # wrong key
    lines = ["data_f25/scene0001_00/pcd/0.npz data_f25/scene0001_00/pcd/25.npz 0.571",
             "data_f25/scene0001_00/pcd/0.npz data_f25/scene0001_00/pcd/50.npz 0.9",
             "data_f25/scene0001_00/pcd/0.npz data_f25/scene0001_00/pcd/missing.npz 0.5",
             "data_f25/scene0001_00/pcd/0.npz data_f25/scene0001_00/pcd/25.npz not_a_number"]
    with open(os.path.join(root, "overlap-30.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def test_reader_counts_and_skips_bad_records(tmp_path, caplog):
    root = str(tmp_path)
    _write_fixture(root)
    reader = scannet_pairs.PairReader(root, "overlap-30.txt")
    assert len(reader) == 3 and reader.bad_lines == 1
    with caplog.at_level(logging.WARNING):
        got = list(reader.generate(np.arange(3)))
    assert len(got) == 1 and reader.skipped == 2
    assert got[0]["points0"].shape == (350, 3) and got[0]["points1"].shape == (350, 3)
    text = caplog.text
    assert "50.npz: pcd: key missing" in text and "missing.npz: pcd: unreadable" in text
    with pytest.raises(PathNotFoundError, match="nope.txt: pair list not found"):
        scannet_pairs.PairReader(root, "nope.txt")
    assert "1 malformed list lines, 2 unreadable" in reader.summary()


def test_writer_makes_overlapping_views(tmp_path):
    rng = np.random.default_rng(0)
    meshes = [(i, k, shapes3d.primitive_mesh(k, rng)) for i, k in enumerate(("box", "sphere", "cone"))]
    counts = scannet_pairs.write_scannet_pairs(str(tmp_path), {"train": meshes}, rng)
    assert counts == {"train": 3}
    reader = scannet_pairs.PairReader(str(tmp_path), "train.txt")
    for p0, p1, overlap in reader.pairs:
        a, b = (scannet_pairs.load_cloud(os.path.join(str(tmp_path), p)) for p in (p0, p1))
        assert 0.3 <= overlap < 1.0 and abs(overlap - scannet_pairs.overlap_ratio(a, b)) < 1e-5
        assert not np.array_equal(a, b)


def test_rotation_is_the_matrix_exponential():
    axis, angle = np.array([0.3, -0.2, 0.45], np.float32), 2.1
    want = Rotation.from_rotvec(axis / np.linalg.norm(axis) * angle).as_matrix()
    np.testing.assert_allclose(pairs.rodrigues(tf.constant(axis), tf.constant(angle)).numpy(), want, atol=1e-6)


def test_pair_matches_equal_kdtree_radius_search():
    rng = np.random.default_rng(3)
    world = (rng.uniform(0, 1, (900, 3)) * [1.0, 0.15, 0.05]).astype(np.float32)  # a slab: a wrong T misplaces it
    example = {"points0": world[:600], "points1": world[300:]}
    voxel = 0.05
    out = pairs.process_pair(example, tf.constant([0, 7], tf.int64), voxel, 512, 32, 1.5, 360.0, False, 9)
    out = {k: np.asarray(v) for k, v in out.items()}
    m0, m1 = out["mask0"] > 0, out["mask1"] > 0
    # one kept point per occupied voxel of the rotated cloud
    assert m0.sum() == len(np.unique(np.floor(out["points0"][m0] / voxel), axis=0))
    assert np.all(out["coords0"][m0] >= 0) and np.all(out["coords0"][m0] % 16 == np.floor(out["points0"][m0] / voxel) % 16)
    # T = T1 inv(T0) takes view 0 onto view 1: the shared world points land on view 1's
    t = out["transform"]
    moved = p0 = out["points0"] @ t[:, :3].T + t[:, 3]
    p1 = out["points1"]
    tree = cKDTree(p1[m1])
    d, _ = tree.query(moved[m0], k=1)
    assert np.median(d) < voxel
    ids = np.flatnonzero(m1)
    for i in np.flatnonzero(m0):
        want = set(ids[tree.query_ball_point(moved[i], 1.5 * voxel * (1 - 1e-5))])
        got = set(out["matches"][i][out["matches"][i] >= 0])
        near = set(ids[tree.query_ball_point(moved[i], 1.5 * voxel * (1 + 1e-5))])
        assert want <= got <= near, i
        for j in got:
            assert np.linalg.norm(p0[i] - p1[j]) <= 1.5 * voxel + 1e-5
    assert np.all(out["matches"][~m0] == -1) and (out["matches"][m0, 0] >= 0).mean() > 0.3
    # the views were rotated: their coordinates differ from the world's
    assert np.abs(out["points0"][m0].mean(0)).max() < 0.1 and not np.allclose(t[:, :3], np.eye(3), atol=0.1)
