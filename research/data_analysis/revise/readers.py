"""Readers: COCO instances JSON, OpenImages box CSVs, per-image attribute and location JSON files.

COCO parsing and validation are `official.data.coco_annotations.CocoAnnotations` (bad annotations are
counted and skipped there); this module only converts to REVISE's normalised [x0, x1, y0, y1] boxes.
Every malformed input is a `ReviseInputError` naming the file and the field.

Side inputs (forms chosen to match what the official dataset classes return per image):
- attributes JSON: {"attribute_names": ["female", "male"], "images": {"<file_name>": "female", ...}}.
  A value is one attribute per image, attached to the image's largest person box (the official COCO
  loader with the Zhao et al. gender labels does the same); a list of values, one per person box in
  file order, is also accepted.
- locations JSON: {"<file_name>": "Country name" | {"lat": 40.7, "lng": -74.0}, ...}.
- or, for OpenImages, attributes from the box labels themselves (`attributes_from_labels`): an image
  with only Woman/Girl boxes is 'female', only Man/Boy boxes 'male', both or neither unannotated; the
  largest such box is the person box (the official OpenImagesDataset.setup_anns rule).
"""

from __future__ import annotations

import csv
import json
import math
import os
from typing import Any

import numpy as np

from official.core.errors import PathNotFoundError, UserError
from official.data.coco_annotations import CocoAnnotations, image_paths
from research.data_analysis.revise import boxes as box_ops
from research.data_analysis.revise.dataset import AuditDataset, ImageRecord, supercategory_index

DEFAULT_PEOPLE = ("person", "man", "woman", "boy", "girl")
GENDER_LABELS = {"female": ("woman", "girl"), "male": ("man", "boy")}  # official OpenImages rule
# OpenImages train-annotations-bbox.csv columns REVISE reads (ImageID, LabelName, XMin, XMax, YMin, YMax)
OPENIMAGES_COLUMNS = ("ImageID", "LabelName", "XMin", "XMax", "YMin", "YMax")


class ReviseInputError(UserError, ValueError):
    """An input file of tools.revise is malformed; the message starts with the file and names the field."""


def _load_json(path: str, what: str) -> Any:
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: {what} file does not exist")
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as err:
            raise ReviseInputError(f"{path}: not valid JSON ({err})") from err


def _people(categories: list[str], people_names) -> set[int]:
    wanted = {n.strip().lower() for n in people_names}
    return {i for i, name in enumerate(categories) if name.lower() in wanted}


def read_coco(json_path: str, image_dir: str | None, people_names=DEFAULT_PEOPLE) -> AuditDataset:
    """A COCO instances file; image sizes come from its `width`/`height` fields."""
    coco = CocoAnnotations.load(json_path)
    paths = image_paths(coco, image_dir) if image_dir else [None] * len(coco.images)
    supers, super_of = supercategory_index([c.get("supercategory") or c["name"] for c in coco.categories])
    records = []
    for img, path in zip(coco.images, paths, strict=True):
        anns = coco.image_annotations(img["id"])
        boxes = [box_ops.coco_to_revise(a["bbox"], img["width"], img["height"]) for a in anns]
        labels = [coco.id_to_index[a["category_id"]] for a in anns]
        records.append(ImageRecord(
            file_name=img["file_name"], path=path, boxes=np.array(boxes, float).reshape(-1, 4),
            labels=np.array(labels, int)))
    categories = coco.category_names
    return AuditDataset(source=json_path, categories=categories, supercategory_of=super_of,
                        supercategories=supers, people=_people(categories, people_names), images=records,
                        skipped={k: v for k, v in coco.skipped.items() if v})


def _read_classes(path: str) -> dict[str, str]:
    """class-descriptions-boxable.csv: rows `LabelName,DisplayName` without a header."""
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: classes CSV does not exist")
    names = {}
    with open(path, newline="", encoding="utf-8") as f:
        for line_no, row in enumerate(csv.reader(f), start=1):
            if not row:
                continue
            if len(row) < 2:
                raise ReviseInputError(f"{path}: line {line_no} needs LabelName,DisplayName")
            names[row[0]] = row[1]
    return names


