"""COCO keypoint evaluation helpers: OKS, OKS-NMS, person rescoring, results JSON, COCOeval keypoints AP.

- `oks`: COCO's object keypoint similarity, exactly pycocotools `COCOeval.computeOks`:
  OKS = sum_i exp(-d_i^2 / (2 s^2 (2 sigma_i)^2)) [v_i > 0] / sum_i [v_i > 0] with s^2 = the ground
  truth's `area` (+ eps). A ground truth with no labelled keypoint (all v = 0) instead measures how far
  each predicted keypoint lies OUTSIDE its box grown by one box size on every side (x in
  [x - w, x + 2w]) and averages over all K keypoints.
- `oks_nms`: greedy NMS on OKS as HRNet `lib/nms/nms.py` oks_nms / oks_iou (RSN's test.py runs none):
  sorted by score, a person is dropped when its OKS with a kept one is > thresh (0.9 in HRNet's configs);
  the OKS uses the mean of the two persons' areas and all keypoints.
- `rescore`: the person score written to the results. RSN (`exps/*/test.py` compute_on_dataset):
  box score x mean of ALL K keypoint scores (vis_thresh=None). HRNet (`lib/dataset/coco.py` evaluate):
  box score x mean of the keypoint scores > vis_thresh (0.2), 0 when none is.
- `KeypointCocoEvaluator`: `official.evaluation.coco.CocoEvaluator` with iou_type "keypoints" and
  an `add_keypoints` that builds COCO keypoint results ({image_id, category_id, keypoints: 3K flat
  [x, y, score], score}). pycocotools computes the AP; nothing of COCOeval is re-implemented here.

numpy only (no TensorFlow).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from official.data import keypoint_constants
from official.evaluation import coco

# COCO's per-keypoint OKS constants (cocodataset.org/#keypoints-eval), one table for the zoo.
COCO_SIGMAS = np.asarray(keypoint_constants.COCO_SIGMAS, np.float64)  # == pycocotools Params (tested)


def _sigmas(sigmas: Any, k: int) -> np.ndarray:
    s = COCO_SIGMAS if sigmas is None else np.asarray(sigmas, np.float64).reshape(-1)
    if s.shape[0] != k:
        raise ValueError(f"{s.shape[0]} sigmas for {k} keypoints")
    return s


def oks(
    gt_keypoints: Any, gt_areas: Any, dt_keypoints: Any, sigmas: Any = None, gt_boxes: Any = None
) -> np.ndarray:
    """OKS of every prediction with every ground truth, as pycocotools `computeOks`.

    Args:
      gt_keypoints: (G, K, 3) ground-truth (x, y, v), or (G, 3K) as in COCO JSON; v > 0 marks a
        labelled keypoint.
      gt_areas: (G,) ground-truth `area` (segment area in COCO, not the box).
      dt_keypoints: (D, K, 2), (D, K, 3) or (D, 3K) predictions (a score column is ignored).
      sigmas: (K,) per-keypoint constants; None = COCO's.
      gt_boxes: (G, 4) [x, y, w, h]; only needed for a ground truth without labelled keypoints.
    Returns:
      (D, G) float64.
    """
    gt = np.asarray(gt_keypoints, np.float64)
    gt = gt.reshape(gt.shape[0], -1, 3) if gt.ndim == 2 else gt
    dt = np.asarray(dt_keypoints, np.float64)
    dt = (dt.reshape(dt.shape[0], -1, 3) if dt.ndim == 2 else dt)[..., :2]
    areas = np.asarray(gt_areas, np.float64).reshape(-1)
    var = (_sigmas(sigmas, dt.shape[1]) * 2) ** 2
    out = np.zeros((dt.shape[0], gt.shape[0]))
    for j in range(gt.shape[0]):
        visible = gt[j, :, 2] > 0
        if visible.any():
            dx = dt[..., 0] - gt[j, :, 0]
            dy = dt[..., 1] - gt[j, :, 1]
        else:
            if gt_boxes is None:
                raise ValueError(f"ground truth {j} has no labelled keypoint: gt_boxes is needed")
            x, y, w, h = (float(v) for v in np.asarray(gt_boxes, np.float64)[j])
            dx = np.maximum(0.0, (x - w) - dt[..., 0]) + np.maximum(0.0, dt[..., 0] - (x + 2 * w))
            dy = np.maximum(0.0, (y - h) - dt[..., 1]) + np.maximum(0.0, dt[..., 1] - (y + 2 * h))
            visible = np.ones_like(visible)
        e = (dx**2 + dy**2) / var / (areas[j] + np.spacing(1)) / 2
        out[:, j] = np.mean(np.exp(-e[:, visible]), axis=1)
    return out


def pairwise_oks(
    keypoints: Any, areas: Any, index: int, others: Any, sigmas: Any = None, vis_thresh: float | None = None
) -> np.ndarray:
    """OKS of person `index` with persons `others` as HRNet's oks_iou (used by `oks_nms`).

    All K keypoints count and the area is the mean of the two persons' areas. With `vis_thresh`, only
    keypoints whose score in the OTHER person exceeds it count (HRNet writes
    `list(vg > t) and list(vd > t)`, which Python evaluates to the second list); none left -> 0.
    keypoints: (N, K, 3) with scores in the last column; areas: (N,).
    """
    kp = np.asarray(keypoints, np.float64)
    areas = np.asarray(areas, np.float64)
    others = np.asarray(others, np.int64).reshape(-1)
    var = (_sigmas(sigmas, kp.shape[1]) * 2) ** 2
    d = kp[others, :, :2] - kp[index, None, :, :2]
    mean_area = (areas[index] + areas[others]) / 2 + np.spacing(1)
    e = (d[..., 0] ** 2 + d[..., 1] ** 2) / var / mean_area[:, None] / 2
    keep = np.ones(e.shape, bool) if vis_thresh is None else kp[others, :, 2] > vis_thresh
    count = keep.sum(axis=1)
    total = np.where(keep, np.exp(-e), 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


def oks_nms(
    keypoints: Any,
    scores: Any,
    areas: Any,
    thresh: float = 0.9,
    sigmas: Any = None,
    vis_thresh: float | None = None,
) -> list[int]:
    """Greedy OKS-NMS (HRNet `lib/nms/nms.py` oks_nms) of one image's persons.

    Args:
      keypoints: (N, K, 3) image (x, y, score).
      scores: (N,) person scores (after `rescore`).
      areas: (N,) person areas; HRNet uses the crop region's w x h (its scale x 200^2).
      thresh: a person whose OKS with a kept one is > thresh is dropped (kept when <= thresh).
      sigmas: (K,) constants; None = COCO's. vis_thresh: see `pairwise_oks`.
    Returns:
      Indices of the kept persons, highest score first (ties: input order; HRNet's reversed
      quicksort argsort may order exact ties differently).
    """
    scores = np.asarray(scores, np.float64).reshape(-1)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        if not rest.size:
            break
        overlap = pairwise_oks(keypoints, areas, i, rest, sigmas, vis_thresh)
        order = rest[overlap <= thresh]
    return keep


def rescore(box_scores: Any, keypoint_scores: Any, vis_thresh: float | None = None) -> np.ndarray:
    """Person scores from box and keypoint scores.

    Args:
      box_scores: (N,) detector scores of the person boxes.
      keypoint_scores: (N, K) decoded keypoint scores.
      vis_thresh: None = RSN (box x mean of all K scores); a float = HRNet (box x mean of the scores
        > vis_thresh, 0 when none is; HRNet's configs use 0.2).
    Returns:
      (N,) float64.
    """
    box = np.asarray(box_scores, np.float64).reshape(-1)
    kp = np.asarray(keypoint_scores, np.float64).reshape(box.shape[0], -1)
    if vis_thresh is None:
        return box * kp.mean(axis=1)
    keep = kp > vis_thresh
    count = keep.sum(axis=1)
    mean = np.where(keep, kp, 0.0).sum(axis=1) / np.maximum(count, 1)
    return box * np.where(count > 0, mean, 0.0)


def keypoints_to_results(
    image_ids: Any,
    keypoints: Any,
    keypoint_scores: Any,
    scores: Any,
    category_id: int = 1,
    areas: Any = None,
) -> list[dict[str, Any]]:
    """Per-person arrays -> COCO keypoint results.

    Args:
      image_ids: (N,) COCO image ids.
      keypoints: (N, K, 2) image (x, y).
      keypoint_scores: (N, K) written as the third value of each keypoint.
      scores: (N,) person scores (e.g. `rescore(...)`).
      category_id: the person category (1 in COCO).
      areas: optional (N,) kept as "area" for `oks_nms_results` (pycocotools' loadRes recomputes
        the area of keypoint results, so it does not affect the AP).
    Returns:
      [{"image_id", "category_id", "keypoints": [x1, y1, s1, ...], "score"(, "area")}, ...].
    """
    ids = np.asarray(image_ids).reshape(-1)
    kp = np.asarray(keypoints, np.float64).reshape(ids.shape[0], -1, 2)
    ks = np.asarray(keypoint_scores, np.float64).reshape(ids.shape[0], -1)
    sc = np.asarray(scores, np.float64).reshape(-1)
    flat = np.concatenate([kp, ks[..., None]], axis=-1).reshape(ids.shape[0], -1)
    out = []
    for n in range(ids.shape[0]):
        r = {
            "image_id": int(ids[n]),
            "category_id": int(category_id),
            "keypoints": [float(v) for v in flat[n]],
            "score": float(sc[n]),
        }
        if areas is not None:
            r["area"] = float(np.asarray(areas, np.float64).reshape(-1)[n])
        out.append(r)
    return out


def oks_nms_results(
    results: list[dict[str, Any]], thresh: float = 0.9, sigmas: Any = None, vis_thresh: float | None = None
) -> list[dict[str, Any]]:
    """`oks_nms` per image over COCO keypoint results that carry an "area" (see `keypoints_to_results`).

    Results keep their input order within the kept set (the AP does not depend on it).
    """
    by_image: dict[Any, list[int]] = defaultdict(list)
    for i, r in enumerate(results):
        if "area" not in r:
            raise ValueError(f"results[{i}] has no 'area' (needed by OKS-NMS)")
        by_image[r["image_id"]].append(i)
    kept: set[int] = set()
    for idx in by_image.values():
        kp = np.array([results[i]["keypoints"] for i in idx], np.float64).reshape(len(idx), -1, 3)
        sc = [results[i]["score"] for i in idx]
        ar = [results[i]["area"] for i in idx]
        kept.update(idx[j] for j in oks_nms(kp, sc, ar, thresh, sigmas, vis_thresh))
    return [r for i, r in enumerate(results) if i in kept]


def write_keypoint_results(path: str, results: list[dict[str, Any]]) -> str:
    """Writes COCO keypoint results as JSON (temp name, then renamed); returns path."""
    return coco.write_json(list(results), path)


class KeypointCocoEvaluator(coco.CocoEvaluator):
    """COCO keypoint AP/AR (pycocotools COCOeval, iouType "keypoints") of top-down predictions.

    evaluator = KeypointCocoEvaluator("person_keypoints_val2017.json")
    evaluator.add_keypoints(image_ids, keypoints, keypoint_scores, box_scores)   # per batch
    metrics = evaluator.evaluate()   # {"AP", "AP50", "AP75", "APm", "APl", "AR", ...} fractions

    `sigmas` (K,) are the OKS constants for layouts other than COCO's 17 keypoints (e.g. COCO + 6 foot
    points); None = pycocotools' COCO values. They reach COCOeval and the optional OKS-NMS alike.
    """

    def __init__(self, *args: Any, sigmas: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.sigmas = None if sigmas is None else np.asarray(sigmas, np.float64).reshape(-1)

    def add_keypoints(
        self,
        image_ids: Any,
        keypoints: Any,
        keypoint_scores: Any,
        box_scores: Any,
        vis_thresh: float | None = None,
        areas: Any = None,
    ) -> None:
        """Appends one batch: person score = `rescore(box_scores, keypoint_scores, vis_thresh)`."""
        scores = rescore(box_scores, keypoint_scores, vis_thresh)
        self.results.extend(keypoints_to_results(image_ids, keypoints, keypoint_scores, scores, 1, areas))

    def evaluate(
        self,
        results: list[dict[str, Any]] | None = None,
        image_ids: Any = None,
        oks_nms_thresh: float | None = None,
        sigmas: Any = None,
    ) -> dict[str, Any]:
        """COCOeval keypoint summary (fractions) of `results` (None = the added ones).

        oks_nms_thresh: run `oks_nms_results` first (needs "area" in the results; RSN: None).
        sigmas: overrides the constructor's OKS constants for this call.
        """
        results = self.results if results is None else results
        kept = self.sigmas
        if sigmas is not None:
            self.sigmas = np.asarray(sigmas, np.float64).reshape(-1)
        try:
            if oks_nms_thresh is not None:
                results = oks_nms_results(results, oks_nms_thresh, self.sigmas)
            return super().evaluate(results, iou_type="keypoints", image_ids=image_ids)
        finally:
            self.sigmas = kept

    def _run(self, results: list[dict[str, Any]], iou_type: str, image_ids: Any, **params: Any):
        if self.sigmas is not None:
            params.setdefault("kpt_oks_sigmas", self.sigmas)
        return super()._run(results, iou_type, image_ids, **params)

    def write_results(self, path: str, results: list[dict[str, Any]] | None = None) -> str:
        return write_keypoint_results(path, self.results if results is None else results)
