"""COCO detection metrics through pycocotools, the reference implementation of the COCO protocol.

`CocoEvaluator` holds the ground truth (a JSON path, a parsed dict or `CocoAnnotations`), converts a
model's detections (contiguous class indices, (x1, y1, x2, y2) pixel boxes) into a standard COCO
results list (category ids, [x, y, w, h]), writes it as a results JSON and runs COCOeval:

    evaluator = CocoEvaluator("annotations/instances_val2017.json")
    evaluator.add_detections(image_ids, boxes, scores, classes, num_detections)  # per batch
    metrics = evaluator.evaluate()            # {"AP": .., "AP50": .., ..., "AR100": ..}, fractions
    recall = evaluator.proposal_recall(max_dets=1000)   # {"AR@1000": .., ...}, class-agnostic

The numbers are pycocotools' own (summarize() stats) so they match the COCO leaderboard protocol.
By default the ground truth goes through the same validation as the data readers (malformed
annotations skipped and counted, missing `area` filled as w*h); `validate=False` hands the dict to
pycocotools untouched. No TensorFlow is imported here.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from absl import logging
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from official.core.file_io import write_json  # noqa: F401  (re-exported: tools import it from here)
from official.data.coco_annotations import CocoAnnotations, CocoFormatError

IOU_TYPES = ("bbox", "segm", "keypoints")
DET_KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")
KPT_KEYS = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
_RESULT_FIELD = {"bbox": "bbox", "segm": "segmentation", "keypoints": "keypoints"}


def _quiet(fn: Any, *args: Any) -> tuple[Any, str]:
    """Runs a chatty pycocotools call, returning (result, what it printed)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        out = fn(*args)
    return out, buf.getvalue()


def write_results(results: list[dict[str, Any]], path: str) -> str:
    """Writes a standard COCO results JSON: a list of {image_id, category_id, bbox, score}."""
    return write_json(list(results), path)


def load_results(path: str) -> list[dict[str, Any]]:
    """Reads a COCO results JSON; anything but a list of objects is an error naming the file."""
    if not os.path.isfile(path):
        raise CocoFormatError(f"{path}: COCO results file does not exist")
    with open(path, encoding="utf-8") as f:
        try:
            results = json.load(f)
        except json.JSONDecodeError as err:
            raise CocoFormatError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise CocoFormatError(f"{path}: a COCO results file must be a JSON list of detection objects")
    return results


