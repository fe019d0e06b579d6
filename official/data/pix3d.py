"""Pix3D (Sun et al., CVPR 2018) `pix3d.json`: images, instance masks, CAD models and 6-DoF poses.

Format (the released pix3d.json, a JSON list with one record per image; fields read here):
    img            "img/chair/0001.png"         image path, relative to the dataset root
    category       "chair"                      one of CATEGORIES
    img_size       [width, height]              pixels
    mask           "mask/chair/0001.png"        binary instance mask (PNG), same size as the image
    model          "model/chair/IKEA_X/model.obj"   the CAD model (OBJ)
    rot_mat        3 x 3                        object-to-camera rotation
    trans_mat      [3]                          object-to-camera translation (metres)
    focal_length   35.0                         millimetres, 35 mm equivalent on a 32 mm wide sensor
    bbox           [x1, y1, x2, y2]             pixels
(other fields: cam_position, inplane_rotation, truncated, occluded, 2d/3d_keypoints, voxel: not needed here).
Intrinsics as Mesh R-CNN's Pix3D loader builds them: fx = fy = focal_length * width / 32 (mm -> px on a
32 mm sensor), principal point at the image centre (width / 2, height / 2).
Camera axes: Pix3D's camera frame is the one rot_mat / trans_mat map into, used as released (Mesh R-CNN
flips x and y of the posed mesh to reach its rendering frame; that convention stays with the evaluator).

Bad records (a missing or malformed field, an unknown category, a missing image or mask file) are counted
by reason, logged (the first few with the field named) and skipped; a missing or non-JSON file, or a file
whose records are all bad, raises `Pix3DFormatError` naming the file (and the first bad field).
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import numpy as np
from absl import logging
from scipy.spatial.transform import Rotation

from official.core.errors import PathNotFoundError, UserError

CATEGORIES = ("bed", "bookcase", "chair", "desk", "misc", "sofa", "table", "tool", "wardrobe")
SENSOR_WIDTH_MM = 32.0  # Pix3D focal lengths are 35 mm equivalents on a 32 mm wide sensor
SKIP_REASONS = ("missing_field", "bad_value", "unknown_category", "missing_file")
_MAX_LOGGED = 5


class Pix3DFormatError(UserError, ValueError):
    """A missing or malformed pix3d.json; the message names the file and the field."""


@dataclasses.dataclass
class Pix3DRecords:
    """The kept records as parallel arrays (N records), plus the skip counts by reason."""

    image: list[str]  # absolute image paths
    mask: list[str]  # absolute mask paths
    model: list[str]  # CAD model paths as written in the JSON (relative to the root)
    category: np.ndarray  # (N,) int32 index into CATEGORIES
    image_size: np.ndarray  # (N, 2) int32 (width, height)
    intrinsics: np.ndarray  # (N, 3, 3) float64 K in pixels
    rotation: np.ndarray  # (N, 3, 3) float64 rot_mat
    quaternion: np.ndarray  # (N, 4) float64 [w, x, y, z], w >= 0, of rot_mat
    translation: np.ndarray  # (N, 3) float64 trans_mat (metres)
    bbox: np.ndarray  # (N, 4) float32 x1, y1, x2, y2 pixels
    skipped: dict[str, int]

    def __len__(self) -> int:
        return len(self.image)


def intrinsics(focal_length_mm: float, width: float, height: float) -> np.ndarray:
    """K (3, 3) in pixels: f_px = f_mm * width / 32, principal point at the image centre."""
    f = focal_length_mm * width / SENSOR_WIDTH_MM
    return np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])


class _Skip(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def _array(record: dict, field: str, shape: tuple[int, ...]) -> np.ndarray:
    if field not in record:
        raise _Skip("missing_field", f"field '{field}' missing")
    try:
        value = np.asarray(record[field], np.float64)
    except (TypeError, ValueError):
        raise _Skip("bad_value", f"field '{field}' is not numeric: {record[field]!r}"[:200]) from None
    if value.shape != shape or not np.isfinite(value).all():
        raise _Skip("bad_value", f"field '{field}' must be {shape} finite numbers, got {record[field]!r}"[:200])
    return value


def _string(record: dict, field: str) -> str:
    if field not in record:
        raise _Skip("missing_field", f"field '{field}' missing")
    if not isinstance(record[field], str) or not record[field]:
        raise _Skip("bad_value", f"field '{field}' must be a non-empty string, got {record[field]!r}"[:200])
    return record[field]


def _parse(record: Any, root: str, check_files: bool) -> dict:
    if not isinstance(record, dict):
        raise _Skip("bad_value", f"record is a {type(record).__name__}, not an object")
    category = _string(record, "category")
    if category not in CATEGORIES:
        raise _Skip("unknown_category", f"field 'category' is {category!r}, not one of {CATEGORIES}")
    img, mask, model = (_string(record, f) for f in ("img", "mask", "model"))
    size = _array(record, "img_size", (2,))
    if (size <= 0).any() or (size != np.round(size)).any():
        raise _Skip("bad_value", f"field 'img_size' must be two positive integers, got {record['img_size']}")
    rot = _array(record, "rot_mat", (3, 3))
    if not np.allclose(rot @ rot.T, np.eye(3), atol=1e-3) or np.linalg.det(rot) < 0:
        raise _Skip("bad_value", "field 'rot_mat' is not a rotation matrix (orthonormal, det +1)")
    trans = _array(record, "trans_mat", (3,))
    focal = _array(record, "focal_length", ())
    if focal <= 0:
        raise _Skip("bad_value", f"field 'focal_length' must be positive (mm), got {record['focal_length']}")
    bbox = _array(record, "bbox", (4,))
    if bbox[2] <= bbox[0] or bbox[3] <= bbox[1]:
        raise _Skip("bad_value", f"field 'bbox' must be x1 < x2, y1 < y2, got {record['bbox']}")
    paths = {f: os.path.join(root, p) for f, p in (("img", img), ("mask", mask))}
    if check_files:
        for field, path in paths.items():
            if not os.path.isfile(path):
                raise _Skip("missing_file", f"field '{field}': {path} not found")
    quat = Rotation.from_matrix(rot).as_quat(scalar_first=True)
    return {"image": paths["img"], "mask": paths["mask"], "model": model, "category": CATEGORIES.index(category),
            "image_size": size.astype(np.int32), "intrinsics": intrinsics(float(focal), size[0], size[1]),
            "rotation": rot, "quaternion": quat * (-1.0 if quat[0] < 0 else 1.0), "translation": trans,
            "bbox": bbox.astype(np.float32)}


def load_pix3d(json_path: str, root: str | None = None, check_files: bool = True) -> Pix3DRecords:
    """The records of a pix3d.json (root defaults to its folder), bad ones counted and skipped."""
    if not os.path.isfile(json_path):
        raise PathNotFoundError(f"{json_path}: pix3d.json not found")
    with open(json_path, encoding="utf-8") as f:
        try:
            raw = json.load(f)
        except json.JSONDecodeError as err:
            raise Pix3DFormatError(f"{json_path}: not valid JSON ({err})") from err
    if not isinstance(raw, list):
        raise Pix3DFormatError(f"{json_path}: expected a list of records (pix3d.json), got {type(raw).__name__}")
    root = os.path.dirname(os.path.abspath(json_path)) if root is None else root
    kept, skipped, first = [], {r: 0 for r in SKIP_REASONS}, None
    for i, record in enumerate(raw):
        try:
            kept.append(_parse(record, root, check_files))
        except _Skip as skip:
            skipped[skip.reason] += 1
            first = first or f"record {i}: {skip.detail}"
            if sum(skipped.values()) <= _MAX_LOGGED:
                logging.warning("%s: skipping record %d (%s): %s", json_path, i, skip.reason, skip.detail)
    if not kept:
        raise Pix3DFormatError(f"{json_path}: no usable record of {len(raw)}" + (f"; first problem: {first}" if first
                                                                                   else ""))
    if any(skipped.values()):
        logging.warning("%s: skipped %s; kept %d records", json_path, {k: v for k, v in skipped.items() if v},
                        len(kept))

    def stack(key, dtype):
        return np.stack([r[key] for r in kept]).astype(dtype)

    return Pix3DRecords(
        image=[r["image"] for r in kept], mask=[r["mask"] for r in kept], model=[r["model"] for r in kept],
        category=np.array([r["category"] for r in kept], np.int32), image_size=stack("image_size", np.int32),
        intrinsics=stack("intrinsics", np.float64), rotation=stack("rotation", np.float64),
        quaternion=stack("quaternion", np.float64), translation=stack("translation", np.float64),
        bbox=stack("bbox", np.float32), skipped=skipped)


def pix3d_dataset(records: Pix3DRecords):
    """tf.data of dicts: image (H, W, 3) uint8, mask (H, W, 1) float32 in {0, 1}, category, intrinsics (3, 3),
    rotation (3, 3), quaternion (4,), translation (3,) float32, bbox (4,), model (string path)."""
    import tensorflow as tf

    slices = {
        "image_path": records.image, "mask_path": records.mask, "model": records.model,
        "category": records.category, "intrinsics": records.intrinsics.astype(np.float32),
        "rotation": records.rotation.astype(np.float32), "quaternion": records.quaternion.astype(np.float32),
        "translation": records.translation.astype(np.float32), "bbox": records.bbox,
    }

    def load(example):
        image = tf.io.decode_image(tf.io.read_file(example["image_path"]), channels=3, expand_animations=False)
        mask = tf.io.decode_image(tf.io.read_file(example["mask_path"]), channels=1, expand_animations=False)
        out = {k: v for k, v in example.items() if not k.endswith("_path")}
        out["image"] = image
        out["mask"] = tf.cast(mask > 127, tf.float32)
        return out

    return tf.data.Dataset.from_tensor_slices(slices).map(load, num_parallel_calls=tf.data.AUTOTUNE)
