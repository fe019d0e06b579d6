"""FAUST-2500 reader (official/data/faust.py) on the capsule fixture written in the authors' layouts."""

from __future__ import annotations

import os

import numpy as np
import pytest

from official.core.errors import PathNotFoundError, UserError
from official.data import faust
from official.ops.heat_geodesics import edge_graph_distances
from research.three_d.limp.synthetic import write_fixture


@pytest.mark.parametrize("fmt", ["vert_triv", "off", "ply"])
def test_reads_the_fixture_layouts(tmp_path, fmt):
    written = write_fixture(str(tmp_path), fmt=fmt)
    meshes = faust.load_faust2500(str(tmp_path), "all", num_meshes=12, num_train=9, poses_per_subject=3)
    assert len(meshes) == 12 and meshes.skipped == []
    np.testing.assert_array_equal(meshes.faces, written["faces"])
    np.testing.assert_array_equal(meshes.identity, written["identity"])
    expected = written["vertices"].copy()
    expected[..., 1] -= expected[..., 1].min(axis=1, keepdims=True) + 0.85  # the authors' y shift
    np.testing.assert_allclose(meshes.vertices, expected, atol=1e-6)
    test = faust.load_faust2500(str(tmp_path), "test", num_meshes=12, num_train=9, poses_per_subject=3)
    np.testing.assert_array_equal(test.index, [9, 10, 11])
    np.testing.assert_array_equal(test.identity, [3, 3, 3])


def test_faust_defaults_and_bad_files(tmp_path, caplog):
    write_fixture(str(tmp_path), fmt="vert_triv")
    raw = os.path.join(str(tmp_path), "raw")
    with open(os.path.join(raw, "tr_reg_004_2000", "mesh.vert"), "w") as f:
        f.write("1 2\n")  # malformed vertex row
    os.rename(os.path.join(raw, "tr_reg_005_2000"), os.path.join(raw, "unused"))  # missing entry
    meshes = faust.load_faust2500(str(tmp_path), "train")  # FAUST defaults: first 80, identity = index // 10
    np.testing.assert_array_equal(meshes.index, [0, 1, 2, 3, 6, 7, 8, 9, 10, 11])
    np.testing.assert_array_equal(meshes.identity, [0] * 8 + [1, 1])
    assert len(meshes.skipped) == 2 + 68  # the bad file, the missing one and indices 12..79 absent
    assert "tr_reg_004_2000" in meshes.skipped[0][0] and "skipped 70 of 80" in caplog.text
    with pytest.raises(faust.FaustFormatError, match="no usable test mesh"):
        faust.load_faust2500(str(tmp_path), "test")
    with pytest.raises(PathNotFoundError, match="nowhere/raw"):
        faust.load_faust2500(str(tmp_path / "nowhere"))


def test_geodesic_cache_and_dijkstra_bound(tmp_path):
    write_fixture(str(tmp_path), fmt="off", subjects=2, poses=1)
    meshes = faust.load_faust2500(str(tmp_path), "all", num_meshes=2, num_train=2, poses_per_subject=1)
    dg = faust.geodesics(str(tmp_path), meshes, t=None)
    assert dg.shape == (2, 194, 194) and os.path.isfile(os.path.join(str(tmp_path), "processed", "geodesics_th2.npz"))
    for v, d in zip(meshes.vertices, dg, strict=False):
        graph = edge_graph_distances(v, meshes.faces)
        # Dijkstra on edges is an upper bound; the heat method on this coarse tube is within 3 % of the diameter
        assert np.all(d <= graph + 0.03 * graph.max())
        assert 0.0 < np.mean((graph - d)[graph > 0] / graph[graph > 0]) < 0.2
    again = faust.geodesics(str(tmp_path), meshes, t=None)
    np.testing.assert_array_equal(again, dg)


def test_tf_dataset_augments_and_pairs():
    rng = np.random.default_rng(0)
    vertices = rng.normal(size=(6, 20, 3)).astype(np.float32)
    meshes = faust.FaustMeshes(vertices, np.zeros((1, 3), np.int32), np.array([0, 0, 0, 1, 1, 2], np.int32),
                               np.arange(6, dtype=np.int32), [])
    batch = next(iter(faust.dataset(meshes, 4, training=True, seed=1)))
    pts, orig = batch["points"].numpy(), batch["vertices"].numpy()
    for p, o in zip(pts, orig, strict=False):  # a rotation about y (+ 5 mm jitter): y kept, |xz| kept, not the identity
        assert np.abs(p[:, 1] - o[:, 1]).max() <= 0.005 + 1e-6
        assert np.abs(np.hypot(p[:, 0], p[:, 2]) - np.hypot(o[:, 0], o[:, 2])).max() < 0.02
    assert np.abs(pts - orig).max() > 0.01
    ident = meshes.identity
    tables = faust.pair_tables(ident)
    assert len(tables["all"]) == 30 and len(tables["same"]) == 8 and len(tables["different"]) == 22
    drawn = [next(it) for it in [iter(faust.pair_dataset(ident, 64, seed=3))] for _ in range(2)]
    for d in drawn:
        intra, inter, interp = (d[k].numpy() for k in ("intra_pair", "inter_pair", "interp_pair"))
        assert intra.shape == inter.shape == interp.shape == (64, 2)
        assert np.all(ident[intra[:, 0]] == ident[intra[:, 1]]) and np.all(intra[:, 0] != intra[:, 1])
        assert np.all(ident[inter[:, 0]] != ident[inter[:, 1]]) and np.all(interp[:, 0] != interp[:, 1])
        alphas = d["alphas"].numpy()
        assert alphas.shape == (64, 3) and 0.0 <= alphas.min() and alphas.max() < 1.0 and 0.3 < alphas.mean() < 0.7
        assert len({tuple(p) for p in intra}) == 8  # every same-subject pair is drawn (uniform over the table)
    assert not np.array_equal(drawn[0]["interp_pair"].numpy(), drawn[1]["interp_pair"].numpy())
    with pytest.raises(UserError, match="two meshes"):
        faust.pair_dataset(np.arange(4), 1)
