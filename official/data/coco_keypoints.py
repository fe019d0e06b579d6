"""COCO person_keypoints JSON (+ image folder) -> per-PERSON records for top-down pose estimation.

Top-down methods (RSN, CPN, HRNet, SimpleBaseline) crop one person at a time, so the unit of data is a
person, not an image. This module turns a COCO keypoints file (training: ground-truth boxes) or a
person detection results file (evaluation: `[{image_id, category_id, bbox, score}]`) into a
`PersonRecords` table that `official.data.keypoint_input` maps into crops and targets. Pure Python +
numpy (no TensorFlow), so evaluators can share the validation.

Validation policy (on top of `coco_annotations.CocoAnnotations`, which already skips and counts bad
boxes, unknown images and unknown categories by annotation id):
- a missing file, a file that is not a COCO JSON, or a file whose annotations carry no `keypoints`
  field at all is a `CocoFormatError` naming the file and the field;
- per person (counted in `PersonRecords.skipped`, malformed ones logged with their id):
  `not_person` (category_id != 1), `crowd` (iscrowd=1 regions hold no keypoints), `bad_keypoints`
  (not K x (x, y, v) finite numbers with v in {0, 1, 2}), `no_visible_keypoints` (no v > 0, or
  num_keypoints == 0: RSN `dataset/COCO/coco.py` drops these, as they give all-zero targets);
- detections: `bad_detection` (not an object, bad bbox or score), `unknown_image`, `not_person`,
  `low_score` (below the optional threshold).

Box convention (RSN `_bbox_to_center_and_scale`): center = (x + w/2, y + h/2), scale = (w, h). Unlike
RSN/HRNet, `scale` here is in PIXELS, not in units of 200 px (`keypoint_constants.PIXEL_STD`): the
crop covers `scale` pixels of the source image once extended and fitted to the aspect ratio.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from typing import Any

import numpy as np
from absl import logging

from official.core.errors import PathNotFoundError
from official.data.coco_annotations import CocoAnnotations, CocoFormatError, image_paths
from official.data.keypoint_constants import COCO, COCO_PERSON_CATEGORY_ID, KeypointSpec

PERSON_SKIP_REASONS = ("not_person", "crowd", "bad_keypoints", "no_visible_keypoints")
DETECTION_SKIP_REASONS = ("bad_detection", "unknown_image", "not_person", "low_score")
_MALFORMED = ("bad_keypoints", "bad_detection")  # logged one by one; the rest only in the summary
_MAX_LOGGED = 50


@dataclasses.dataclass
class PersonRecords:
    """One row per person crop; every array has the same first dimension N.

    Attributes:
      source: the annotation file (used in messages).
      image_paths: N image file paths.
      image_ids: int64 [N] COCO image ids (MPII: the person's index in the annotation list).
      bboxes: float32 [N, 4] person box (x, y, w, h) in pixels (MPII: the square box of center/scale).
      centers: float32 [N, 2] box centre (x, y) in pixels.
      scales: float32 [N, 2] box size (w, h) in pixels, before extension and aspect-ratio fitting.
      keypoints: float32 [N, K, 3] (x, y, v) in 0-based pixels; v 0 unlabeled, 1 occluded, 2 visible
        (all zero for detections).
      areas: float32 [N] annotation area (detections: w * h), used by OKS.
      scores: float32 [N] box score (1 for ground-truth boxes).
      image_sizes: int32 [N, 2] (height, width) from the annotations, -1 where unknown.
      skipped: skipped persons/detections per reason (those of `CocoAnnotations` included).
      skipped_ids: annotation ids (or "#<index>") per reason.
    """

    source: str
    image_paths: list[str]
    image_ids: np.ndarray
    bboxes: np.ndarray
    centers: np.ndarray
    scales: np.ndarray
    keypoints: np.ndarray
    areas: np.ndarray
    scores: np.ndarray
    image_sizes: np.ndarray
    skipped: dict[str, int]
    skipped_ids: dict[str, list[Any]]

    def __len__(self) -> int:
        return len(self.image_paths)

    @property
    def num_keypoints(self) -> int:
        return int(self.keypoints.shape[1])

    def subset(self, indices: Any) -> PersonRecords:
        """The records at `indices` (an index list or boolean mask); skip counts are kept."""
        idx = np.arange(len(self))[np.asarray(indices)]
        return dataclasses.replace(
            self,
            image_paths=[self.image_paths[i] for i in idx],
            **{
                f: getattr(self, f)[idx]
                for f in (
                    "image_ids",
                    "bboxes",
                    "centers",
                    "scales",
                    "keypoints",
                    "areas",
                    "scores",
                    "image_sizes",
                )
            },
        )

    @classmethod
    def from_rows(
        cls, source: str, rows: list[dict[str, Any]], num_keypoints: int, skipped_ids: dict[str, list[Any]]
    ) -> PersonRecords:
        """Builds the table from row dicts with keys path, image_id, bbox, center, scale, keypoints,
        area, score, image_size."""

        def stack(key: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
            return np.asarray([r[key] for r in rows], dtype).reshape((len(rows),) + shape)

        return cls(
            source=source,
            image_paths=[r["path"] for r in rows],
            image_ids=stack("image_id", (), np.int64),
            bboxes=stack("bbox", (4,), np.float32),
            centers=stack("center", (2,), np.float32),
            scales=stack("scale", (2,), np.float32),
            keypoints=stack("keypoints", (num_keypoints, 3), np.float32),
            areas=stack("area", (), np.float32),
            scores=stack("score", (), np.float32),
            image_sizes=stack("image_size", (2,), np.int32),
            skipped={k: len(v) for k, v in skipped_ids.items()},
            skipped_ids=skipped_ids,
        )


def box_center_scale(bbox: Any) -> tuple[list[float], list[float]]:
    """(x, y, w, h) -> (center (x + w/2, y + h/2), scale (w, h)) in pixels (RSN coco.py)."""
    x, y, w, h = (float(v) for v in bbox)
    return [x + w / 2.0, y + h / 2.0], [w, h]


def _skip(skipped_ids: dict[str, list[Any]], reason: str, ident: Any, source: str, detail: str) -> None:
    skipped_ids[reason].append(ident)
    if reason in _MALFORMED and len(skipped_ids[reason]) <= _MAX_LOGGED:
        logging.warning("%s: skipping id=%s (%s): %s", source, ident, reason, detail[:200])


def _summary(source: str, skipped: dict[str, list[Any]], total: int, what: str) -> None:
    counts = {k: len(v) for k, v in skipped.items() if v}
    if counts:
        logging.warning(
            "%s: skipped %d of %d %s: %s",
            source,
            sum(counts.values()),
            total,
            what,
            ", ".join(f"{k}={v}" for k, v in counts.items()),
        )


def parse_keypoints(value: Any, num_keypoints: int) -> np.ndarray | None:
    """A flat [x1, y1, v1, ...] list -> float32 [K, 3], or None when malformed."""
    if not isinstance(value, (list, tuple)) or len(value) != 3 * num_keypoints:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        return None
    kpts = np.asarray(value, np.float32).reshape(num_keypoints, 3)
    if not np.isin(kpts[:, 2], (0.0, 1.0, 2.0)).all():
        return None
    return kpts


def _check_keypoint_schema(anns: CocoAnnotations, spec: KeypointSpec) -> None:
    """Missing fields are errors, not per-person skips: an instances file would otherwise load as
    'every person malformed'."""
    if anns.annotations and not any(isinstance(a.get("keypoints"), list) for a in anns.annotations):
        raise CocoFormatError(
            f"{anns.source}: annotations have no 'keypoints' field (not a COCO person_keypoints file)"
        )
    for cat in anns.categories:
        names = cat.get("keypoints")
        if cat["id"] == COCO_PERSON_CATEGORY_ID and names is not None and len(names) != spec.num_keypoints:
            raise CocoFormatError(
                f"{anns.source}: categories (id 1).keypoints lists {len(names)} names, "
                f"expected {spec.num_keypoints} ({spec.name})"
            )


def load_coco_keypoints(
    json_path: str,
    image_dir: str,
    spec: KeypointSpec = COCO,
    min_visible: int = 1,
    annotations: CocoAnnotations | None = None,
) -> PersonRecords:
    """Ground-truth person records (one per usable person annotation, file order).

    Args:
      json_path: COCO person_keypoints JSON.
      image_dir: folder that `images[].file_name` is relative to.
      spec: keypoint layout (K); COCO by default.
      min_visible: persons with fewer labeled (v > 0) keypoints are skipped (RSN LOAD_MIN_NUM = 1).
      annotations: the already loaded `CocoAnnotations` of `json_path`.

    Raises:
      CocoFormatError: missing/invalid JSON or a missing required field (named in the message).
      FileNotFoundError: `image_dir` or an image listed in the JSON is missing.
    """
    anns = annotations if annotations is not None else CocoAnnotations.load(json_path)
    _check_keypoint_schema(anns, spec)
    paths = dict(zip([img["id"] for img in anns.images], image_paths(anns, image_dir), strict=True))
    sizes = {img["id"]: (img["height"], img["width"]) for img in anns.images}
    skipped_ids: dict[str, list[Any]] = {r: list(ids) for r, ids in anns.skipped_ids.items()}
    skipped_ids.update({r: [] for r in PERSON_SKIP_REASONS})
    rows = []
    for ann in anns.annotations:
        ann_id = ann["id"]
        if ann["category_id"] != COCO_PERSON_CATEGORY_ID:
            _skip(skipped_ids, "not_person", ann_id, anns.source, "")
            continue
        if ann.get("iscrowd", 0):
            _skip(skipped_ids, "crowd", ann_id, anns.source, "")
            continue
        kpts = parse_keypoints(ann.get("keypoints"), spec.num_keypoints)
        if kpts is None:
            detail = f"keypoints must be {spec.num_keypoints} x (x, y, v in 0/1/2): {ann.get('keypoints')!r}"
            _skip(skipped_ids, "bad_keypoints", ann_id, anns.source, detail)
            continue
        if int((kpts[:, 2] > 0).sum()) < max(min_visible, 1) or ann.get("num_keypoints", 1) == 0:
            _skip(skipped_ids, "no_visible_keypoints", ann_id, anns.source, "")
            continue
        center, scale = box_center_scale(ann["bbox"])
        area = ann.get("area")
        area = float(area) if isinstance(area, (int, float)) else scale[0] * scale[1]
        rows.append(
            dict(
                path=paths[ann["image_id"]],
                image_id=ann["image_id"],
                bbox=ann["bbox"],
                center=center,
                scale=scale,
                keypoints=kpts,
                area=area,
                score=1.0,
                image_size=sizes[ann["image_id"]],
            )
        )
    _summary(
        anns.source,
        skipped_ids,
        len(anns.annotations) + sum(len(v) for v in anns.skipped_ids.values()),
        "persons",
    )
    return PersonRecords.from_rows(anns.source, rows, spec.num_keypoints, skipped_ids)


def load_coco_detections(
    det_path: str,
    image_dir: str,
    annotations: CocoAnnotations | str,
    spec: KeypointSpec = COCO,
    score_threshold: float | None = None,
) -> PersonRecords:
    """Person records from a detection results JSON, for evaluation on detected boxes.

    Image files come from the ground-truth JSON's `images` (detections only carry `image_id`); RSN
    keeps category 1 only and applies no score threshold (`score_threshold=None`).

    Args:
      det_path: JSON list of {image_id, category_id, bbox [x, y, w, h], score}.
      image_dir: image folder of the ground-truth JSON.
      annotations: the ground-truth `CocoAnnotations` or its JSON path.
      spec: keypoint layout (only K is used: keypoints are zeros).
      score_threshold: drop detections with score < threshold.
    """
    anns = annotations if isinstance(annotations, CocoAnnotations) else CocoAnnotations.load(annotations)
    if not os.path.isfile(det_path):
        raise PathNotFoundError(f"{det_path}: detection results file does not exist")
    with open(det_path, encoding="utf-8") as f:
        try:
            dets = json.load(f)
        except json.JSONDecodeError as err:
            raise CocoFormatError(f"{det_path}: not valid JSON ({err})") from err
    if not isinstance(dets, list):
        raise CocoFormatError(
            f"{det_path}: top level must be a list of {{image_id, category_id, bbox, score}}"
        )
    paths = dict(zip([img["id"] for img in anns.images], image_paths(anns, image_dir), strict=True))
    sizes = {img["id"]: (img["height"], img["width"]) for img in anns.images}
    skipped_ids: dict[str, list[Any]] = {r: [] for r in DETECTION_SKIP_REASONS}
    rows = []
    for i, det in enumerate(dets):
        ident = f"#{i}"
        bbox = det.get("bbox") if isinstance(det, dict) else None
        score = det.get("score") if isinstance(det, dict) else None
        if not _good_box(bbox) or not _is_number(score):
            _skip(skipped_ids, "bad_detection", ident, det_path, repr(det))
            continue
        if det.get("image_id") not in paths:
            _skip(skipped_ids, "unknown_image", ident, det_path, "")
            continue
        if det.get("category_id") != COCO_PERSON_CATEGORY_ID:
            _skip(skipped_ids, "not_person", ident, det_path, "")
            continue
        if score_threshold is not None and score < score_threshold:
            _skip(skipped_ids, "low_score", ident, det_path, "")
            continue
        center, scale = box_center_scale(bbox)
        rows.append(
            dict(
                path=paths[det["image_id"]],
                image_id=det["image_id"],
                bbox=bbox,
                center=center,
                scale=scale,
                keypoints=np.zeros((spec.num_keypoints, 3), np.float32),
                area=scale[0] * scale[1],
                score=float(score),
                image_size=sizes[det["image_id"]],
            )
        )
    _summary(det_path, skipped_ids, len(dets), "detections")
    return PersonRecords.from_rows(det_path, rows, spec.num_keypoints, skipped_ids)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _good_box(bbox: Any) -> bool:
    return (
        isinstance(bbox, (list, tuple))
        and len(bbox) == 4
        and all(_is_number(v) for v in bbox)
        and bbox[2] > 0
        and bbox[3] > 0
    )
