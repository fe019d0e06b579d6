"""KITTI 3D object AP from label_2 folders or from objects in memory (what the model's evaluation calls).

    evaluate_kitti(gt_dir, pred_dir, split_ids=None, recall_points=40, iou_setting="0.7")
    evaluate_kitti_objects(gt_frames, pred_frames, ...)   # lists of KittiObject lists, frame-aligned
    -> {"Car": {"2d": {"easy", "moderate", "hard"}, "bev": {...}, "3d": {...}, "aos": {...}}, ...}
AP in points (0-100). The frames are `split_ids` (else every label file in gt_dir); a frame without a
prediction file has no detections, a malformed file is a KittiFormatError naming file, line, field.

Where this differs from running evaluate_object_3d_offline (benchmarks/kitti_devkit_parity.py checks
the rest to 0.01 AP):
- the offline devkit evaluates the frames that have a result file (a missing one drops the frame's
  ground truth); here the split decides and a missing result file is a frame without detections.
- the devkit prints nothing for a class without detections; here its AP is 0.0 (what its curves
  give). A class whose detections all carry the devkit's placeholders (left < 0 for 2d, x = -1000 for
  bev, y = -1000 for 3d) is not evaluated by the devkit: None here.
- aos is None whenever any detection has alpha = -10, as the devkit then skips orientation for all.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import numpy as np

from official.core.errors import PathNotFoundError
from official.data.kitti_format import KittiObject, frame_ids_in, read_label_file
from official.evaluation.kitti import rotated_iou
from official.evaluation.kitti.kitti_ap import MatchInput, average_precision, curves
from official.evaluation.kitti.protocol import (
    BOX_METRICS,
    DIFFICULTIES,
    IOU_SETTINGS,
    check_options,
    clean_frame,
)

_OVERLAP = {"2d": rotated_iou.image_iou, "bev": rotated_iou.bev_iou, "3d": rotated_iou.iou_3d}
_PLACEHOLDER = -1000.0


class _Frame:
    """Arrays of one frame and its detection x ground-truth overlaps for the three box metrics."""

    def __init__(self, gt: Sequence[KittiObject], det: Sequence[KittiObject]):
        self.gt_types = np.array([o.type.lower() for o in gt], dtype=object)
        self.gt_truncation = np.array([o.truncated for o in gt], dtype=np.float64)
        self.gt_occlusion = np.array([o.occluded for o in gt], dtype=np.int64)
        gt_box2d = rotated_iou.image_boxes_from_objects(gt)
        self.gt_height = gt_box2d[:, 3] - gt_box2d[:, 1]
        self.gt_alpha = np.array([o.alpha for o in gt], dtype=np.float64)
        self.det_types = np.array([o.type.lower() for o in det], dtype=object)
        det_box2d = rotated_iou.image_boxes_from_objects(det)
        self.det_height = np.trunc(np.abs(det_box2d[:, 1] - det_box2d[:, 3]))  # the devkit's int32_t
        self.det_alpha = np.array([o.alpha for o in det], dtype=np.float64)
        self.scores = np.array([o.score for o in det], dtype=np.float64)
        det_boxes, gt_boxes = rotated_iou.boxes_from_objects(det), rotated_iou.boxes_from_objects(gt)
        self.overlaps = {}
        for metric, fn in _OVERLAP.items():
            a, b = (det_box2d, gt_box2d) if metric == "2d" else (det_boxes, gt_boxes)
            self.overlaps[metric] = (fn(a, b, "union"), fn(a, b, "detection"))

    def match_input(self, class_name: str, difficulty: int, metric: str) -> MatchInput:
        codes = clean_frame(
            self.gt_types,
            self.gt_truncation,
            self.gt_occlusion,
            self.gt_height,
            self.det_types,
            self.det_height,
            class_name,
            difficulty,
        )
        union, det_area = self.overlaps[metric]
        return MatchInput(
            codes.ignored_gt,
            codes.dontcare,
            codes.ignored_det,
            self.scores,
            union,
            det_area,
            self.gt_alpha,
            self.det_alpha,
        )


def _evaluated(preds: Iterable[KittiObject], class_name: str) -> dict[str, bool]:
    """The devkit's eval_image / eval_ground / eval_3d flags for one class."""
    own = [o for o in preds if o.type.lower() == class_name.lower()]
    return {
        "2d": any(o.box2d[0] >= 0 for o in own),
        "bev": any(o.location[0] != _PLACEHOLDER for o in own),
        "3d": any(o.location[1] != _PLACEHOLDER for o in own),
    }


