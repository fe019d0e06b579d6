"""Mask2CAD evaluation (numpy + trimesh + cKDTree): mesh F1@0.3 in the Pix3D protocol, rotation accuracy and
median error, CAD retrieval top-1.

Mesh F1 (Mesh R-CNN's Pix3D protocol, which Mask2CAD's AP^mesh uses; spec card `Metrics`): sample points
uniformly on the surfaces of the predicted and GT meshes (both already in the camera frame), scale BOTH by
10 / (longest edge of the GT mesh's axis-aligned bounding box), then precision = share of predicted points
whose nearest GT point is closer than the threshold, recall = the same from GT to prediction, and
F1 = 2 P R / (P + R) (0 when both are 0). Mesh R-CNN samples 10,000 points per mesh and reports percent;
we return fractions in [0, 1]. Strict "< threshold" as Mesh R-CNN's `dists < t`.
"""

from __future__ import annotations

import numpy as np
import trimesh

from official.evaluation import point_metrics
from official.evaluation.average_precision import interpolated_average_precision
from research.three_d.mask2cad.rotation_bins import q_angle

F1_THRESHOLD = 0.3  # AP^mesh: F1@0.3 after the GT-longest-edge-10 normalisation
TARGET_EDGE = 10.0  # the GT's longest bounding-box edge after scaling
NUM_SAMPLES = 10000  # points per mesh (Mesh R-CNN's evaluation)
ROTATION_ACC_DEG = 30.0  # rotation accuracy: geodesic error below 30 degrees


def sample_surface(vertices: np.ndarray, faces: np.ndarray, count: int = NUM_SAMPLES, seed: int = 0) -> np.ndarray:
    """`count` points (count, 3) uniformly on a triangle mesh's surface (area-weighted, trimesh)."""
    mesh = trimesh.Trimesh(np.asarray(vertices, np.float64), np.asarray(faces, np.int64), process=False)
    points, _ = trimesh.sample.sample_surface(mesh, count, seed=seed)
    return np.asarray(points)


def gt_scale(gt_vertices: np.ndarray, target_edge: float = TARGET_EDGE) -> float:
    """10 / longest edge of the GT vertices' axis-aligned bounding box."""
    v = np.asarray(gt_vertices, np.float64).reshape(-1, 3)
    edge = float(np.max(v.max(axis=0) - v.min(axis=0)))
    if edge <= 0:
        raise ValueError("gt_scale: the GT mesh has a degenerate (zero-size) bounding box")
    return target_edge / edge


def points_f1(pred_points: np.ndarray, gt_points: np.ndarray, scale: float,
              threshold: float = F1_THRESHOLD) -> dict[str, float]:
    """F1, precision, recall of point sets after multiplying both by `scale`."""
    pred = np.asarray(pred_points, np.float64) * scale
    gt = np.asarray(gt_points, np.float64) * scale
    if len(pred) == 0 or len(gt) == 0:
        return {"f1": 0.0, "precision": 0.0, "recall": 0.0}
    to_gt, _ = point_metrics.nearest_distances(pred, gt)
    to_pred, _ = point_metrics.nearest_distances(gt, pred)
    precision = float(np.mean(to_gt < threshold))
    recall = float(np.mean(to_pred < threshold))
    total = precision + recall
    return {"f1": 2 * precision * recall / total if total > 0 else 0.0, "precision": precision, "recall": recall}


def mesh_f1(pred_vertices, pred_faces, gt_vertices, gt_faces, threshold: float = F1_THRESHOLD,
            num_samples: int = NUM_SAMPLES, seed: int = 0) -> dict[str, float]:
    """Pix3D-protocol mesh F1@threshold of a predicted mesh against the GT mesh (both in the camera frame)."""
    pred = sample_surface(pred_vertices, pred_faces, num_samples, seed)
    gt = sample_surface(gt_vertices, gt_faces, num_samples, seed + 1)
    return points_f1(pred, gt, gt_scale(gt_vertices), threshold)


def rotation_errors_deg(q_pred: np.ndarray, q_gt: np.ndarray) -> np.ndarray:
    """Geodesic angles (N,) in degrees between [w, x, y, z] quaternions (sign-invariant)."""
    return np.degrees(q_angle(np.asarray(q_pred).reshape(-1, 4), np.asarray(q_gt).reshape(-1, 4)))


def rotation_metrics(q_pred: np.ndarray, q_gt: np.ndarray, threshold_deg: float = ROTATION_ACC_DEG) -> dict:
    """Rotation accuracy (share of errors < threshold) and the median error in degrees."""
    err = rotation_errors_deg(q_pred, q_gt)
    return {"rotation_accuracy": float(np.mean(err < threshold_deg)), "median_rotation_error_deg": float(np.median(err))}


def retrieval_top1(pred_models: np.ndarray, gt_models: np.ndarray) -> float:
    """Share of objects whose retrieved CAD model id is the GT model id."""
    pred, gt = np.asarray(pred_models).reshape(-1), np.asarray(gt_models).reshape(-1)
    return float(np.mean(pred == gt)) if len(gt) else 0.0


def average_precision(scores: np.ndarray, similarity: np.ndarray, num_gt: int, threshold: float = 0.5) -> float:
    """AP of one category from detection scores (N,) and a detection-by-GT similarity (N, G) (mesh F1@0.3
    for AP^mesh, box or mask IoU for AP^box / AP^mask; -inf or 0 where a GT is in another image).

    Detections in descending score claim the unclaimed GT of highest similarity; a claim with similarity
    above `threshold` is a true positive (Mesh R-CNN's Pix3D AP^mesh: F1@0.3 > 0.5). AP is the area under
    the precision envelope over all recall points (VOC 2010+; official/evaluation/average_precision.py).
    """
    scores = np.asarray(scores, np.float64).reshape(-1)
    if num_gt == 0:
        return float("nan")
    if len(scores) == 0:
        return 0.0
    similarity = np.asarray(similarity, np.float64).reshape(len(scores), -1)
    claimed = np.zeros(similarity.shape[1], bool)
    tp = np.zeros(len(scores))
    for i in np.argsort(-scores, kind="stable"):
        sims = np.where(claimed, -np.inf, similarity[i])
        if sims.size and np.max(sims) > threshold:
            j = int(np.argmax(sims))
            claimed[j] = True
            tp[i] = 1.0
    if not tp.any():
        return 0.0
    # all-point interpolated AP over the detections' ranking, rescaled from "recall of the detected" to
    # recall of all num_gt objects (missed objects cap the recall below 1)
    return interpolated_average_precision(scores, tp) * float(tp.sum()) / num_gt
