"""3D pose metrics (numpy): MPJPE, PA-MPJPE (Procrustes), 3DPCK and its AUC, PCP, and person matching.

Poses are (N, J, D) arrays (D = 3, millimetres; a single (J, D) pose is taken as N = 1). An optional
`mask` (N, J) marks valid joints (bool or 0/1); metrics average over valid joints only, and a mask that
selects no joint gives nan (nothing to average), never a warning. Empty inputs and mismatched shapes
raise ValueError naming the argument.

Definitions and the sources they follow:
- MPJPE: mean Euclidean joint error, after subtracting each pose's root joint when `root` is given
  (Human3.6M protocol 1 with root = pelvis). `root` may be a tuple of joints (their mean is the root).
- PA-MPJPE: MPJPE after the similarity transform (scale s, rotation R with det R = +1, translation) that
  best maps the prediction onto the ground truth in least squares (Umeyama 1991: SVD of the 3x3
  cross-covariance; when its optimal orthogonal factor is a reflection, the smallest singular direction
  is flipped). `scale=False` fits rotation + translation only, as 3DMPPE's `rigid_align` does; the
  HMR / VideoPose3D `p_mpjpe` form, and our default, includes the scale. Tests compare with
  scipy.spatial.procrustes (which allows reflections, so only on inputs where it picks a rotation) and
  with a scipy Rotation.align_vectors (Kabsch) reference on arbitrary inputs, to 1e-6.
- 3DPCK / AUC (MuPoTS-3D, `mpii_compute_3d_pck.m`): a joint is correct when its error is STRICTLY below
  the threshold (150 mm); the AUC is the MEAN of the PCK curve over thresholds 0:5:150 (31 values, so a
  perfect prediction has AUC 100 * 30 / 31 since nothing is < 0). `method="trapz"` gives the
  trapezoidal area divided by the threshold span instead (the hand-pose convention: 0-50 mm, np.trapz
  of the curve / 50), and `inclusive=True` counts error <= threshold.
- PCP (mvpose `src/m_utils/evaluate.py` is_right, Shelf / Campus): a limb (a, b) is correct when the MEAN
  of its two endpoint errors is <= alpha * the GT limb length, alpha = 0.5. `rule="both"` is the classic
  stricter PCP (each endpoint error <= alpha * length).
- match_people: minimum total root distance assignment (scipy linear_sum_assignment); pairs farther
  than max_distance are dropped. No prediction or no ground truth gives [].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

MUPOTS_AUC_THRESHOLDS = np.arange(0.0, 151.0, 5.0)  # mm: mpii_compute_3d_pck.m thresh = 0:5:150
MUPOTS_PCK_THRESHOLD = 150.0  # mm: mpii_compute_3d_pck.m pck_thresh
MVPOSE_PCP_ALPHA = 0.5  # mvpose is_right(..., alpha=0.5)


def _poses(value, name: str) -> np.ndarray:
    """(N, J, D) float64 from (N, J, D) or (J, D); empty or wrongly ranked input raises naming `name`."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ValueError(f"{name} must have shape (N, J, D) or (J, D), got {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}): no pose to evaluate")
    return array


def _pair(pred, gt) -> tuple[np.ndarray, np.ndarray]:
    pred, gt = _poses(pred, "pred"), _poses(gt, "gt")
    if pred.shape != gt.shape:
        raise ValueError(f"pred has shape {pred.shape} but gt has shape {gt.shape}; they must be equal")
    return pred, gt


def _mask(mask, shape: tuple[int, ...]) -> np.ndarray:
    """(N, J) bool mask (all True when None); a wrong shape raises naming `mask`."""
    if mask is None:
        return np.ones(shape[:2], dtype=bool)
    array = np.asarray(mask)
    if array.ndim == 1 and shape[0] == 1:
        array = array[None]
    if array.shape != shape[:2]:
        raise ValueError(f"mask has shape {array.shape} but the poses need (N, J) = {shape[:2]}")
    return array.astype(bool)


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> float:
    count = int(mask.sum())
    return float(values[mask].sum() / count) if count else float("nan")


def root_align(poses, root: int | Sequence[int] = 0) -> np.ndarray:
    """Poses minus their root joint (or the mean of several root joints), (N, J, D)."""
    poses = _poses(poses, "poses")
    index = [root] if isinstance(root, int | np.integer) else list(root)
    return poses - poses[:, index].mean(axis=1, keepdims=True)