def evaluate_kitti_objects(
    gt_frames: Sequence[Sequence[KittiObject]],
    pred_frames: Sequence[Sequence[KittiObject]],
    classes: Sequence[str] = ("Car", "Pedestrian", "Cyclist"),
    recall_points: int = 40,
    iou_setting: str = "0.7",
) -> dict[str, dict[str, dict[str, float | None]]]:
    """AP per class / metric / difficulty of frame-aligned ground-truth and prediction object lists."""
    classes = check_options(classes, recall_points, iou_setting)
    if len(gt_frames) != len(pred_frames):
        raise ValueError(f"{len(gt_frames)} ground-truth frames but {len(pred_frames)} prediction frames")
    for i, frame in enumerate(pred_frames):
        for obj in frame:
            if obj.score is None:
                raise ValueError(f"prediction frame {i}: a {obj.type} object has no score")
    frames = [_Frame(g, p) for g, p in zip(gt_frames, pred_frames, strict=True)]
    all_preds = [o for frame in pred_frames for o in frame]
    with_aos = not any(o.alpha == -10 for o in all_preds)
    results: dict[str, dict[str, dict[str, float | None]]] = {}
    for cls in classes:
        flags = _evaluated(all_preds, cls)
        has_dets = any(o.type.lower() == cls.lower() for o in all_preds)
        per_metric: dict[str, dict[str, float | None]] = {}
        for metric in BOX_METRICS:
            min_overlap = IOU_SETTINGS[iou_setting][metric][cls]
            aps, aos_aps = {}, {}
            for level, name in enumerate(DIFFICULTIES):
                if has_dets and not flags[metric]:
                    aps[name] = aos_aps[name] = None
                    continue
                precision, aos = curves([f.match_input(cls, level, metric) for f in frames], min_overlap)
                aps[name] = average_precision(precision, recall_points)
                aos_aps[name] = average_precision(aos, recall_points) if with_aos else None
            per_metric[metric] = aps
            if metric == "2d":
                per_metric["aos"] = aos_aps
        results[cls] = {m: per_metric[m] for m in ("2d", "bev", "3d", "aos")}
    return results


def read_frames(gt_dir: str, pred_dir: str, split_ids: Sequence[str] | None = None):
    """(frame ids, ground-truth lists, prediction lists); a missing prediction file is an empty list."""
    ids = list(split_ids) if split_ids is not None else frame_ids_in(gt_dir)
    if not os.path.isdir(pred_dir):
        raise PathNotFoundError(f"{pred_dir}: prediction folder not found")
    gts, preds = [], []
    for frame_id in ids:
        gts.append(read_label_file(os.path.join(gt_dir, f"{frame_id}.txt")))
        pred_path = os.path.join(pred_dir, f"{frame_id}.txt")
        preds.append(read_label_file(pred_path, with_score=True) if os.path.isfile(pred_path) else [])
    return ids, gts, preds


def evaluate_kitti(
    gt_dir: str,
    pred_dir: str,
    split_ids: Sequence[str] | None = None,
    recall_points: int = 40,
    classes: Sequence[str] = ("Car", "Pedestrian", "Cyclist"),
    iou_setting: str = "0.7",
) -> dict[str, dict[str, dict[str, float | None]]]:
    """AP of the result files in pred_dir against the label_2 files in gt_dir (see the module doc)."""
    check_options(classes, recall_points, iou_setting)
    _, gts, preds = read_frames(gt_dir, pred_dir, split_ids)
    return evaluate_kitti_objects(gts, preds, classes, recall_points, iou_setting)
