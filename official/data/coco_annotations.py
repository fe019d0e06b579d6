"""COCO instances JSON: loading, validation and the contiguous class-index map.

Pure Python (no TensorFlow) so that the evaluator and `tools.coco_eval` can use the same validated
annotations as the tf.data readers without importing TensorFlow. `official.data.coco` re-exports
`CocoAnnotations` next to the reader.

Validation policy (one place, shared by the reader, the TFRecord converter and the evaluator):
- a file that is not JSON, or lacks the `images`, `annotations` or `categories` key, or whose image or
  category entries lack required fields, is a `CocoFormatError` naming the file and the key/index;
- a malformed annotation (bbox missing, not 4 finite numbers, width or height <= 0; unknown image id;
  missing or unknown category id; missing annotation id) is logged with its annotation id (or list
  index when the id is missing), skipped and counted by reason in `CocoAnnotations.skipped`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from typing import Any

from absl import logging

from official.core.errors import PathNotFoundError, UserError

REQUIRED_KEYS = ("images", "annotations", "categories")
IMAGE_FIELDS = ("id", "file_name", "width", "height")
SKIP_REASONS = ("missing_id", "bad_bbox", "unknown_image", "missing_category", "unknown_category")
_MAX_LOGGED_PER_REASON = 50  # beyond this only the summary line is logged (ids stay in skipped_ids)


class CocoFormatError(UserError, ValueError):
    """The file is not a usable COCO instances JSON; the message names the file and the key."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_bbox(bbox: Any) -> bool:
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
        return False
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bbox):
        return False
    if not all(math.isfinite(v) for v in bbox):
        return False
    return bbox[2] > 0 and bbox[3] > 0


@dataclasses.dataclass
class CocoAnnotations:
    """Validated COCO instances annotations.

    Attributes:
      source: the JSON path (or "<dict>") used in error messages.
      categories: the category dicts (id, name, ...) sorted by id.
      category_ids: sorted COCO category ids; class index i <-> category_ids[i].
      id_to_index: COCO category id -> contiguous class index 0..C-1.
      index_to_id: contiguous class index -> COCO category id (a list, so index_to_id[i] works).
      images: image dicts (id, file_name, width, height) in file order.
      skipped: number of skipped annotations per reason (every reason in SKIP_REASONS is present).
      skipped_ids: annotation ids (or "#<list index>" when the id is missing) per reason.
      info: the file's other top-level entries (info, licenses), kept for writing a COCO dict back.
    """

    source: str
    categories: list[dict[str, Any]]
    category_ids: list[int]
    id_to_index: dict[int, int]
    index_to_id: list[int]
    images: list[dict[str, Any]]
    skipped: dict[str, int]
    skipped_ids: dict[str, list[Any]]
    info: dict[str, Any]
    _annotations: list[dict[str, Any]] = dataclasses.field(repr=False)
    _by_image: dict[int, list[dict[str, Any]]] = dataclasses.field(repr=False)

    # --- construction ---------------------------------------------------------------------------
    @classmethod
    def load(cls, json_path: str) -> CocoAnnotations:
        """Reads and validates a COCO instances JSON file (see the module docstring for the policy)."""
        if not os.path.isfile(json_path):
            raise CocoFormatError(f"{json_path}: COCO annotation file does not exist")
        with open(json_path, encoding="utf-8") as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as err:
                raise CocoFormatError(f"{json_path}: not valid JSON ({err})") from err
        return cls.from_dict(data, source=json_path)

    @classmethod
    def from_dict(cls, data: Any, source: str = "<dict>") -> CocoAnnotations:
        """Validates an already parsed COCO dict; `source` names it in errors."""
        if not isinstance(data, dict):
            raise CocoFormatError(f"{source}: top level must be a JSON object with keys {REQUIRED_KEYS}")
        for key in REQUIRED_KEYS:
            if key not in data:
                raise CocoFormatError(f"{source}: missing key '{key}' (not a COCO instances file)")
            if not isinstance(data[key], list):
                raise CocoFormatError(f"{source}: '{key}' must be a list, got {type(data[key]).__name__}")
        categories = _validate_categories(data["categories"], source)
        images = _validate_images(data["images"], source)
        category_ids = [c["id"] for c in categories]
        id_to_index = {cid: i for i, cid in enumerate(category_ids)}
        image_ids = {img["id"] for img in images}

        skipped_ids: dict[str, list[Any]] = {reason: [] for reason in SKIP_REASONS}
        kept: list[dict[str, Any]] = []
        for i, ann in enumerate(data["annotations"]):
            reason = _annotation_problem(ann, image_ids, id_to_index)
            if reason is None:
                kept.append(ann)
                continue
            ann_id = ann.get("id") if isinstance(ann, dict) and _is_int(ann.get("id")) else f"#{i}"
            skipped_ids[reason].append(ann_id)
            if len(skipped_ids[reason]) <= _MAX_LOGGED_PER_REASON:
                logging.warning(
                    "%s: skipping annotation id=%s (%s): %s", source, ann_id, reason, _describe(ann)
                )
        skipped = {reason: len(ids) for reason, ids in skipped_ids.items()}
        if any(skipped.values()):
            logging.warning(
                "%s: skipped %d of %d annotations: %s",
                source,
                sum(skipped.values()),
                len(data["annotations"]),
                ", ".join(f"{k}={v}" for k, v in skipped.items() if v),
            )
        by_image: dict[int, list[dict[str, Any]]] = {img["id"]: [] for img in images}
        for ann in kept:
            by_image[ann["image_id"]].append(ann)
        info = {k: v for k, v in data.items() if k not in REQUIRED_KEYS}
        return cls(
            source=source,
            categories=categories,
            category_ids=category_ids,
            id_to_index=id_to_index,
            index_to_id=list(category_ids),
            images=images,
            skipped=skipped,
            skipped_ids=skipped_ids,
            info=info,
            _annotations=kept,
            _by_image=by_image,
        )

    # --- queries --------------------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        return len(self.category_ids)

    @property
    def category_names(self) -> list[str]:
        """Names in class-index order."""
        return [c["name"] for c in self.categories]

    @property
    def annotations(self) -> list[dict[str, Any]]:
        """All kept (valid) annotation dicts, in file order."""
        return self._annotations

    def image_annotations(self, image_id: int) -> list[dict[str, Any]]:
        """Valid annotations of one image (an empty list for an image without boxes)."""
        if image_id not in self._by_image:
            raise KeyError(f"{self.source}: no image with id {image_id}")
        return self._by_image[image_id]

    def image_targets(self, image_id: int) -> tuple[list[list[float]], list[int], list[bool]]:
        """(boxes as [x1, y1, x2, y2] pixels, contiguous class indices, is_crowd) of one image."""
        boxes, classes, crowd = [], [], []
        for ann in self.image_annotations(image_id):
            x, y, w, h = (float(v) for v in ann["bbox"])
            boxes.append([x, y, x + w, y + h])
            classes.append(self.id_to_index[ann["category_id"]])
            crowd.append(bool(ann.get("iscrowd", 0)))
        return boxes, classes, crowd

    def to_coco_dict(self) -> dict[str, Any]:
        """The validated dataset as a COCO dict (skipped annotations removed; a missing `area` is
        filled as w*h and a missing `iscrowd` as 0, since COCOeval reads both)."""
        anns = []
        for ann in self._annotations:
            if "area" not in ann or "iscrowd" not in ann:
                ann = dict(ann)
                ann.setdefault("area", float(ann["bbox"][2]) * float(ann["bbox"][3]))
                ann.setdefault("iscrowd", 0)
            anns.append(ann)
        out = dict(self.info)
        out.update(images=self.images, annotations=anns, categories=self.categories)
        return out


