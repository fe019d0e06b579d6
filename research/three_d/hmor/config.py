"""Config dataclasses of HMOR's multi-person 3D pose task (TF-free: experiments import them under JAX)."""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class Pose3dDataConfig(DataConfig):
    PATH_FIELDS = ("path", "annotations")  # resolved against runtime.data_dir

    source: str = "mppe3d"  # mppe3d (3DMPPE / RootNet JSON + images, official/data/mppe3d.py)
    path: str = ""  # image folder the JSON's file_name entries are relative to
    annotations: str = ""  # the 3DMPPE JSON (images with f/c, annotations with keypoints_cam/img/vis, bbox)
    input_size: tuple[int, int] = (512, 512)  # network input (height, width); images, f, c and 2D labels scale to it
    image_size: int = 512  # the input height (kept for tools that ask for one size)
    max_people: int = 10  # people rows per image (padding + person_mask)
    horizontal_flip: bool = False  # no augmentation is implemented (see the model card)
    random_resized_crop: bool = False  # (unused by this task)


@dataclasses.dataclass
class Pose3dTaskConfig(TaskConfig):
    name: str = "multi_person_pose3d"  # registered Task class (research/three_d/hmor/task.py)
    num_classes: int = 1  # person
    eval_joints: tuple[int, ...] = ()  # joints scored (MuPoTS-3D: the 17 of MUPOTS_EVAL_17); () = all
    pck_threshold_mm: float = 150.0  # MuPoTS-3D 3DPCK threshold
    match_distance_px: float = 0.0  # max 2D root distance of a predicted-GT match (0 = unlimited)
    gt_boxes_eval: bool = True  # also score the pose path on ground-truth boxes ("gtbox/..." metrics)
