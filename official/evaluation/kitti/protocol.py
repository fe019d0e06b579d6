"""What the KITTI devkit counts: classes, difficulty levels, IoU thresholds, and the ignore codes.

Constants and `clean_frame` follow evaluate_object_3d_offline.cpp (cleanData):
- ground truth of the evaluated class is valid (0) when its occlusion, truncation and 2D box height are
  within the difficulty, else ignored (1); the neighbouring class (Van for Car, Person_sitting for
  Pedestrian) is ignored (1); every other type is left out (-1). Type names compare case-insensitively.
- a detection whose 2D box height, truncated to an integer as the devkit's `int32_t height` does, is
  below the difficulty's minimum is ignored (1) whatever its type; otherwise 0 for the evaluated class,
  -1 for others. So a small detection of another class can still take a ground truth as "ignored".
- every DontCare ground truth is a DontCare region.
IoU thresholds per metric (devkit MIN_OVERLAP[metric][class]): "0.7" is the official benchmark (Car 0.7,
Pedestrian / Cyclist 0.5 for 2d, bev and 3d); "0.5" keeps 2d at 0.7 / 0.5 and lowers bev and 3d to
0.5 / 0.25 (the table KM3D's bundled devkit ships and kitti-object-eval-python's second setting).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from official.core.errors import BadValueError

CLASSES = ("Car", "Pedestrian", "Cyclist")
NEIGHBOURS = {"car": "van", "pedestrian": "person_sitting"}
DIFFICULTIES = ("easy", "moderate", "hard")
MIN_HEIGHT = (40, 25, 25)  # pixels
MAX_OCCLUSION = (0, 1, 2)
MAX_TRUNCATION = (0.15, 0.3, 0.5)
BOX_METRICS = ("2d", "bev", "3d")  # "aos" rides on the 2d matching
METRICS = (*BOX_METRICS, "aos")
RECALL_POINTS = (40, 11)
N_SAMPLE_PTS = 41  # the devkit's recall grid; R11 reads every 4th point of it
_STRICT = {"Car": 0.7, "Pedestrian": 0.5, "Cyclist": 0.5}
_LOOSE = {"Car": 0.5, "Pedestrian": 0.25, "Cyclist": 0.25}
IOU_SETTINGS = {
    "0.7": {"2d": _STRICT, "bev": _STRICT, "3d": _STRICT},
    "0.5": {"2d": _STRICT, "bev": _LOOSE, "3d": _LOOSE},
}


def check_options(classes, recall_points: int, iou_setting: str) -> tuple[str, ...]:
    """The classes as a tuple; a BadValueError naming the parameter for anything the devkit lacks."""
    classes = tuple(classes)
    unknown = [c for c in classes if c not in CLASSES]
    if unknown or not classes:
        raise BadValueError(f"classes: {unknown or 'empty'} not among {', '.join(CLASSES)}")
    if recall_points not in RECALL_POINTS:
        raise BadValueError(f"recall_points must be 40 or 11, got {recall_points!r}")
    if iou_setting not in IOU_SETTINGS:
        raise BadValueError(f"iou_setting must be one of {', '.join(IOU_SETTINGS)}, got {iou_setting!r}")
    return classes


@dataclasses.dataclass(frozen=True)
class FrameCodes:
    """Ignore codes of one frame for one class and difficulty (devkit cleanData)."""

    ignored_gt: np.ndarray  # (G,) int: 0 valid, 1 ignored, -1 left out
    dontcare: np.ndarray  # (G,) bool
    ignored_det: np.ndarray  # (D,) int: 0 valid, 1 ignored (too small), -1 other class


def clean_frame(
    gt_types, gt_truncation, gt_occlusion, gt_height, det_types, det_height, class_name: str, difficulty: int
) -> FrameCodes:
    """Codes for arrays of one frame; types lower-cased, det_height already integer-truncated."""
    cls = class_name.lower()
    gt_types = np.asarray(gt_types, dtype=object)
    own = gt_types == cls
    neighbour = gt_types == NEIGHBOURS.get(cls, "")
    hard_to_see = (
        (np.asarray(gt_occlusion) > MAX_OCCLUSION[difficulty])
        | (np.asarray(gt_truncation) > MAX_TRUNCATION[difficulty])
        | (np.asarray(gt_height) < MIN_HEIGHT[difficulty])
    )
    ignored_gt = np.where(own & ~hard_to_see, 0, np.where(neighbour | own, 1, -1))
    small = np.asarray(det_height) < MIN_HEIGHT[difficulty]
    ignored_det = np.where(small, 1, np.where(np.asarray(det_types, dtype=object) == cls, 0, -1))
    return FrameCodes(ignored_gt.astype(np.int8), gt_types == "dontcare", ignored_det.astype(np.int8))
