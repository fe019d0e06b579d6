"""Scan2CAD (Avetisyan et al., CVPR 2019) alignment annotations: `full_annotations.json`.

Format (a JSON list, one entry per ScanNet scan; fields read here):
    id_scan          "scene0470_00"
    trs              {translation [3], rotation [w, x, y, z], scale [3]}   scan -> world of the alignment
    aligned_models   list of
        catid_cad    "03001627"              ShapeNet synset (category)
        id_cad       "bdc892547cceb2ef34dedfee80b7006"   ShapeNet model id
        trs          {translation [3], rotation [w, x, y, z], scale [3]}   CAD -> world
        bbox [3], center [3], sym, keypoints_cad, keypoints_scan   (not needed here)
The 4x4 transform of a `trs` is M = T(translation) @ R(rotation) @ S(scale) (Scan2CAD's make_M_from_tqs), so a
CAD vertex x maps to R (s * x) + t. The CAD pose in the scan's frame is inv(M_scan) @ M_cad; a ScanNet frame
(ScanNet25k, Mask2CAD's benchmark) further needs that frame's camera pose from ScanNet, which is not in this
file.

One record per aligned model (flattened over scans). Bad alignments (a missing or malformed field, a zero
quaternion or scale) are counted by reason, logged and skipped; a bad scan entry (no id_scan / trs) skips all
its models; a missing or non-JSON file, or one with no usable alignment, raises `Scan2CADFormatError`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import numpy as np
from absl import logging

from official.core.errors import PathNotFoundError, UserError

SKIP_REASONS = ("missing_field", "bad_value")
_MAX_LOGGED = 5


class Scan2CADFormatError(UserError, ValueError):
    """A missing or malformed Scan2CAD annotation file; the message names the file and the field."""


@dataclasses.dataclass
class Scan2CADRecords:
    """N aligned models as parallel arrays, plus the skip counts by reason."""

    scan_id: list[str]
    catid_cad: list[str]
    id_cad: list[str]
    scan_translation: np.ndarray  # (N, 3) the scan's trs
    scan_rotation: np.ndarray  # (N, 4) [w, x, y, z], unit, w >= 0
    scan_scale: np.ndarray  # (N, 3)
    translation: np.ndarray  # (N, 3) the CAD model's trs
    rotation: np.ndarray  # (N, 4) [w, x, y, z], unit, w >= 0
    scale: np.ndarray  # (N, 3)
    skipped: dict[str, int]

    def __len__(self) -> int:
        return len(self.id_cad)


def quaternion_matrix(q: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation of unit [w, x, y, z] quaternions."""
    w, x, y, z = np.moveaxis(np.asarray(q, np.float64), -1, 0)
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
    ], -2)


