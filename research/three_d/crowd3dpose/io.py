"""Files of the Crowd3DPose pipeline: AlphaPose results per view, camera calibration, the 3D JSON.

- AlphaPose results (stage 1 output, the authors' `alphapose-results_update.json`): a JSON list of
  {"image_id": "00000123.png", "id": int, "keypoints": 69 floats (x, y, score) x 23, "score": float,
  ...}. Records that are not objects, lack image_id/id, or whose keypoints are not 69 finite numbers are
  counted and skipped (a summary is logged); a missing file or a file that is not a JSON list is a
  one-line error naming the file and the field.
- Calibration JSON (ours; what tools/make_crowd_views.py writes): {"cameras": [{"name", "P" (3x4), or
  "K" (3x3), "R" (3x3), "t" (3), "width", "height"}]}; a Wildtrack root folder (calibrations/) is read by
  official.data.wildtrack instead.
- 3D JSON (stage 3 output, the authors' layout): {"3D": {frame: {person: [69 floats]}}, "P4": P of the
  first view, "P6": P of the second}; we add "P" (every view), "matches" (frame -> person -> {view: id}).
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import numpy as np
from absl import logging

from official.core.errors import PathNotFoundError, UserError


class CrowdFileError(UserError, ValueError):
    """A pipeline input is malformed; the message names the file and the field."""


def _load(path: str) -> Any:
    if not os.path.exists(path):
        raise PathNotFoundError(f"{path}: no such file")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise CrowdFileError(f"{path}: not a JSON file ({err.msg} at line {err.lineno})") from None


def load_json(path: str) -> Any:
    """Any JSON file; a missing or unparsable one is a one-line error naming it."""
    return _load(path)


def frame_key(image_id: str) -> str:
    """"00000123.png" -> "00000123" (the frame key of the 3D JSON)."""
    return os.path.splitext(str(image_id))[0]


def load_alphapose(path: str, num_keypoints: int = 23) -> dict[str, dict[str, Any]]:
    """-> {frame: {"ids": (N,) int64, "keypoints": (N, K, 3) float64}}; bad records counted and skipped."""
    data = _load(path)
    if not isinstance(data, list):
        raise CrowdFileError(f"{path}: expected a JSON list of AlphaPose records, got {type(data).__name__}")
    frames: dict[str, tuple[list[int], list[np.ndarray]]] = {}
    skipped: dict[str, int] = {}
    for i, rec in enumerate(data):
        reason = None
        if not isinstance(rec, dict) or "image_id" not in rec or "id" not in rec:
            reason = "no_image_id_or_id"
        else:
            kp = rec.get("keypoints")
            ok = isinstance(kp, list) and len(kp) == 3 * num_keypoints and all(
                isinstance(v, (int, float)) and math.isfinite(v) for v in kp)
            if not ok:
                reason = "bad_keypoints"
        if reason:
            skipped[reason] = skipped.get(reason, 0) + 1
            if skipped[reason] <= 5:
                logging.warning("%s: record %d skipped (%s)", path, i, reason)
            continue
        ids, kps = frames.setdefault(frame_key(rec["image_id"]), ([], []))
        ids.append(int(rec["id"]))
        kps.append(np.asarray(rec["keypoints"], np.float64).reshape(num_keypoints, 3))
    if skipped:
        logging.warning("%s: skipped %d of %d records: %s", path, sum(skipped.values()), len(data), skipped)
    return {f: {"ids": np.asarray(i, np.int64), "keypoints": np.stack(k)} for f, (i, k) in sorted(frames.items())}


def _matrix(path: str, where: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    try:
        out = np.asarray(value, np.float64)
    except (TypeError, ValueError):
        out = None
    if out is None or out.shape != shape or not np.all(np.isfinite(out)):
        raise CrowdFileError(f"{path}: {where} must be a finite {'x'.join(map(str, shape))} matrix")
    return out


def load_calibration(path: str) -> dict[str, Any]:
    """-> {"names": [V], "P": (V, 3, 4), "sizes": [(width, height)]} from our JSON or a Wildtrack root."""
    from official.ops.camera import projection_matrix

    if os.path.isdir(path):
        from official.data.wildtrack import load_wildtrack_calibration

        cams = load_wildtrack_calibration(path)
        return {"names": [c.name for c in cams], "P": np.stack([c.projection for c in cams]),
                "sizes": [c.size for c in cams]}
    data = _load(path)
    cams = data.get("cameras") if isinstance(data, dict) else None
    if not isinstance(cams, list) or not cams:
        raise CrowdFileError(f"{path}: 'cameras' must be a non-empty list")
    names, projections, sizes = [], [], []
    for i, cam in enumerate(cams):
        where = f"cameras[{i}]"
        if not isinstance(cam, dict):
            raise CrowdFileError(f"{path}: {where} must be an object")
        if "P" in cam:
            p = _matrix(path, f"{where}.P", cam["P"], (3, 4))
        else:
            missing = [k for k in ("K", "R", "t") if k not in cam]
            if missing:
                raise CrowdFileError(f"{path}: {where} needs 'P' or 'K', 'R', 't' (missing {missing})")
            k = _matrix(path, f"{where}.K", cam["K"], (3, 3))
            r = _matrix(path, f"{where}.R", cam["R"], (3, 3))
            t = _matrix(path, f"{where}.t", cam["t"], (3,))
            p = np.asarray(projection_matrix(k, r, t), np.float64)
        names.append(str(cam.get("name", f"C{i}")))
        projections.append(p)
        sizes.append((int(cam.get("width", 1920)), int(cam.get("height", 1080))))
    return {"names": names, "P": np.stack(projections), "sizes": sizes}