class CocoEvaluator:
    """COCO AP/AR of detections against one ground-truth file (see the module docstring)."""

    def __init__(self, gt: str | dict[str, Any] | CocoAnnotations, validate: bool = True):
        if isinstance(gt, CocoAnnotations):
            self.annotations = gt
        elif isinstance(gt, str):
            self.annotations = CocoAnnotations.load(gt)
        else:
            self.annotations = CocoAnnotations.from_dict(gt)
        if validate or isinstance(gt, CocoAnnotations):
            dataset = self.annotations.to_coco_dict()
        elif isinstance(gt, str):
            with open(gt, encoding="utf-8") as f:
                dataset = json.load(f)
        else:
            dataset = gt
        self.source = self.annotations.source
        self.index_to_id = list(self.annotations.index_to_id)
        self.image_ids = {img["id"] for img in self.annotations.images}
        self.coco_gt = COCO()
        self.coco_gt.dataset = copy.deepcopy(dataset)
        _quiet(self.coco_gt.createIndex)
        self.results: list[dict[str, Any]] = []
        self.last_summary = ""

    # --- collecting detections ------------------------------------------------------------------
    def detections_to_results(
        self,
        image_ids: Any,
        boxes: Any,
        scores: Any,
        classes: Any,
        num_detections: Any = None,
    ) -> list[dict[str, Any]]:
        """Batched model outputs -> COCO results.

        Args:
          image_ids: [B] COCO image ids.
          boxes: [B, N, 4] (x1, y1, x2, y2) in ORIGINAL image pixels (see `box_augment.unmap_boxes`).
          scores: [B, N] confidences.
          classes: [B, N] contiguous class indices 0..C-1; rows with a negative class are padding.
          num_detections: [B] valid rows per image (the rest is padding); None = all rows.
        Returns:
          [{"image_id", "category_id", "bbox": [x, y, w, h], "score"}, ...] (category ids via
          `index_to_id`).
        """
        image_ids = np.asarray(image_ids).reshape(-1)
        boxes = np.asarray(boxes, np.float64).reshape(len(image_ids), -1, 4)
        scores = np.asarray(scores, np.float64).reshape(len(image_ids), -1)
        classes = np.asarray(classes).reshape(len(image_ids), -1).astype(np.int64)
        counts = (
            np.full(len(image_ids), boxes.shape[1])
            if num_detections is None
            else np.asarray(num_detections).reshape(-1)
        )
        out = []
        num_classes = len(self.index_to_id)
        for b, image_id in enumerate(image_ids):
            for i in range(int(counts[b])):
                cls = int(classes[b, i])
                if cls < 0:
                    continue
                if cls >= num_classes:
                    raise ValueError(f"classes[{b}, {i}] = {cls} is not a class index (< {num_classes})")
                x1, y1, x2, y2 = (float(v) for v in boxes[b, i])
                out.append(
                    {
                        "image_id": int(image_id),
                        "category_id": self.index_to_id[cls],
                        "bbox": [x1, y1, x2 - x1, y2 - y1],
                        "score": float(scores[b, i]),
                    }
                )
        return out

    def add_detections(self, *args: Any, **kwargs: Any) -> None:
        """Appends `detections_to_results(...)` to the evaluator's results."""
        self.results.extend(self.detections_to_results(*args, **kwargs))

    def reset(self) -> None:
        self.results = []

    def write_results(self, path: str, results: list[dict[str, Any]] | None = None) -> str:
        return write_results(self.results if results is None else results, path)

    # --- metrics ----------------------------------------------------------------------------------
    def _check(self, results: list[dict[str, Any]], iou_type: str, need_category: bool = True) -> None:
        if iou_type not in IOU_TYPES:
            raise ValueError(f"iou_type: expected one of {IOU_TYPES}, got {iou_type!r}")
        field = _RESULT_FIELD[iou_type]
        for i, r in enumerate(results):
            keys = ("image_id", "score", field) + (("category_id",) if need_category else ())
            for key in keys:
                if key not in r:
                    raise CocoFormatError(f"results[{i}]: missing '{key}' (needed for iou_type={iou_type})")
            if r["image_id"] not in self.image_ids:
                raise CocoFormatError(f"results[{i}]: image_id {r['image_id']} is not in {self.source}")

    def _run(
        self, results: list[dict[str, Any]], iou_type: str, image_ids: Sequence[int] | None, **params: Any
    ) -> COCOeval:
        dets, _ = _quiet(self.coco_gt.loadRes, copy.deepcopy(results))
        coco_eval = COCOeval(self.coco_gt, dets, iou_type)
        if image_ids is not None:
            unknown = sorted(set(image_ids) - self.image_ids)
            if unknown:
                raise ValueError(f"image_ids: {unknown[:5]} are not in {self.source}")
            coco_eval.params.imgIds = sorted(set(image_ids))
        for key, value in params.items():
            setattr(coco_eval.params, key, value)
        _quiet(coco_eval.evaluate)
        _quiet(coco_eval.accumulate)
        return coco_eval

    def evaluate(
        self,
        results: list[dict[str, Any]] | None = None,
        iou_type: str = "bbox",
        image_ids: Sequence[int] | None = None,
        per_class: bool = False,
    ) -> dict[str, Any]:
        """COCOeval summary stats as fractions (0-1; -1 where a range has no ground truth).

        Args:
          results: COCO results list; None = the detections added with `add_detections`.
          iou_type: "bbox" | "segm" | "keypoints".
          image_ids: evaluate only these images (e.g. the ones a shortened validation saw); None = all
            ground-truth images (images without detections count as misses).
          per_class: add "per_class_AP" {category name: AP} (AP over IoU .5:.95, all areas, 100 dets).
        Returns:
          bbox/segm: AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl;
          keypoints: AP, AP50, AP75, APm, APl, AR, AR50, AR75, ARm, ARl. With no detections at all
          every value is 0.0 (pycocotools cannot load an empty results list).
        """
        results = self.results if results is None else results
        self._check(results, iou_type)
        keys = KPT_KEYS if iou_type == "keypoints" else DET_KEYS
        if not results:
            logging.warning("COCO evaluation of %s: no detections, all metrics are 0", self.source)
            return {k: 0.0 for k in keys}
        coco_eval = self._run(results, iou_type, image_ids)
        _, self.last_summary = _quiet(coco_eval.summarize)
        logging.info("COCO %s evaluation on %s:\n%s", iou_type, self.source, self.last_summary)
        metrics: dict[str, Any] = {k: float(v) for k, v in zip(keys, coco_eval.stats, strict=True)}
        if per_class:
            precision = coco_eval.eval["precision"][:, :, :, 0, -1]  # [iou, recall, class] all areas
            names = {c["id"]: c["name"] for c in self.annotations.categories}
            metrics["per_class_AP"] = {}
            for k, cat_id in enumerate(coco_eval.params.catIds):
                p = precision[:, :, k]
                metrics["per_class_AP"][names[cat_id]] = float(p[p > -1].mean()) if (p > -1).any() else -1.0
        return metrics

    def proposal_recall(
        self,
        results: list[dict[str, Any]] | None = None,
        max_dets: int = 1000,
        image_ids: Sequence[int] | None = None,
    ) -> dict[str, float]:
        """Class-agnostic average recall of proposals (COCOeval with useCats=0), IoU .5:.95.

        Returns {"AR@N", "ARs@N", "ARm@N", "ARl@N"} for N = max_dets (fractions; -1 where a range has
        no ground truth). Proposals need image_id, bbox and score; category_id is not used.
        """
        results = self.results if results is None else results
        self._check(results, "bbox", need_category=False)
        names = [f"AR@{max_dets}", f"ARs@{max_dets}", f"ARm@{max_dets}", f"ARl@{max_dets}"]
        if not results:
            return {k: 0.0 for k in names}
        first = self.annotations.category_ids[0]
        results = [r if "category_id" in r else dict(r, category_id=first) for r in results]
        coco_eval = self._run(results, "bbox", image_ids, useCats=0, maxDets=[max_dets])
        recall = coco_eval.eval["recall"][:, :, :, 0]  # [iou, class=1, area]
        out = {}
        for a, name in enumerate(names):
            r = recall[:, :, a]
            out[name] = float(r[r > -1].mean()) if (r > -1).any() else -1.0
        return out