def _validate_categories(categories: list[Any], source: str) -> list[dict[str, Any]]:
    seen: set[int] = set()
    for i, cat in enumerate(categories):
        if not isinstance(cat, dict) or not _is_int(cat.get("id")):
            raise CocoFormatError(f"{source}: categories[{i}] has no integer 'id'")
        if "name" not in cat:
            raise CocoFormatError(f"{source}: categories[{i}] (id {cat['id']}) has no 'name'")
        if cat["id"] in seen:
            raise CocoFormatError(f"{source}: categories[{i}] repeats category id {cat['id']}")
        seen.add(cat["id"])
    if not categories:
        raise CocoFormatError(f"{source}: 'categories' is empty")
    return sorted(categories, key=lambda c: c["id"])


def _validate_images(images: list[Any], source: str) -> list[dict[str, Any]]:
    seen: set[int] = set()
    for i, img in enumerate(images):
        if not isinstance(img, dict):
            raise CocoFormatError(f"{source}: images[{i}] is not an object")
        for field in IMAGE_FIELDS:
            if field not in img:
                raise CocoFormatError(f"{source}: images[{i}] has no '{field}'")
        if not _is_int(img["id"]):
            raise CocoFormatError(f"{source}: images[{i}].id must be an integer, got {img['id']!r}")
        for field in ("width", "height"):
            if not _is_int(img[field]) or img[field] <= 0:
                raise CocoFormatError(f"{source}: images[{i}].{field} must be a positive integer")
        if img["id"] in seen:
            raise CocoFormatError(f"{source}: images[{i}] repeats image id {img['id']}")
        seen.add(img["id"])
    return images


def _annotation_problem(ann: Any, image_ids: set[int], id_to_index: dict[int, int]) -> str | None:
    """The skip reason of one annotation, or None when it is usable."""
    if not isinstance(ann, dict) or not _is_int(ann.get("id")):
        return "missing_id"
    if not _check_bbox(ann.get("bbox")):
        return "bad_bbox"
    if not _is_int(ann.get("image_id")) or ann["image_id"] not in image_ids:
        return "unknown_image"
    if "category_id" not in ann or ann["category_id"] is None:
        return "missing_category"
    if not _is_int(ann["category_id"]) or ann["category_id"] not in id_to_index:
        return "unknown_category"
    return None


def _describe(ann: Any) -> str:
    if not isinstance(ann, dict):
        return repr(ann)[:80]
    fields = {k: ann.get(k) for k in ("image_id", "category_id", "bbox") if k in ann}
    return json.dumps(fields, default=str)[:200]


def image_paths(annotations: CocoAnnotations, image_dir: str) -> list[str]:
    """Paths of all images in file order; a missing file is a FileNotFoundError naming its path.

    Missing images are an error rather than a skip: a COCO split with absent files is almost always
    a wrong `image_dir`, and silently training on part of it would hide that.
    """
    if not os.path.isdir(image_dir):
        raise PathNotFoundError(f"{image_dir}: image folder does not exist (for {annotations.source})")
    paths = [os.path.join(image_dir, img["file_name"]) for img in annotations.images]
    missing = [(i, p) for i, p in enumerate(paths) if not os.path.isfile(p)]
    if missing:
        i, path = missing[0]
        raise PathNotFoundError(
            f"{path}: image file of images[{i}] (id {annotations.images[i]['id']}) in "
            f"{annotations.source} does not exist ({len(missing)} of {len(paths)} images missing)"
        )
    return paths
