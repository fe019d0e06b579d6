"""MPII Human Pose in the mpii_annotations JSON form of HRNet / RSN -> per-person records, + PCKh truth.

Annotation file (HRNet's `annot/train.json`, `valid.json`; RSN `dataset/MPII/gt_json`): a JSON list with
one object per person:
    {"image": "015601864.jpg", "center": [x, y], "scale": s, "joints": [[x, y] x 16], "joints_vis": [16]}
in MATLAB 1-based pixels, `scale` in units of 200 px (the person height / 200). Test files may omit
joints/joints_vis (`require_joints=False`). RSN `dataset/MPII/mpii.py` turns an entry into a crop box
the way we do here: the centre moves down by 15 * s (when x != -1), then centre and joints shift by -1
to 0-based pixels, v = joints_vis * 2 (so 0 or 2), and the box is s * 200 px square. Records carry
image_id = the entry's index in the file, which is also its column in the PCKh ground truth.

PCKh ground truth (`load_mpii_ground_truth`): HRNet's `gt_valid.mat`, read with scipy, or the same
arrays saved as .npz or .json, in the .mat's layout (person index LAST):
    headboxes_src [2, 2, N]  head box corners ((x1, y1), (x2, y2)) per person,
    pos_gt_src    [16, 2, N] joints in 1-based pixels (add 1 to 0-based predictions before comparing),
    jnt_missing   [16, N]    1 where a joint is not annotated  (or jnt_visible [16, N], its complement).
Head size = 0.6 * the head box diagonal (SC_BIAS of the evaluation in HRNet and RSN).

Validation: a missing file, a top level that is not a list, or a field no entry has is an
`MpiiFormatError` naming the file and the field; an entry with a missing or malformed field is logged
by index, skipped and counted (`bad_record`: image/center/scale; `bad_joints`: joints/joints_vis).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from typing import Any

import numpy as np
from absl import logging

from official.core.errors import PathNotFoundError, UserError
from official.data.coco_keypoints import PersonRecords
from official.data.keypoint_constants import MPII, PIXEL_STD

SKIP_REASONS = ("bad_record", "bad_joints")
HEAD_SIZE_FACTOR = 0.6  # SC_BIAS in HRNet's / RSN's MPII evaluate()
_MAX_LOGGED = 50


class MpiiFormatError(UserError, ValueError):
    """The file is not a usable MPII annotation/ground-truth file; the message names file and field."""


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _array(value: Any, shape: tuple[int, ...]) -> np.ndarray | None:
    try:
        arr = np.asarray(value, np.float64)
    except (TypeError, ValueError):
        return None
    if arr.shape != shape or not np.isfinite(arr).all():
        return None
    return arr


def _entry_problem(entry: Any, require_joints: bool, k: int) -> str | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("image"), str):
        return "bad_record"
    if _array(entry.get("center"), (2,)) is None or not _number(entry.get("scale")) or entry["scale"] <= 0:
        return "bad_record"
    if require_joints:
        if _array(entry.get("joints"), (k, 2)) is None:
            return "bad_joints"
        vis = _array(entry.get("joints_vis"), (k,))
        if vis is None or not np.isin(vis, (0.0, 1.0)).all():
            return "bad_joints"
    return None


def load_mpii(json_path: str, image_dir: str, require_joints: bool = True) -> PersonRecords:
    """Person records (16 keypoints, 0-based pixels, v in {0, 2}) from an MPII annotations JSON.

    Raises:
      MpiiFormatError: missing/invalid JSON, or a field that no entry has.
      FileNotFoundError: `image_dir` or a listed image is missing.
    """
    k = MPII.num_keypoints
    if not os.path.isfile(json_path):
        raise PathNotFoundError(f"{json_path}: MPII annotation file does not exist")
    with open(json_path, encoding="utf-8") as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as err:
            raise MpiiFormatError(f"{json_path}: not valid JSON ({err})") from err
    if not isinstance(data, list):
        raise MpiiFormatError(f"{json_path}: top level must be a list of person entries")
    fields = ("image", "center", "scale") + (("joints", "joints_vis") if require_joints else ())
    for field in fields:
        if data and not any(isinstance(e, dict) and field in e for e in data):
            raise MpiiFormatError(f"{json_path}: no entry has the field '{field}'")
    if not os.path.isdir(image_dir):
        raise PathNotFoundError(f"{image_dir}: image folder does not exist (for {json_path})")

    skipped_ids: dict[str, list[Any]] = {r: [] for r in SKIP_REASONS}
    rows = []
    for index, entry in enumerate(data):
        reason = _entry_problem(entry, require_joints, k)
        if reason is not None:
            skipped_ids[reason].append(index)
            if len(skipped_ids[reason]) <= _MAX_LOGGED:
                logging.warning(
                    "%s: skipping entry #%d (%s): %s", json_path, index, reason, repr(entry)[:200]
                )
            continue
        path = os.path.join(image_dir, entry["image"])
        if not os.path.isfile(path):
            raise PathNotFoundError(f"{path}: image of entry #{index} in {json_path} does not exist")
        s = float(entry["scale"])
        center = np.asarray(entry["center"], np.float64)
        if center[0] != -1:
            center[1] += 15.0 * s  # RSN / HRNet: MPII centres sit high on the body
        center -= 1.0
        keypoints = np.zeros((k, 3), np.float32)
        if require_joints or "joints" in entry:
            joints = _array(entry.get("joints"), (k, 2))
            vis = _array(entry.get("joints_vis"), (k,))
            if joints is not None and vis is not None:
                keypoints[:, :2] = joints - 1.0
                keypoints[:, 2] = vis * 2.0
        side = s * PIXEL_STD
        rows.append(
            dict(
                path=path,
                image_id=index,
                bbox=[center[0] - side / 2.0, center[1] - side / 2.0, side, side],
                center=center,
                scale=[side, side],
                keypoints=keypoints,
                area=side * side,
                score=1.0,
                image_size=(-1, -1),
            )
        )
    if any(skipped_ids.values()):
        logging.warning(
            "%s: skipped %d of %d entries: %s",
            json_path,
            sum(len(v) for v in skipped_ids.values()),
            len(data),
            ", ".join(f"{r}={len(v)}" for r, v in skipped_ids.items() if v),
        )
    return PersonRecords.from_rows(json_path, rows, k, skipped_ids)


@dataclasses.dataclass
class MpiiGroundTruth:
    """PCKh ground truth, person index FIRST.

    Attributes:
      source: the file read.
      joints: float64 [N, 16, 2] annotated joints, 1-based pixels (pos_gt_src).
      visible: bool [N, 16] annotated joints (1 - jnt_missing).
      headboxes: float64 [N, 2, 2] head box corners ((x1, y1), (x2, y2)).
      head_sizes: float64 [N] PCKh normaliser: 0.6 * head box diagonal.
    """

    source: str
    joints: np.ndarray
    visible: np.ndarray
    headboxes: np.ndarray
    head_sizes: np.ndarray


def _read_arrays(path: str) -> dict[str, Any]:
    ext = os.path.splitext(path)[1].lower()
    if ext == ".mat":
        import scipy.io  # only this format needs scipy

        try:
            return dict(scipy.io.loadmat(path))
        except (ValueError, NotImplementedError, OSError) as err:
            raise MpiiFormatError(f"{path}: not a readable MATLAB v5 file ({err})") from err
    if ext == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                return {key: z[key] for key in z.files}
        except (ValueError, OSError) as err:
            raise MpiiFormatError(f"{path}: not a readable .npz file ({err})") from err
    if ext == ".json":
        with open(path, encoding="utf-8") as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as err:
                raise MpiiFormatError(f"{path}: not valid JSON ({err})") from err
        if not isinstance(data, dict):
            raise MpiiFormatError(f"{path}: top level must be an object of arrays")
        return data
    raise MpiiFormatError(f"{path}: unknown ground-truth format '{ext}' (expected .mat, .npz or .json)")


def load_mpii_ground_truth(path: str) -> MpiiGroundTruth:
    """Head boxes, joints and visibility for PCKh from gt_valid.mat / .npz / .json (module docstring)."""
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: MPII ground-truth file does not exist")
    arrays = _read_arrays(path)
    k = MPII.num_keypoints

    def get(key: str) -> np.ndarray:
        if key not in arrays:
            raise MpiiFormatError(f"{path}: missing field '{key}'")
        try:
            return np.asarray(arrays[key], np.float64)
        except (TypeError, ValueError) as err:
            raise MpiiFormatError(f"{path}: field '{key}' is not a numeric array ({err})") from err

    headboxes = get("headboxes_src")
    joints = get("pos_gt_src")
    if "jnt_visible" in arrays:
        visible = get("jnt_visible") > 0
    elif "jnt_missing" in arrays:
        visible = get("jnt_missing") == 0
    else:
        raise MpiiFormatError(f"{path}: missing field 'jnt_missing' (or 'jnt_visible')")
    n = headboxes.shape[-1] if headboxes.ndim == 3 else -1
    for key, arr, shape in (
        ("headboxes_src", headboxes, (2, 2, n)),
        ("pos_gt_src", joints, (k, 2, n)),
        ("jnt_missing/jnt_visible", visible, (k, n)),
    ):
        if n < 0 or arr.shape != shape:
            raise MpiiFormatError(f"{path}: field '{key}' has shape {arr.shape}, expected {shape}")
    boxes = np.transpose(headboxes, (2, 0, 1))
    return MpiiGroundTruth(
        source=path,
        joints=np.transpose(joints, (2, 0, 1)),
        visible=np.transpose(visible, (1, 0)),
        headboxes=boxes,
        head_sizes=HEAD_SIZE_FACTOR * np.linalg.norm(boxes[:, 1] - boxes[:, 0], axis=-1),
    )