def read_openimages(boxes_csv: str, classes_csv: str | None = None, image_dir: str | None = None,
                    people_names=DEFAULT_PEOPLE) -> AuditDataset:
    """OpenImages boxes (already normalised, XMin/XMax/YMin/YMax); images are IMAGE_DIR/<ImageID>.jpg."""
    if not os.path.isfile(boxes_csv):
        raise PathNotFoundError(f"{boxes_csv}: OpenImages boxes CSV does not exist")
    display = _read_classes(classes_csv) if classes_csv else {}
    per_image: dict[str, list[tuple[str, list[float]]]] = {}
    skipped = {"bad_box": 0}
    with open(boxes_csv, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in OPENIMAGES_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ReviseInputError(f"{boxes_csv}: header lacks column {missing[0]} (needs {', '.join(OPENIMAGES_COLUMNS)})")
        for row in reader:
            try:
                box = [float(row[k]) for k in ("XMin", "XMax", "YMin", "YMax")]
            except (TypeError, ValueError):
                skipped["bad_box"] += 1
                continue
            if not all(math.isfinite(v) for v in box) or box[1] <= box[0] or box[3] <= box[2]:
                skipped["bad_box"] += 1
                continue
            per_image.setdefault(row["ImageID"], []).append((row["LabelName"], box))
    labels_seen = sorted({label for anns in per_image.values() for label, _ in anns})
    codes = list(display) if display else labels_seen
    unknown = [c for c in labels_seen if c not in set(codes)]
    if unknown:
        raise ReviseInputError(f"{boxes_csv}: LabelName {unknown[0]} is not in {classes_csv}")
    index = {c: i for i, c in enumerate(codes)}
    categories = [display.get(c, c) for c in codes]
    records = []
    for image_id, anns in per_image.items():
        path = None
        if image_dir:
            path = os.path.join(image_dir, f"{image_id}.jpg")
            if not os.path.isfile(path):
                raise PathNotFoundError(f"{path}: image of ImageID {image_id} in {boxes_csv} does not exist")
        records.append(ImageRecord(
            file_name=image_id, path=path, boxes=np.array([b for _, b in anns], float).reshape(-1, 4),
            labels=np.array([index[label] for label, _ in anns], int)))
    # OpenImages has no supercategories: each category is its own group
    return AuditDataset(source=boxes_csv, categories=categories, supercategory_of=list(range(len(categories))),
                        supercategories=list(categories), people=_people(categories, people_names),
                        images=records, skipped={k: v for k, v in skipped.items() if v})


def attach_attributes(dataset: AuditDataset, path: str) -> None:
    """Reads the attributes JSON (module docstring) and attaches values and person boxes to the images."""
    data = _load_json(path, "attributes")
    if not isinstance(data, dict) or not isinstance(data.get("images"), dict):
        raise ReviseInputError(f"{path}: needs an object with 'images' mapping file names to attribute values")
    values = data["images"]
    names = data.get("attribute_names")
    if names is None:
        names = sorted({v for vals in values.values() for v in (vals if isinstance(vals, list) else [vals])})
    if not isinstance(names, list) or len(names) < 2:
        raise ReviseInputError(f"{path}: 'attribute_names' must list at least two values")
    index = {str(n): i for i, n in enumerate(names)}
    by_name = {img.file_name: img for img in dataset.images}
    for file_name, vals in values.items():
        img = by_name.get(file_name)
        if img is None:
            raise ReviseInputError(f"{path}: images.{file_name} is not an image of {dataset.source}")
        vals = vals if isinstance(vals, list) else [vals]
        for v in vals:
            if str(v) not in index:
                raise ReviseInputError(f"{path}: images.{file_name} value {v!r} is not in attribute_names {names}")
        person = [box for box, label in zip(img.boxes, img.labels, strict=True) if int(label) in dataset.people]
        if not person:
            raise ReviseInputError(f"{path}: images.{file_name} has an attribute but no person box in {dataset.source}")
        if len(vals) == 1:
            person = [max(person, key=box_ops.area)]  # the largest person, as the official COCO loader
        elif len(vals) != len(person):
            raise ReviseInputError(f"{path}: images.{file_name} lists {len(vals)} values for {len(person)} person boxes")
        img.attributes = [index[str(v)] for v in vals]
        img.person_boxes = [list(map(float, b)) for b in person]
    dataset.attribute_names = [str(n) for n in names]


def attach_locations(dataset: AuditDataset, path: str) -> None:
    """Reads the locations JSON (module docstring): a country name or {"lat", "lng"} per file name."""
    data = _load_json(path, "locations")
    if not isinstance(data, dict):
        raise ReviseInputError(f"{path}: needs an object mapping file names to a country or {{lat, lng}}")
    by_name = {img.file_name: img for img in dataset.images}
    for file_name, loc in data.items():
        img = by_name.get(file_name)
        if img is None:
            raise ReviseInputError(f"{path}: {file_name} is not an image of {dataset.source}")
        if isinstance(loc, str):
            img.location = loc
        elif isinstance(loc, dict):
            try:
                lat, lng = float(loc["lat"]), float(loc["lng"])
            except (KeyError, TypeError, ValueError) as err:
                raise ReviseInputError(f"{path}: {file_name} needs numeric 'lat' and 'lng'") from err
            if not (-90 <= lat <= 90 and -180 <= lng <= 180):
                raise ReviseInputError(f"{path}: {file_name} lat/lng ({lat}, {lng}) out of range")
            img.location = (lat, lng)
        else:
            raise ReviseInputError(f"{path}: {file_name} must be a country name or {{lat, lng}}")


def attributes_from_labels(dataset: AuditDataset, groups: dict[str, tuple[str, ...]] = GENDER_LABELS) -> int:
    """Sets each image's attribute from its box labels (module docstring); returns the annotated count."""
    names = list(groups)
    members = [{i for i, c in enumerate(dataset.categories) if c.lower() in groups[n]} for n in names]
    if not any(members):
        raise ReviseInputError(f"{dataset.source}: no category named {', '.join(sum(groups.values(), ()))} "
                               "to derive attributes from")
    annotated = 0
    for img in dataset.images:
        present = [v for v, cats in enumerate(members) if cats & set(map(int, img.labels))]
        if len(present) != 1:
            continue
        boxes = [b for b, label in zip(img.boxes, img.labels, strict=True) if int(label) in members[present[0]]]
        img.attributes = present
        img.person_boxes = [list(map(float, max(boxes, key=box_ops.area)))]
        annotated += 1
    dataset.attribute_names = names
    return annotated