def trs_matrix(translation: np.ndarray, rotation: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(..., 4, 4) M = T @ R @ S of Scan2CAD trs fields (make_M_from_tqs)."""
    translation = np.asarray(translation, np.float64)
    m = np.zeros(translation.shape[:-1] + (4, 4))
    m[..., :3, :3] = quaternion_matrix(rotation) * np.asarray(scale, np.float64)[..., None, :]
    m[..., :3, 3] = translation
    m[..., 3, 3] = 1.0
    return m


def cad_in_scan(records: Scan2CADRecords) -> np.ndarray:
    """(N, 4, 4) CAD -> scan transforms: inv(M_scan) @ M_cad."""
    m_scan = trs_matrix(records.scan_translation, records.scan_rotation, records.scan_scale)
    m_cad = trs_matrix(records.translation, records.rotation, records.scale)
    return np.linalg.inv(m_scan) @ m_cad


class _Skip(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def _trs(entry: dict, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    trs = entry.get("trs")
    if not isinstance(trs, dict):
        raise _Skip("missing_field", f"{where}: field 'trs' missing or not an object")
    out = []
    for field, size in (("translation", 3), ("rotation", 4), ("scale", 3)):
        if field not in trs:
            raise _Skip("missing_field", f"{where}: field 'trs.{field}' missing")
        try:
            value = np.asarray(trs[field], np.float64)
        except (TypeError, ValueError):
            value = None
        if value is None or value.shape != (size,) or not np.isfinite(value).all():
            raise _Skip("bad_value", f"{where}: field 'trs.{field}' must be {size} finite numbers, "
                                     f"got {trs[field]!r}"[:200])
        out.append(value)
    t, q, s = out
    norm = np.linalg.norm(q)
    if norm < 1e-6:
        raise _Skip("bad_value", f"{where}: field 'trs.rotation' is a zero quaternion")
    if (np.abs(s) < 1e-9).any():
        raise _Skip("bad_value", f"{where}: field 'trs.scale' has a zero component: {trs['scale']}")
    q = q / norm
    return t, q * (-1.0 if q[0] < 0 else 1.0), s


def _ident(entry: dict, field: str, where: str) -> str:
    value = entry.get(field)
    if value is None:
        raise _Skip("missing_field", f"{where}: field '{field}' missing")
    if not isinstance(value, str) or not value:
        raise _Skip("bad_value", f"{where}: field '{field}' must be a non-empty string, got {value!r}"[:200])
    return value


def load_scan2cad(json_path: str) -> Scan2CADRecords:
    """All aligned models of a Scan2CAD annotation file, bad ones counted and skipped."""
    if not os.path.isfile(json_path):
        raise PathNotFoundError(f"{json_path}: Scan2CAD annotation file not found")
    with open(json_path, encoding="utf-8") as f:
        try:
            raw = json.load(f)
        except json.JSONDecodeError as err:
            raise Scan2CADFormatError(f"{json_path}: not valid JSON ({err})") from err
    if not isinstance(raw, list):
        raise Scan2CADFormatError(f"{json_path}: expected a list of scans (full_annotations.json), "
                                  f"got {type(raw).__name__}")
    rows: list[dict[str, Any]] = []
    skipped, first = {r: 0 for r in SKIP_REASONS}, None

    def skip(err: _Skip, count: int = 1) -> None:
        nonlocal first
        skipped[err.reason] += count
        first = first or err.detail
        if sum(skipped.values()) <= _MAX_LOGGED:
            logging.warning("%s: skipping %d alignment(s) (%s): %s", json_path, count, err.reason, err.detail)

    for i, scan in enumerate(raw):
        models = scan.get("aligned_models") if isinstance(scan, dict) else None
        if not isinstance(models, list):
            skip(_Skip("missing_field", f"scan {i}: field 'aligned_models' missing or not a list"))
            continue
        try:
            scan_id = _ident(scan, "id_scan", f"scan {i}")
            scan_trs = _trs(scan, f"scan {i} ({scan_id})")
        except _Skip as err:
            skip(err, max(len(models), 1))
            continue
        for j, model in enumerate(models):
            where = f"scan {scan_id} model {j}"
            try:
                if not isinstance(model, dict):
                    raise _Skip("bad_value", f"{where}: not an object")
                rows.append({"scan_id": scan_id, "catid_cad": _ident(model, "catid_cad", where),
                             "id_cad": _ident(model, "id_cad", where), "scan": scan_trs,
                             "cad": _trs(model, where)})
            except _Skip as err:
                skip(err)
    if not rows:
        raise Scan2CADFormatError(f"{json_path}: no usable alignment" + (f"; first problem: {first}" if first else ""))
    if any(skipped.values()):
        logging.warning("%s: skipped %s; kept %d alignments", json_path, {k: v for k, v in skipped.items() if v},
                        len(rows))

    def col(key, k):
        return np.stack([r[key][k] for r in rows])

    return Scan2CADRecords(
        scan_id=[r["scan_id"] for r in rows], catid_cad=[r["catid_cad"] for r in rows],
        id_cad=[r["id_cad"] for r in rows], scan_translation=col("scan", 0), scan_rotation=col("scan", 1),
        scan_scale=col("scan", 2), translation=col("cad", 0), rotation=col("cad", 1), scale=col("cad", 2),
        skipped=skipped)


def scan2cad_dataset(records: Scan2CADRecords):
    """tf.data of per-alignment dicts: scan_id, catid_cad, id_cad (strings), translation (3,), rotation (4,),
    scale (3,) float32 and cad_in_scan (4, 4) float32."""
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices({
        "scan_id": records.scan_id, "catid_cad": records.catid_cad, "id_cad": records.id_cad,
        "translation": records.translation.astype(np.float32), "rotation": records.rotation.astype(np.float32),
        "scale": records.scale.astype(np.float32), "cad_in_scan": cad_in_scan(records).astype(np.float32),
    })
