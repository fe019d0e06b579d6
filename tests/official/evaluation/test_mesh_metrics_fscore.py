"""Mesh-to-mesh F-score / Chamfer (mesh_metrics.mesh_to_mesh_distances) against a trimesh + pykdtree
reference written out here, on the same surface samples; padded arrays (mesh_io.pad_mesh) score the
same as the bare mesh; concentric spheres give the gap they were built with; an empty prediction scores
ONet's maxima."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from pykdtree.kdtree import KDTree

from official.data.mesh_io import pad_mesh
from official.evaluation import mesh_metrics

THRESHOLDS = (0.005, 0.01, 0.02)


def _reference(pred_mesh, gt_mesh, n, seed, thresholds):
    """Samples as the metric draws them (pred, then gt, one rng), scored with pykdtree by the definitions."""
    rng = np.random.default_rng(seed)
    pred = mesh_metrics.sample_mesh(pred_mesh, n, rng)[0].astype(np.float64)
    gt = mesh_metrics.sample_mesh(gt_mesh, n, rng)[0].astype(np.float64)
    acc = KDTree(gt).query(pred, k=1)[0]
    comp = KDTree(pred).query(gt, k=1)[0]
    ref = {"chamfer_l1": (acc.mean() + comp.mean()) / 2, "chamfer_l2": ((acc**2).mean() + (comp**2).mean()) / 2}
    for t in thresholds:
        p, r = (acc <= t).mean(), (comp <= t).mean()
        ref[f"precision@{t:g}"], ref[f"recall@{t:g}"] = p, r
        ref[f"fscore@{t:g}"] = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return ref


def test_deformed_sphere_equals_pykdtree_reference_and_padding_is_invisible():
    gt = trimesh.creation.icosphere(subdivisions=2, radius=0.4)
    rng = np.random.default_rng(0)
    pred_v = gt.vertices * rng.uniform(0.97, 1.03, (len(gt.vertices), 1)) + [0.004, 0.0, -0.002]
    pred = trimesh.Trimesh(pred_v, gt.faces, process=False)
    got = mesh_metrics.mesh_to_mesh_distances(pred_v, gt.faces, gt.vertices, gt.faces, n=3000,
                                              rng=np.random.default_rng(5), thresholds=THRESHOLDS)  # fmt: skip
    ref = _reference(pred, gt, 3000, 5, THRESHOLDS)
    for key, value in ref.items():
        np.testing.assert_allclose(got[key], value, atol=1e-9, err_msg=key)
    assert 0.0 < got["fscore@0.005"] < got["fscore@0.01"] < got["fscore@0.02"] <= 1.0
    padded = pad_mesh(pred_v, gt.faces, len(pred_v) + 17, len(gt.faces) + 9)
    again = mesh_metrics.mesh_to_mesh_distances(padded["vertices"], padded["faces"], gt.vertices, gt.faces, n=3000,
                                                rng=np.random.default_rng(5), thresholds=THRESHOLDS)  # fmt: skip
    for key, value in ref.items():  # float32 padded vertices: the same samples to float32 rounding
        np.testing.assert_allclose(again[key], value, atol=2e-6, err_msg=key)


def test_concentric_spheres_give_their_gap():
    """Radius 0.40 vs 0.42: every distance is >= 0.02 and, with 20k samples, below 0.024."""
    inner = trimesh.creation.icosphere(subdivisions=4, radius=0.40)
    outer = trimesh.creation.icosphere(subdivisions=4, radius=0.42)
    got = mesh_metrics.mesh_to_mesh_distances(outer.vertices, outer.faces, inner.vertices, inner.faces,
                                              n=20_000, thresholds=(0.015, 0.03))  # fmt: skip
    assert 0.0195 <= got["chamfer_l1"] < 0.024, got["chamfer_l1"]
    assert got["fscore@0.015"] == 0.0 and got["fscore@0.03"] == 1.0
    np.testing.assert_allclose(got["normal_consistency"], 1.0, atol=0.02)


def test_empty_prediction_and_empty_ground_truth():
    gt = trimesh.creation.icosphere(subdivisions=1, radius=0.4)
    padded_nothing = pad_mesh(np.zeros((0, 3)), np.zeros((0, 3)), 8, 4)
    for verts, faces in [(np.zeros((0, 3)), np.zeros((0, 3))), (padded_nothing["vertices"], padded_nothing["faces"])]:
        out = mesh_metrics.mesh_to_mesh_distances(verts, faces, gt.vertices, gt.faces, n=100)
        assert out == mesh_metrics.empty_prediction_scores()
    with pytest.raises(ValueError, match="ground-truth mesh has no surface"):
        mesh_metrics.mesh_to_mesh_distances(gt.vertices, gt.faces, gt.vertices, np.zeros((0, 3)), n=100)
