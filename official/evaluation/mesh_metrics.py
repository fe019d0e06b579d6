"""Mesh metrics of Occupancy Networks / Convolutional Occupancy Networks (numpy + trimesh + cKDTree).

Definitions as the official evaluation code computes them (autonomousvision/occupancy_networks
im2mesh/eval.py + common.compute_iou, convolutional_occupancy_networks src/eval.py):
- volumetric IoU: occupancies thresholded at >= 0.5, IoU per shape (arrays with ndim >= 2 are
  flattened per leading index); an empty union is 0/0 = NaN there, kept here (`empty_union` to change).
- accuracy = mean over predicted points of the Euclidean distance to the nearest ground-truth point;
  completeness = the same from ground truth to prediction; accuracy2 / completeness2 the means of the
  squared distances; Chamfer-L1 = 0.5 (accuracy + completeness); Chamfer-L2 = 0.5 (accuracy2 +
  completeness2).
- normal consistency: normals made unit, |cos| between a point's normal and its nearest neighbour's
  (absolute: generated meshes may have flipped faces), averaged each way; NC = 0.5 (both means).
- F-score@t: precision over predicted points, recall over ground-truth points, distance <= t
  (ConvONet reports t = 0.01, 0.015, 0.02 of the unit cube).
- an empty prediction (mesh without faces) scores the maxima for the [-0.5, 0.5]^3 box as ONet does:
  accuracy = completeness = sqrt(3), accuracy2 = completeness2 = 3 (so Chamfer-L1 = sqrt(3), L2 = 3),
  normal terms -1, IoU 0; and (our addition, ONet leaves them out) F-score, precision, recall 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from official.data.shapes3d import sample_surface
from official.evaluation.point_metrics import fscore_from_distances, nearest_distances

CONVONET_THRESHOLDS = (0.01, 0.015, 0.02)  # ConvONet's f-score, f-score-15, f-score-20


def occupancy_iou(occ_pred, occ_gt, threshold: float = 0.5, empty_union: float = np.nan):
    """IoU of occupancies >= threshold: a float for 1-D inputs, (B,) for (B, ...) inputs."""
    pred, gt = np.asarray(occ_pred), np.asarray(occ_gt)
    if pred.ndim >= 2:
        pred = pred.reshape(pred.shape[0], -1)
    if gt.ndim >= 2:
        gt = gt.reshape(gt.shape[0], -1)
    pred, gt = pred >= threshold, gt >= threshold
    union = (pred | gt).sum(axis=-1).astype(np.float64)
    inter = (pred & gt).sum(axis=-1).astype(np.float64)
    iou = np.where(union > 0, inter / np.maximum(union, 1.0), empty_union)
    return float(iou) if iou.ndim == 0 else iou


def _normal_agreement(src_normals, tgt_normals, idx):
    """|cos| between each source normal and its matched target normal (both made unit)."""
    src = src_normals / np.linalg.norm(src_normals, axis=-1, keepdims=True)
    tgt = tgt_normals / np.linalg.norm(tgt_normals, axis=-1, keepdims=True)
    return np.abs(np.sum(tgt[idx] * src, axis=-1))


def empty_prediction_scores(thresholds: Sequence[float] = CONVONET_THRESHOLDS, with_normals: bool = True) -> dict:
    """ONet's scores for an empty predicted mesh (maxima for the unit box), F-scores 0."""
    out = {
        "completeness": float(np.sqrt(3)), "accuracy": float(np.sqrt(3)), "completeness2": 3.0, "accuracy2": 3.0,
        "chamfer_l1": float(np.sqrt(3)), "chamfer_l2": 3.0,
    }  # fmt: skip
    if with_normals:
        out.update(normals_completeness=-1.0, normals_accuracy=-1.0, normal_consistency=-1.0)
    for t in thresholds:
        out.update({f"fscore@{t:g}": 0.0, f"precision@{t:g}": 0.0, f"recall@{t:g}": 0.0})
    return out


