"""The paper's metrics on numpy arrays: gesture top-1 (%), hand MEPE (mm), PCK AUC over 0-50 mm, 2D error.

MEPE (mean end-point error) = mean Euclidean joint distance in the camera frame (official/evaluation/pose3d
`mpjpe`); `mepe` uses the ground-truth root depth to lift the predicted 2.5D pose (a stated protocol,
(unverified) which root the paper assumes), `mepe_rootrel` subtracts the wrist from both. The PCK curve
counts joints with error <= threshold (the hand-pose convention) at thresholds 0..50 mm, and its AUC is the
trapezoidal area / 50 (pose3d.pck_auc(method="trapz")). `err2d_hm` is the mean 2D joint distance on the
heatmap grid (spec check 7).
"""

from __future__ import annotations

import numpy as np

from official.evaluation import pose3d


def top1(logits: np.ndarray, labels: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Percent of clips whose arg-max class equals the label (over mask == 1 clips)."""
    hits = (np.argmax(np.asarray(logits), -1) == np.asarray(labels)).astype(np.float64)
    if mask is not None:
        keep = np.asarray(mask) > 0
        hits = hits[keep]
    return float(100.0 * hits.mean()) if hits.size else float("nan")


def pose_metrics(pred_cam: np.ndarray, gt_cam: np.ndarray, pred_hm: np.ndarray, gt_hm: np.ndarray,
                 max_mm: float = 50.0, step_mm: float = 1.0) -> dict[str, float]:
    """pred/gt camera joints (N, J, 3) mm and heatmap-pixel joints (N, J, 2) -> MEPE, PCK AUC, 2D error."""
    pred_cam, gt_cam = np.asarray(pred_cam, np.float64), np.asarray(gt_cam, np.float64)
    thresholds = np.arange(0.0, max_mm + step_mm / 2, step_mm)
    return {
        "mepe": pose3d.mpjpe(pred_cam, gt_cam),
        "mepe_rootrel": pose3d.mpjpe(pred_cam, gt_cam, root=0),
        "pck_auc": pose3d.pck_auc(pred_cam, gt_cam, thresholds, method="trapz", inclusive=True),
        "pck_20mm": pose3d.pck3d(pred_cam, gt_cam, 20.0, inclusive=True),
        "err2d_hm": float(np.mean(np.linalg.norm(np.asarray(pred_hm) - np.asarray(gt_hm), axis=-1))),
    }
