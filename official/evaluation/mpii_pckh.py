"""MPII PCKh (head-normalised PCK), the protocol of HRNet / RSN's `evaluate` (gt_valid.mat layout).

RSN `dataset/MPII/mpii.py` evaluate ("referring msra high resolution", = HRNet `lib/dataset/mpii.py`):
- a joint is correct when ||pred - gt|| <= threshold * SC_BIAS * ||head box diagonal||, SC_BIAS = 0.6
  (the head box is [[x1, y1], [x2, y2]] per person); only visible joints count (jnt_visible =
  1 - jnt_missing);
- per joint PCKh = 100 * correct / visible; groups Head (head top), Shoulder, Elbow, Wrist, Hip, Knee,
  Ankle average the left and right joints' PCKh;
- "Mean" pools all joints except positions 6 and 7 (pelvis, thorax), each weighted by its visible
  count (= correct / visible over the 14 joints; upper neck and head top are included);
- "Mean@0.1" is the scripts' figure: pckAll[11] of thresholds np.arange(0, 0.51, 0.01), i.e. a
  threshold of 0.11, not 0.1. We keep that number for comparison with published logs and report
  the true 0.1 threshold as "PCKh@0.1".

Coordinates: gt_valid.mat holds 1-based MATLAB pixels. Predictions from this repo's decoder (like RSN's
and HRNet's) are 0-based (RSN subtracts 1 from the annotated centres and joints when loading), so
`one_based=False` (default) adds 1.0 to them first, as both scripts do (`preds + 1.0`).

Array layout (HRNet's gt_valid.mat): pos_gt_src (16, 2, N), jnt_visible (16, N), headboxes_src
(2, 2, N); predictions (N, 16, 2). numpy / scipy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SC_BIAS = 0.6
# dataset_joints of gt_valid.mat = the MPII joint ids 0-15.
MPII_JOINTS = (
    "rank",
    "rkne",
    "rhip",
    "lhip",
    "lkne",
    "lank",
    "pelv",
    "thor",
    "neck",
    "head",
    "rwri",
    "relb",
    "rsho",
    "lsho",
    "lelb",
    "lwri",
)
GROUPS = (
    ("Head", ("head",)),
    ("Shoulder", ("lsho", "rsho")),
    ("Elbow", ("lelb", "relb")),
    ("Wrist", ("lwri", "rwri")),
    ("Hip", ("lhip", "rhip")),
    ("Knee", ("lkne", "rkne")),
    ("Ankle", ("lank", "rank")),
)
EXCLUDED_FROM_MEAN = (6, 7)  # the scripts mask positions 6:8 (pelvis, thorax)
REFERENCE_THRESHOLDS = np.arange(0, 0.5 + 0.01, 0.01)  # the scripts' pckAll thresholds


def load_gt_mat(path: str) -> dict[str, Any]:
    """Reads HRNet's gt_valid.mat: {pos_gt_src, jnt_visible (= 1 - jnt_missing), headboxes_src, joint_names}."""
    from scipy.io import loadmat

    mat = loadmat(path)
    for key in ("pos_gt_src", "jnt_missing", "headboxes_src"):
        if key not in mat:
            raise KeyError(f"{path}: missing '{key}' (not an MPII gt_valid.mat)")
    names = MPII_JOINTS
    if "dataset_joints" in mat:
        names = tuple(str(np.squeeze(v)) for v in np.asarray(mat["dataset_joints"], object).ravel())
    return {
        "pos_gt_src": np.asarray(mat["pos_gt_src"], np.float64),
        "jnt_visible": 1 - np.asarray(mat["jnt_missing"]),
        "headboxes_src": np.asarray(mat["headboxes_src"], np.float64),
        "joint_names": names,
    }