def mesh_distances(pred_points, pred_normals, gt_points, gt_normals,
                   thresholds: Sequence[float] = CONVONET_THRESHOLDS) -> dict:
    """ONet/ConvONet point-cloud scores of pred (N, 3) against gt (M, 3); normals (or None) (N, 3), (M, 3).

    Keys: completeness, accuracy, completeness2, accuracy2, chamfer_l1, chamfer_l2, normals_completeness,
    normals_accuracy, normal_consistency (NaN without normals), fscore@t, precision@t, recall@t.
    """
    pred_points = np.asarray(pred_points, dtype=np.float64).reshape(-1, 3)
    gt_points = np.asarray(gt_points, dtype=np.float64).reshape(-1, 3)
    with_normals = pred_normals is not None and gt_normals is not None
    if len(pred_points) == 0:
        return empty_prediction_scores(thresholds, with_normals)
    completeness, comp_idx = nearest_distances(gt_points, pred_points)
    accuracy, acc_idx = nearest_distances(pred_points, gt_points)
    if with_normals:
        pred_normals = np.asarray(pred_normals, dtype=np.float64).reshape(-1, 3)
        gt_normals = np.asarray(gt_normals, dtype=np.float64).reshape(-1, 3)
        normals_completeness = float(_normal_agreement(gt_normals, pred_normals, comp_idx).mean())
        normals_accuracy = float(_normal_agreement(pred_normals, gt_normals, acc_idx).mean())
    else:
        normals_completeness = normals_accuracy = float("nan")
    out = {
        "completeness": float(completeness.mean()),
        "accuracy": float(accuracy.mean()),
        "completeness2": float(np.mean(completeness**2)),
        "accuracy2": float(np.mean(accuracy**2)),
        "normals_completeness": normals_completeness,
        "normals_accuracy": normals_accuracy,
        "normal_consistency": 0.5 * (normals_completeness + normals_accuracy),
    }
    out["chamfer_l1"] = 0.5 * (out["completeness"] + out["accuracy"])
    out["chamfer_l2"] = 0.5 * (out["completeness2"] + out["accuracy2"])
    for t in thresholds:
        f, precision, recall = fscore_from_distances(accuracy, completeness, t)
        out.update({f"fscore@{t:g}": f, f"precision@{t:g}": precision, f"recall@{t:g}": recall})
    return out


def sample_mesh(mesh, n: int, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) area-uniform surface points and their face normals; (0, 3) arrays for an empty mesh."""
    if len(mesh.vertices) == 0 or len(mesh.faces) == 0:
        return np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32)
    return sample_surface(mesh, n, rng if rng is not None else np.random.default_rng(0))


def evaluate_mesh(mesh, gt_points, gt_normals, points_iou, occ_gt, n: int = 100_000,
                  rng: np.random.Generator | None = None, thresholds: Sequence[float] = CONVONET_THRESHOLDS) -> dict:
    """ONet's eval_mesh: n surface samples scored by mesh_distances, plus IoU of mesh.contains(points_iou)
    against occ_gt (0 for an empty mesh). The mesh should be watertight for `contains` to mean inside."""
    points, normals = sample_mesh(mesh, n, rng)
    out = mesh_distances(points, normals, gt_points, gt_normals, thresholds)
    if len(points) == 0:
        out["iou"] = 0.0
    else:
        out["iou"] = occupancy_iou(np.asarray(mesh.contains(np.asarray(points_iou)), dtype=bool), occ_gt)
    return out


def mesh_to_mesh_distances(pred_vertices, pred_faces, gt_vertices, gt_faces, n: int = 100_000,
                           rng: np.random.Generator | None = None,
                           thresholds: Sequence[float] = CONVONET_THRESHOLDS) -> dict:
    """`mesh_distances` (Chamfer-L1/L2, normal consistency, F-score@t) between two meshes given as arrays
    (V, 3) / (F, 3), e.g. from `official.data.mesh_io.load_mesh` or a model's deformed template: n
    area-uniform samples from each (the prediction first, then the ground truth, from one rng).
    `mesh_io.pad_mesh` arrays can be passed as they are: padded [0, 0, 0] faces have no area, so they are
    never sampled, and unreferenced padded vertices are never seen."""
    import trimesh

    rng = rng if rng is not None else np.random.default_rng(0)
    meshes = [trimesh.Trimesh(vertices=np.asarray(v, np.float64).reshape(-1, 3),
                              faces=np.asarray(f, np.int64).reshape(-1, 3), process=False)
              for v, f in ((pred_vertices, pred_faces), (gt_vertices, gt_faces))]  # fmt: skip
    if len(meshes[1].faces) == 0 or meshes[1].area <= 0:
        raise ValueError("mesh_to_mesh_distances: the ground-truth mesh has no surface to sample")
    if meshes[0].area <= 0:  # no faces, or only degenerate (padding) faces: ONet's empty-mesh scores
        return empty_prediction_scores(thresholds)
    pred_points, pred_normals = sample_mesh(meshes[0], n, rng)
    gt_points, gt_normals = sample_mesh(meshes[1], n, rng)
    return mesh_distances(pred_points, pred_normals, gt_points, gt_normals, thresholds)
