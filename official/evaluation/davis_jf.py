"""J&F of video object segmentation, as davis2017-evaluation (davisvideochallenge) reports it.

DAVIS 2016/2017 and YouTube-VOS figures come from that code; this module reproduces its definitions
(benchmarks/davis_jf_parity.py checks equality with an unmodified copy run outside the repo):
- J (region) = |pred & gt| / |pred | gt| per object per frame, 1.0 when both are empty (void pixels,
  when given, are left out of both counts);
- F (contour): 1-pixel boundary maps (a pixel differs from its east, south or south-east neighbour, the
  neighbours past the last row/column replicating the edge), each dilated by a disk of radius
  ceil(0.008 x image diagonal) (or `bound_th` pixels when >= 1); precision = predicted boundary pixels
  within the dilated ground-truth boundary / predicted boundary pixels, recall the reverse;
  no predicted and no ground-truth boundary gives P = R = 1, only one of them empty gives F = 0;
- semi-supervised protocol: objects are the ids 1..max of the FIRST ground-truth frame (255 is void and
  becomes background), the first and last frames are not scored, a predicted id above the object count
  is an error and missing predicted objects are empty masks;
- per object: mean, recall (fraction of frames > 0.5) and decay (mean of the first quarter of the frames
  minus mean of the last quarter, quarters as `db_statistics` bins them); the dataset figures are means
  over all objects of all sequences, J&F-Mean = (J-Mean + F-Mean) / 2.
Known difference: `db_statistics` casts its bin indices to uint8, which overflows from 256 scored frames
(its decay turns nan or wrong); here the indices are plain integers (equal for 0..255 frames).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import ndimage
from skimage.morphology import disk

VOID_ID = 255  # DAVIS annotation value of void pixels
BOUND_TH = 0.008  # boundary tolerance as a fraction of the image diagonal (davis2017-evaluation default)
KEYS = ("J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay")


def _frames(x) -> np.ndarray:
    """(H, W) or (T, H, W) -> bool (T, H, W)."""
    x = np.asarray(x).astype(bool)
    return x[None] if x.ndim == 2 else x


def region_j(gt, pred, void=None) -> np.ndarray | float:
    """Jaccard index per frame of binary (H, W) or (T, H, W) masks; 1.0 where the union is empty."""
    squeeze = np.ndim(gt) == 2
    gt, pred = _frames(gt), _frames(pred)
    if gt.shape != pred.shape:
        raise ValueError(f"region_j: gt shape {gt.shape} != prediction shape {pred.shape}")
    keep = np.ones_like(gt) if void is None else ~_frames(void)
    inter = np.sum(gt & pred & keep, axis=(1, 2))
    union = np.sum((gt | pred) & keep, axis=(1, 2))
    j = np.where(union == 0, 1.0, inter / np.maximum(union, 1))
    return float(j[0]) if squeeze else j


def boundary_map(mask) -> np.ndarray:
    """1-pixel boundary of a binary (H, W) mask: pixels that differ from their east, south or south-east
    neighbour, with the bottom row and right column replicated past the image (DAVIS `seg2bmap`)."""
    m = np.asarray(mask).astype(bool)
    p = np.pad(m, ((0, 1), (0, 1)), mode="edge")
    return (m != p[:-1, 1:]) | (m != p[1:, :-1]) | (m != p[1:, 1:])


def boundary_radius(shape: tuple[int, int], bound_th: float = BOUND_TH) -> float:
    """Matching tolerance in pixels: `bound_th` itself when >= 1, else ceil(bound_th x diagonal)."""
    return float(bound_th) if bound_th >= 1 else float(np.ceil(bound_th * np.hypot(*shape[:2])))


def _contour_f_frame(gt: np.ndarray, pred: np.ndarray, void: np.ndarray | None, footprint) -> float:
    if void is not None:
        gt, pred = gt & ~void, pred & ~void
    gb, pb = boundary_map(gt), boundary_map(pred)
    n_gt, n_pred = int(gb.sum()), int(pb.sum())
    if n_gt == 0 or n_pred == 0:
        return 1.0 if n_gt == n_pred else 0.0
    precision = np.sum(pb & ndimage.binary_dilation(gb, footprint)) / n_pred
    recall = np.sum(gb & ndimage.binary_dilation(pb, footprint)) / n_gt
    return 0.0 if precision + recall == 0 else float(2 * precision * recall / (precision + recall))


def contour_f(gt, pred, void=None, bound_th: float = BOUND_TH) -> np.ndarray | float:
    """Boundary F-measure per frame of binary (H, W) or (T, H, W) masks (DAVIS `db_eval_boundary`)."""
    squeeze = np.ndim(gt) == 2
    gt, pred = _frames(gt), _frames(pred)
    if gt.shape != pred.shape:
        raise ValueError(f"contour_f: gt shape {gt.shape} != prediction shape {pred.shape}")
    voids = [None] * len(gt) if void is None else list(_frames(void))
    footprint = disk(boundary_radius(gt.shape[1:], bound_th)).astype(bool)
    f = np.array([_contour_f_frame(g, p, v, footprint) for g, p, v in zip(gt, pred, voids, strict=True)])
    return float(f[0]) if squeeze else f


def sequence_statistics(values) -> tuple[float, float, float]:
    """(mean, recall, decay) of one object's per-frame J or F (DAVIS `db_statistics`): recall is the
    fraction of frames above 0.5; decay is the mean of the first of 4 bins minus that of the last, the bin
    edges being round(linspace(1, n, 5)) - 1 with each bin including its right edge."""
    v = np.asarray(values, np.float64)
    edges = (np.rint(np.linspace(1, len(v), 5) + 1e-10) - 1).astype(np.int64)
    first, last = v[edges[0]:edges[1] + 1], v[edges[3]:edges[4] + 1]
    with warnings.catch_warnings():  # no scored frame: nan, as the reference gives
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.nanmean(v)), float(np.mean(v > 0.5)), float(np.nanmean(first) - np.nanmean(last))


def evaluate_sequence(gt_labels, pred_labels, bound_th: float = BOUND_TH) -> dict[str, np.ndarray]:
    """Semi-supervised J and F of one sequence from (T, H, W) id maps (0 background, 255 void in gt).

    Returns {"J": (objects, T - 2), "F": (objects, T - 2)}: objects are 1..max id of the first gt frame;
    the first and last frames are not scored."""
    gt = np.asarray(gt_labels).astype(np.int64)
    pred = np.asarray(pred_labels).astype(np.int64)
    if gt.ndim != 3 or gt.shape != pred.shape:
        raise ValueError(f"evaluate_sequence: gt shape {gt.shape} and prediction shape {pred.shape} must be "
                         "equal (T, H, W)")
    gt = np.where(gt == VOID_ID, 0, gt)
    num_objects = int(gt[0].max())
    gt, pred = gt[1:-1], pred[1:-1]
    if pred.size and int(pred.max()) > num_objects:
        raise ValueError(f"evaluate_sequence: predicted id {int(pred.max())} > {num_objects} objects in the "
                         "first annotated frame")
    j = np.zeros((num_objects, len(gt)))
    f = np.zeros((num_objects, len(gt)))
    for k in range(num_objects):
        j[k] = region_j(gt == k + 1, pred == k + 1)
        f[k] = contour_f(gt == k + 1, pred == k + 1, bound_th=bound_th)
    return {"J": j, "F": f}


class DavisJF:
    """Accumulates sequences and reports the DAVIS table (fractions in [0, 1])."""

    def __init__(self, bound_th: float = BOUND_TH):
        self.bound_th = bound_th
        self.per_object: dict[str, dict[str, tuple[float, float, float]]] = {}

    def update(self, name: str, gt_labels, pred_labels) -> dict[str, np.ndarray]:
        """Scores one sequence; objects are recorded as `<name>_<id>` like the official per-object table."""
        scores = evaluate_sequence(gt_labels, pred_labels, self.bound_th)
        for k in range(scores["J"].shape[0]):
            self.per_object[f"{name}_{k + 1}"] = {m: sequence_statistics(scores[m][k]) for m in ("J", "F")}
        return scores

    def result(self) -> dict[str, float]:
        if not self.per_object:
            raise ValueError("DavisJF.result: no sequence with an object was evaluated")
        stats = {m: np.array([o[m] for o in self.per_object.values()]) for m in ("J", "F")}
        out = {}
        for m in ("J", "F"):
            out[f"{m}-Mean"], out[f"{m}-Recall"], out[f"{m}-Decay"] = (float(x) for x in np.mean(stats[m], 0))
        out["J&F-Mean"] = (out["J-Mean"] + out["F-Mean"]) / 2
        return {k: out[k] for k in KEYS}