def per_joint_errors(pred, gt, root: int | Sequence[int] | None = None) -> np.ndarray:
    """(N, J) Euclidean joint errors, after root alignment of both when `root` is given."""
    pred, gt = _pair(pred, gt)
    if root is not None:
        pred, gt = root_align(pred, root), root_align(gt, root)
    return np.linalg.norm(pred - gt, axis=-1)


def mpjpe(pred, gt, root: int | Sequence[int] | None = None, mask=None) -> float:
    """Mean per-joint position error over valid joints (root=None: no alignment)."""
    errors = per_joint_errors(pred, gt, root)
    return _masked_mean(errors, _mask(mask, errors.shape + (0,)))


def procrustes_transform(pred, gt, scale: bool = True, mask=None):
    """The similarity (s (N,), R (N, D, D), t (N, D)) with pred @ R^T * s + t closest to gt (det R = +1).

    Fitted on the valid joints of `mask`; a pose with no spread (all joints equal) or no valid joint gets
    s = 0 when scale=True (it maps onto the gt centroid) and R = I.
    """
    pred, gt = _pair(pred, gt)
    weights = _mask(mask, pred.shape).astype(np.float64)[..., None]  # (N, J, 1)
    count = np.maximum(weights.sum(axis=1, keepdims=True), 1.0)
    mu_pred = (pred * weights).sum(axis=1, keepdims=True) / count
    mu_gt = (gt * weights).sum(axis=1, keepdims=True) / count
    x, y = (pred - mu_pred) * weights, (gt - mu_gt) * weights
    # Kabsch / Umeyama with points as rows: min ||X R^T - Y|| over rotations, H = X^T Y = U S V^T,
    # R = V diag(1, .., 1, sign det(V U^T)) U^T, s = trace(diag(..) S) / ||X||^2.
    u, s, vt = np.linalg.svd(np.einsum("nji,njk->nik", x, y))
    sign = np.sign(np.linalg.det(np.einsum("nij,njk->nik", u, vt)))
    sign = np.where(sign == 0, 1.0, sign)
    flip = np.ones_like(s)
    flip[:, -1] = sign
    rotation = np.einsum("nji,nj,nkj->nik", vt, flip, u)  # V diag(flip) U^T
    if scale:
        norm = (x**2).sum(axis=(1, 2))
        factor = np.where(norm > 0, (s * flip).sum(axis=1) / np.where(norm > 0, norm, 1.0), 0.0)
    else:
        factor = np.ones(len(pred))
    translation = mu_gt[:, 0] - factor[:, None] * np.einsum("nij,nj->ni", rotation, mu_pred[:, 0])
    return factor, rotation, translation


def procrustes_align(pred, gt, scale: bool = True, mask=None) -> np.ndarray:
    """pred (N, J, D) mapped by the best similarity (rotation without reflection) onto gt."""
    pred_arr, _ = _pair(pred, gt)
    factor, rotation, translation = procrustes_transform(pred, gt, scale=scale, mask=mask)
    return factor[:, None, None] * np.einsum("nik,njk->nji", rotation, pred_arr) + translation[:, None]


def pa_mpjpe(pred, gt, mask=None, scale: bool = True) -> float:
    """MPJPE after Procrustes alignment (fitted and averaged on the valid joints of `mask`)."""
    pred, gt = _pair(pred, gt)
    aligned = procrustes_align(pred, gt, scale=scale, mask=mask)
    errors = np.linalg.norm(aligned - gt, axis=-1)
    return _masked_mean(errors, _mask(mask, pred.shape))


def pck_from_errors(errors, threshold: float, mask=None, inclusive: bool = False) -> float:
    """Percent of valid joints with error < threshold (<= with inclusive=True); errors (N, J)."""
    errors = np.asarray(errors, dtype=np.float64)
    if errors.size == 0:
        raise ValueError(f"errors is empty (shape {errors.shape}): no joint to evaluate")
    errors = errors.reshape(len(errors), -1) if errors.ndim != 1 else errors[None]
    valid = _mask(mask, errors.shape + (0,))
    hits = errors <= threshold if inclusive else errors < threshold
    return 100.0 * _masked_mean(hits.astype(np.float64), valid)


def pck3d(
    pred, gt, threshold: float = MUPOTS_PCK_THRESHOLD, mask=None, root=None, inclusive: bool = False
) -> float:
    """3DPCK in percent: joints with error < threshold mm (MuPoTS-3D: 150 mm, strict)."""
    return pck_from_errors(per_joint_errors(pred, gt, root), threshold, mask, inclusive)


