"""Config sections of Gesture+HandPose: FPHA-layout clip data and the task (TF-free: the FPHA camera values
are repeated from official/data/fpha.py, which imports TensorFlow; test_model.py checks they agree)."""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class FphaDataConfig(DataConfig):
    source: str = "fpha"  # FPHA file tree (official/data/fpha.py): Video_files/, Hand_pose_annotation_v1/, split file
    path: str = ""  # FPHA root folder
    split: str = "train"  # train | test: the section of data_split_action_recognition.txt
    split_file: str = ""  # another split file in the same format; "" = root/data_split_action_recognition.txt
    image_size: int = 224  # square hand crop fed to the model (unverified: spec "Losses" suggests 224)
    num_frames: int = 8  # T frames per clip, one per equal segment (unverified: spec suggests 8-16)
    crop_padding: float = 0.2  # the ground-truth hand box grows by this fraction of its size on each side
    focal: tuple[float, float] = (1395.749023, 1395.749268)  # colour camera (fx, fy) px (FPHA README)
    center: tuple[float, float] = (935.732544, 540.681030)  # colour camera (u0, v0) px (FPHA README)
    label_fraction: float = 1.0  # weak supervision: fraction of sequences whose gesture label is used
    pose_fraction: float = 1.0  # weak supervision: fraction of sequences whose hand pose is used


@dataclasses.dataclass
class GestureTaskConfig(TaskConfig):
    name: str = "gesture_handpose"  # registered Task (research/three_d/gesture_handpose/task.py)
    num_classes: int = 45  # FPHA action classes
    pck_max_mm: float = 50.0  # PCK curve thresholds 0..pck_max_mm (spec: 0-50 mm)
    pck_step_mm: float = 1.0  # spacing of the PCK thresholds