def scaled_errors(
    preds: Any, pos_gt_src: Any, jnt_visible: Any, headboxes_src: Any, one_based: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(16, N) error / (SC_BIAS * head diagonal), zeroed where invisible; and jnt_visible (16, N)."""
    preds = np.asarray(preds, np.float64)[:, :, :2]
    if not one_based:
        preds = preds + 1.0
    gt = np.asarray(pos_gt_src, np.float64)
    visible = np.asarray(jnt_visible)
    heads = np.asarray(headboxes_src, np.float64)
    if preds.shape[0] != gt.shape[2]:
        raise ValueError(f"{preds.shape[0]} predictions for {gt.shape[2]} ground-truth persons")
    error = np.linalg.norm(np.transpose(preds, (1, 2, 0)) - gt, axis=1)  # (16, N)
    head_size = np.linalg.norm(heads[1] - heads[0], axis=0) * SC_BIAS  # (N,)
    with np.errstate(divide="ignore", invalid="ignore"):
        return error / head_size * visible, visible


def _pck(scaled: np.ndarray, visible: np.ndarray, threshold: float) -> np.ndarray:
    correct = np.sum((scaled <= threshold) * visible, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 100.0 * correct / np.sum(visible, axis=1)


def _mean(pck: np.ndarray, counts: np.ndarray) -> float:
    keep = np.ones(pck.shape[0], bool)
    keep[list(EXCLUDED_FROM_MEAN)] = False
    return float(np.sum(pck[keep] * counts[keep]) / np.sum(counts[keep]))


def evaluate_pckh(
    preds: Any,
    pos_gt_src: Any,
    jnt_visible: Any,
    headboxes_src: Any,
    one_based: bool = False,
    joint_names: tuple[str, ...] = MPII_JOINTS,
    threshold: float = 0.5,
) -> dict[str, Any]:
    """MPII PCKh in percent (see the module docstring).

    Args:
      preds: (N, 16, 2) predicted (x, y); 0-based pixels unless `one_based`.
      pos_gt_src: (16, 2, N) 1-based ground truth; jnt_visible: (16, N) 1/0; headboxes_src: (2, 2, N).
      joint_names: the order of the 16 joints (gt_valid.mat's dataset_joints).
      threshold: the PCKh threshold of the per-joint and group numbers and "Mean" (0.5).
    Returns:
      {"Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "Mean", "Mean@0.1", "PCKh@0.1"}
      floats and "per_joint" (16,) PCKh at `threshold`.
    """
    scaled, visible = scaled_errors(preds, pos_gt_src, jnt_visible, headboxes_src, one_based)
    counts = np.sum(visible, axis=1).astype(np.float64)
    pck = _pck(scaled, visible, threshold)
    index = {name: i for i, name in enumerate(joint_names)}
    out: dict[str, Any] = {name: float(np.mean([pck[index[j]] for j in joints])) for name, joints in GROUPS}
    out["Mean"] = _mean(pck, counts)
    out["Mean@0.1"] = _mean(_pck(scaled, visible, float(REFERENCE_THRESHOLDS[11])), counts)
    out["PCKh@0.1"] = _mean(_pck(scaled, visible, 0.1), counts)
    out["per_joint"] = pck
    return out


class MpiiPckhEvaluator:
    """Collects (N, 16, 2) predictions in ground-truth order and reports `evaluate_pckh`."""

    def __init__(self, gt: str | dict[str, Any], one_based: bool = False):
        self.gt = load_gt_mat(gt) if isinstance(gt, str) else dict(gt)
        self.gt.setdefault("joint_names", MPII_JOINTS)
        self.one_based = one_based
        self.preds: list[np.ndarray] = []

    def add(self, preds: Any) -> None:
        """Appends a batch of (n, 16, 2) or (n, 16, 3) predictions (a score column is dropped)."""
        preds = np.asarray(preds, np.float64)
        self.preds.append(preds.reshape(-1, 16, preds.shape[-1])[:, :, :2])

    def evaluate(self, preds: Any = None) -> dict[str, Any]:
        """`evaluate_pckh` of `preds` (None = everything added, in order)."""
        preds = np.concatenate(self.preds) if preds is None else preds
        g = self.gt
        return evaluate_pckh(
            preds,
            g["pos_gt_src"],
            g["jnt_visible"],
            g["headboxes_src"],
            self.one_based,
            tuple(g["joint_names"]),
        )