def pck_curve(
    pred, gt, thresholds=MUPOTS_AUC_THRESHOLDS, mask=None, root=None, inclusive: bool = False
) -> np.ndarray:
    """3DPCK in percent at each threshold, (T,)."""
    errors = per_joint_errors(pred, gt, root)
    return np.array([pck_from_errors(errors, t, mask, inclusive) for t in np.asarray(thresholds, np.float64)])


def auc_from_curve(curve, thresholds, method: str = "mean") -> float:
    """Area under a PCK curve in percent: "mean" of its values (MuPoTS-3D) or "trapz" / threshold span."""
    curve, thresholds = np.asarray(curve, np.float64), np.asarray(thresholds, np.float64)
    if curve.size == 0:
        raise ValueError("thresholds is empty: no PCK value to integrate")
    if method == "mean":
        return float(curve.mean())
    if method == "trapz":
        span = thresholds[-1] - thresholds[0]
        if span <= 0:
            raise ValueError(f"thresholds must increase for method='trapz', got {thresholds}")
        area = ((curve[1:] + curve[:-1]) * np.diff(thresholds)).sum() / 2.0
        return float(area / span)
    raise ValueError(f"method must be 'mean' or 'trapz', got {method!r}")


def pck_auc(
    pred,
    gt,
    thresholds=MUPOTS_AUC_THRESHOLDS,
    mask=None,
    root=None,
    method: str = "mean",
    inclusive: bool = False,
) -> float:
    """AUC of the 3DPCK curve in percent (MuPoTS-3D: thresholds 0:5:150, mean of the curve)."""
    return auc_from_curve(pck_curve(pred, gt, thresholds, mask, root, inclusive), thresholds, method)


def limb_correct(
    pred, gt, limbs: Sequence[tuple[int, int]], alpha: float = MVPOSE_PCP_ALPHA, rule: str = "mean"
) -> np.ndarray:
    """(N, L) bool: limb (a, b) is correct per mvpose ("mean" of endpoint errors <= alpha * GT length)
    or the classic rule ("both" endpoint errors <= alpha * GT length)."""
    pred, gt = _pair(pred, gt)
    if len(limbs) == 0:
        raise ValueError("limbs is empty: no limb to evaluate")
    a, b = np.asarray(limbs, dtype=np.int64).T
    length = np.linalg.norm(gt[:, b] - gt[:, a], axis=-1)
    err_a = np.linalg.norm(pred[:, a] - gt[:, a], axis=-1)
    err_b = np.linalg.norm(pred[:, b] - gt[:, b], axis=-1)
    if rule == "mean":
        return (err_a + err_b) / 2.0 <= alpha * length
    if rule == "both":
        return (err_a <= alpha * length) & (err_b <= alpha * length)
    raise ValueError(f"rule must be 'mean' (mvpose) or 'both', got {rule!r}")


def pcp(
    pred, gt, limbs: Sequence[tuple[int, int]], alpha: float = MVPOSE_PCP_ALPHA, mask=None, rule: str = "mean"
) -> float:
    """Percent of correct parts; with a joint mask a limb counts only when both its endpoints are valid."""
    pred, gt = _pair(pred, gt)
    correct = limb_correct(pred, gt, limbs, alpha, rule)
    valid = _mask(mask, pred.shape)
    a, b = np.asarray(limbs, dtype=np.int64).T
    return 100.0 * _masked_mean(correct.astype(np.float64), valid[:, a] & valid[:, b])


def match_people(pred_roots, gt_roots, max_distance: float = np.inf) -> list[tuple[int, int]]:
    """[(p, g)] minimising the total root distance (Hungarian), sorted by g; pairs > max_distance dropped.

    pred_roots (P, D), gt_roots (G, D) with D = 2 or 3; P or G = 0 gives [].
    """
    pred = np.asarray(pred_roots, dtype=np.float64)
    gt = np.asarray(gt_roots, dtype=np.float64)
    if pred.size == 0 or gt.size == 0:
        return []
    if pred.ndim != 2:
        raise ValueError(f"pred_roots must have shape (P, D), got {pred.shape}")
    if gt.ndim != 2:
        raise ValueError(f"gt_roots must have shape (G, D), got {gt.shape}")
    if pred.shape[1] != gt.shape[1]:
        raise ValueError(f"pred_roots has D = {pred.shape[1]} but gt_roots has D = {gt.shape[1]}")
    cost = np.linalg.norm(pred[:, None] - gt[None], axis=-1)
    rows, cols = linear_sum_assignment(cost)
    pairs = [(int(p), int(g)) for p, g in zip(rows, cols, strict=True) if cost[p, g] <= max_distance]
    return sorted(pairs, key=lambda pair: pair[1])
