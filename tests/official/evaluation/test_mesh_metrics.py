"""ONet/ConvONet mesh metrics (conv_onet card check 7): identical meshes give IoU 1, Chamfer 0, NC 1,
F 1; a mesh against its 0.01-translated copy equals an independent pykdtree computation to 1e-6;
flipped normals still agree (|cos|); an empty mesh scores ONet's maxima and IoU 0; IoU by hand."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from pykdtree.kdtree import KDTree

from official.evaluation import mesh_metrics


@pytest.fixture(scope="module")
def sphere():
    return trimesh.creation.icosphere(subdivisions=2, radius=0.4)


def test_occupancy_iou_by_hand():
    pred = np.array([[0.9, 0.6, 0.2, 0.0], [0.5, 0.5, 0.0, 0.0]])
    gt = np.array([[1, 0, 1, 0], [1, 1, 0, 0]])
    # shape 0: pred {0, 1}, gt {0, 2} -> 1/3; shape 1: 0.5 counts as occupied -> 2/2
    np.testing.assert_allclose(mesh_metrics.occupancy_iou(pred, gt), [1 / 3, 1.0])
    assert mesh_metrics.occupancy_iou(np.ones(5), np.ones(5)) == 1.0
    assert np.isnan(mesh_metrics.occupancy_iou(np.zeros(4), np.zeros(4)))  # 0 / 0 as ONet's compute_iou
    assert mesh_metrics.occupancy_iou(np.zeros(4), np.zeros(4), empty_union=1.0) == 1.0
    grid = np.zeros((2, 4, 4, 4))
    grid[0, :2] = 1
    np.testing.assert_allclose(mesh_metrics.occupancy_iou(grid, grid), [1.0, np.nan])


def test_identical_meshes_and_flipped_normals(sphere):
    rng = np.random.default_rng(0)
    points, normals = mesh_metrics.sample_mesh(sphere, 2000, rng)
    occ_points = rng.uniform(-0.55, 0.55, (300, 3))
    out = mesh_metrics.evaluate_mesh(sphere, points, normals, occ_points, sphere.contains(occ_points), n=2000,
                                     rng=np.random.default_rng(0))
    assert out["iou"] == 1.0 and out["chamfer_l1"] == 0.0 and out["chamfer_l2"] == 0.0
    np.testing.assert_allclose(out["normal_consistency"], 1.0, atol=1e-12)
    assert all(out[f"fscore@{t:g}"] == 1.0 for t in mesh_metrics.CONVONET_THRESHOLDS)
    flipped = mesh_metrics.mesh_distances(points, -normals, points, normals)
    np.testing.assert_allclose(flipped["normal_consistency"], 1.0, atol=1e-12)


def _pykdtree_reference(pred, pred_n, gt, gt_n, thresholds):
    """ONet's definitions written out independently with pykdtree."""
    acc, acc_i = KDTree(gt).query(pred, k=1)
    comp, comp_i = KDTree(pred).query(gt, k=1)
    unit = lambda n: n / np.linalg.norm(n, axis=1, keepdims=True)  # noqa: E731
    nc_acc = np.abs((unit(pred_n) * unit(gt_n)[acc_i]).sum(1)).mean()
    nc_comp = np.abs((unit(gt_n) * unit(pred_n)[comp_i]).sum(1)).mean()
    ref = {"chamfer_l1": (acc.mean() + comp.mean()) / 2, "chamfer_l2": ((acc**2).mean() + (comp**2).mean()) / 2,
           "normal_consistency": (nc_acc + nc_comp) / 2, "accuracy": acc.mean(), "completeness": comp.mean()}
    for t in thresholds:
        p, r = (acc <= t).mean(), (comp <= t).mean()
        ref[f"fscore@{t:g}"] = 2 * p * r / (p + r)
    return ref


def test_translated_copy_equals_pykdtree_reference(sphere):
    moved = sphere.copy()
    moved.apply_translation([0.01, 0.0, 0.0])
    gt, gt_n = mesh_metrics.sample_mesh(sphere, 3000, np.random.default_rng(1))
    pred, pred_n = mesh_metrics.sample_mesh(moved, 2500, np.random.default_rng(2))
    thresholds = (0.005, 0.01, 0.02)
    got = mesh_metrics.mesh_distances(pred, pred_n, gt, gt_n, thresholds)
    ref = _pykdtree_reference(pred.astype(np.float64), pred_n.astype(np.float64), gt.astype(np.float64),
                              gt_n.astype(np.float64), thresholds)
    for key, value in ref.items():
        np.testing.assert_allclose(got[key], value, atol=1e-6, err_msg=key)
    assert 0.005 < got["chamfer_l1"] < 0.03 and 0.0 < got["fscore@0.005"] < got["fscore@0.02"] <= 1.0
    occ_points = np.random.default_rng(3).uniform(-0.55, 0.55, (400, 3))
    inside_gt, inside_moved = sphere.contains(occ_points), moved.contains(occ_points)
    want_iou = (inside_gt & inside_moved).sum() / (inside_gt | inside_moved).sum()
    out = mesh_metrics.evaluate_mesh(moved, gt, gt_n, occ_points, inside_gt, n=2500, rng=np.random.default_rng(2))
    np.testing.assert_allclose(out["iou"], want_iou, atol=1e-12)
    np.testing.assert_allclose(out["chamfer_l1"], got["chamfer_l1"], atol=1e-12)  # same samples, same score


def test_empty_mesh_scores_onet_maxima():
    gt = np.random.default_rng(4).uniform(-0.5, 0.5, (50, 3))
    out = mesh_metrics.evaluate_mesh(trimesh.Trimesh(), gt, gt, gt, np.ones(50, bool), n=100)
    assert out["iou"] == 0.0 and out["accuracy"] == out["completeness"] == np.sqrt(3)
    assert out["chamfer_l1"] == np.sqrt(3) and out["chamfer_l2"] == 3.0 and out["normal_consistency"] == -1.0
    assert out["fscore@0.01"] == 0.0
