"""COCO instances JSON (ground truth) and COCO results JSON (predictions) -> validated TIDE `Data`.

Unlike training readers, nothing is skipped: TIDE must see exactly the annotations a reference
evaluator sees, so any entry it cannot use is a `TideInputError` naming the file and the index.
Ground truth with `iscrowd` becomes an ignore region of its class. In mask mode polygons and
uncompressed RLE are converted to compressed RLE with the image's size (pycocotools).
Predictions are checked in bulk with numpy; only when a check fails is the list walked again to
name the first bad entry.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Hashable
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from official.evaluation.tide.data import Data
from official.evaluation.tide.errors import TideInputError
from official.evaluation.tide.pairs import canonical_mode

_NUMBER = (int, float, np.integer, np.floating)


def _read_json(source: str | Any, what: str) -> tuple[Any, str]:
    if not isinstance(source, (str, os.PathLike)):
        return source, f"<{what} object>"
    path = os.fspath(source)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f), path
    except FileNotFoundError:
        raise TideInputError(f"{path}: {what} file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise TideInputError(f"{path}: {what} file is not JSON ({err})") from None


def _is_number(v: Any) -> bool:
    return isinstance(v, _NUMBER) and not isinstance(v, bool) and math.isfinite(v)


def _numeric_types(types: set[type]) -> bool:
    """Whether every type is a real number type (Python or numpy), bool excluded."""
    return all(issubclass(t, _NUMBER) and not issubclass(t, (bool, np.bool_)) for t in types)


def _box_problem(box: Any) -> str | None:
    if not isinstance(box, (list, tuple, np.ndarray)) or len(box) != 4 or not all(_is_number(v) for v in box):
        return f"bbox must be 4 finite numbers [x, y, w, h], got {box!r}"
    if box[2] < 0 or box[3] < 0:
        return f"bbox has negative size {list(box)!r}"
    return None


def _to_rle(seg: Any, size: tuple[int, int] | None) -> tuple[Any, str | None]:
    """Compressed RLE of a COCO segmentation, or (None, problem)."""
    if size is None:
        return None, "its image has no width/height (needed for masks)"
    h, w = size
    try:
        if isinstance(seg, list):
            if not seg or not all(isinstance(p, list) and len(p) >= 6 for p in seg):
                return None, "segmentation polygons must be lists of >= 3 (x, y) points"
            return mask_utils.merge(mask_utils.frPyObjects(seg, h, w)), None
        if isinstance(seg, dict) and "counts" in seg and "size" in seg:
            if list(seg["size"]) != [h, w]:
                return None, f"segmentation size {seg['size']} differs from its image's [height, width] {[h, w]}"
            if isinstance(seg["counts"], list):
                return mask_utils.frPyObjects(seg, h, w), None
            return seg, None
    except (TypeError, ValueError, IndexError) as err:
        return None, f"segmentation cannot be read ({err})"
    return None, f"segmentation must be polygons or RLE, got {type(seg).__name__}"


class CocoGroundTruth:
    """A validated COCO instances file: the TIDE `Data` plus the lookups predictions are checked against."""

    def __init__(self, source: str | dict[str, Any], mode: str = "box", max_dets: int = 100):
        self.mode = canonical_mode(mode)
        doc, self.source = _read_json(source, "ground-truth")
        src = self.source
        if not isinstance(doc, dict):
            raise TideInputError(f"{src}: not a COCO instances JSON (top level is {type(doc).__name__}, not an object)")
        for key in ("images", "annotations", "categories"):
            if not isinstance(doc.get(key), list):
                raise TideInputError(f"{src}: not a COCO instances JSON: key {key!r} missing or not a list")
        name = os.path.splitext(os.path.basename(src))[0] if not src.startswith("<") else "gt"
        self.data = Data(name, max_dets=max_dets)
        self.image_size: dict[Hashable, tuple[int, int] | None] = {}
        for i, img in enumerate(doc["images"]):
            if not isinstance(img, dict) or not isinstance(img.get("id"), (int, str)) or isinstance(img.get("id"), bool):
                raise TideInputError(f"{src}: images[{i}] needs an integer or string 'id'")
            if img["id"] in self.image_size:
                raise TideInputError(f"{src}: images[{i}] repeats image id {img['id']!r}")
            h, w = img.get("height"), img.get("width")
            ok = isinstance(h, int) and isinstance(w, int) and h > 0 and w > 0
            if self.mode == "mask" and not ok:
                raise TideInputError(f"{src}: images[{i}] needs positive integer 'width' and 'height' in mask mode")
            self.image_size[img["id"]] = (h, w) if ok else None
            self.data.add_image(img["id"], str(img.get("file_name", img["id"])))
        self.category_ids: set[Any] = set()
        for i, cat in enumerate(doc["categories"]):
            if not isinstance(cat, dict) or not isinstance(cat.get("id"), int) or isinstance(cat.get("id"), bool):
                raise TideInputError(f"{src}: categories[{i}] needs an integer 'id'")
            self.category_ids.add(cat["id"])
            self.data.add_class(cat["id"], str(cat.get("name", cat["id"])))
        cols: dict[str, list[Any]] = {"img": [], "cls": [], "box": [], "mask": [], "crowd": []}
        for i, ann in enumerate(doc["annotations"]):
            box, mask, crowd = self._annotation(i, ann)
            cols["img"].append(ann["image_id"])
            cols["cls"].append(ann["category_id"])
            cols["box"].append(box)
            cols["mask"].append(mask)
            cols["crowd"].append(crowd)
        self.data.extend(cols["img"], cols["cls"], boxes=cols["box"], masks=cols["mask"], ignore=cols["crowd"])

    def _annotation(self, i: int, ann: Any) -> tuple[Any, Any, bool]:
        where = f"{self.source}: annotations[{i}]"
        if not isinstance(ann, dict):
            raise TideInputError(f"{where} is not an object")
        try:
            known_image = ann.get("image_id") in self.image_size
        except TypeError:
            known_image = False
        if not known_image:
            raise TideInputError(f"{where}: image_id {ann.get('image_id')!r} is not in 'images'")
        if ann.get("category_id") not in self.category_ids:
            raise TideInputError(f"{where}: category_id {ann.get('category_id')!r} is not in 'categories'")
        crowd = ann.get("iscrowd", 0)
        if crowd not in (0, 1):
            raise TideInputError(f"{where}: iscrowd must be 0 or 1, got {crowd!r}")
        box = ann.get("bbox")
        if box is not None or self.mode == "bbox":
            problem = _box_problem(box)
            if problem:
                raise TideInputError(f"{where}: {problem}")
            box = [float(v) for v in box]
        mask = None
        if self.mode == "mask":
            if "segmentation" not in ann:
                raise TideInputError(f"{where}: no 'segmentation' (needed in mask mode)")
            mask, problem = _to_rle(ann["segmentation"], self.image_size[ann["image_id"]])
            if problem:
                raise TideInputError(f"{where}: {problem}")
        return box, mask, bool(crowd)


def _prediction_problem(i: int, det: Any, gt: CocoGroundTruth) -> str | None:
    """Why predictions[i] is unusable, or None (the slow path that names the first bad entry)."""
    if not isinstance(det, dict):
        return "is not an object"
    for key in ("image_id", "category_id", "score"):
        if key not in det:
            return f"has no {key!r}"
    try:
        known = det["image_id"] in gt.image_size
    except TypeError:
        known = False
    if not known:
        return f"image_id {det['image_id']!r} is not in the ground truth's images"
    if det["category_id"] not in gt.category_ids or isinstance(det["category_id"], bool):
        return f"category_id {det['category_id']!r} is not in the ground truth's categories"
    if not _is_number(det["score"]):  # any finite score: scores only rank, as in tidecv / pycocotools
        return f"score {det['score']!r} is not a finite number"
    if gt.mode == "bbox" or "bbox" in det:
        return _box_problem(det.get("bbox"))
    if "segmentation" not in det:
        return "has no 'segmentation' (needed in mask mode)"
    return None


def load_predictions(source: str | list[dict[str, Any]], gt: CocoGroundTruth, name: str | None = None) -> Data:
    """A COCO results list (or JSON path) validated against `gt` -> predictions `Data`."""
    dets, src = _read_json(source, "predictions")
    if not isinstance(dets, list):
        raise TideInputError(f"{src}: predictions must be a JSON list of results, got {type(dets).__name__}")

    def fail() -> TideInputError:
        for i, det in enumerate(dets):
            problem = _prediction_problem(i, det, gt)
            if problem:
                return TideInputError(f"{src}: predictions[{i}] {problem}")
        return TideInputError(f"{src}: predictions are not COCO results")

    try:
        image_ids = [d["image_id"] for d in dets]
        class_ids = [d["category_id"] for d in dets]
        scores = [d["score"] for d in dets]
        known_img = all(map(gt.image_size.__contains__, image_ids))
        known_cls = all(map(gt.category_ids.__contains__, class_ids)) and bool not in set(map(type, class_ids))
    except (KeyError, TypeError):
        raise fail() from None
    if not (known_img and known_cls and _numeric_types(set(map(type, scores)))):
        raise fail()
    score_arr = np.asarray(scores, dtype=np.float64).reshape(len(dets))
    if not np.isfinite(score_arr).all():
        raise fail()
    boxes: Any = None
    has_box = [("bbox" in d) for d in dets]
    if dets and (gt.mode == "bbox" or any(has_box)):
        if not all(has_box):
            raise fail()
        try:
            arr = np.asarray([d["bbox"] for d in dets])
        except ValueError:
            raise fail() from None
        if arr.dtype.kind not in "iuf" or arr.shape != (len(dets), 4) or not np.isfinite(arr).all() \
                or (arr[:, 2:] < 0).any():
            raise fail()
        boxes = arr.astype(np.float64)
    masks = None
    if gt.mode == "mask":
        masks = []
        for i, d in enumerate(dets):
            if "segmentation" not in d:
                raise TideInputError(f"{src}: predictions[{i}] has no 'segmentation' (needed in mask mode)")
            rle, problem = _to_rle(d["segmentation"], gt.image_size[d["image_id"]])
            if problem:
                raise TideInputError(f"{src}: predictions[{i}] {problem}")
            masks.append(rle)
    if name is None:
        name = os.path.splitext(os.path.basename(src))[0] if not src.startswith("<") else "predictions"
    data = Data(name)
    data.extend(image_ids, class_ids, scores=score_arr.tolist(), boxes=boxes, masks=masks)
    return data
