"""PartAwarePose config sections: Human3.6M person-crop data and the integral 3D pose task (TF-free)."""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class H36MCropDataConfig(DataConfig):
    source: str = "human36m"  # Human3.6M per-subject JSON of 3DMPPE (official/data/human36m.py)
    path: str = "Human36M"  # folder holding annotations/ and images/
    subjects: tuple[int, ...] = (1, 5, 6, 7, 8)  # Protocol 1 training subjects (test: 9, 11)
    sampling: int = 5  # keep frames with frame_idx % sampling == 0 (3DMPPE: 5 for training, 64 for testing)
    image_size: int = 256  # square person crop fed to the model
    extension: float = 1.25  # box grown by this factor to a square (3DMPPE process_bbox)
    scale_factor: float = 0.25  # training: crop scale 1 + clip(N(0,1) * f, -f, f) (3DMPPE; paper: +-25%, unverified)
    rotation_deg: float = 30.0  # training: rotation clip(N(0,1) * r, -2r, 2r) degrees (3DMPPE; paper: +-30, unverified)
    rotation_prob: float = 0.6  # training: probability of rotating (3DMPPE)
    horizontal_flip: bool = True  # training: flip with probability 0.5, swapping left/right joints
    color_jitter: float = 0.2  # training: per-channel gain U(1 - c, 1 + c) (3DMPPE color_factor)
    cache: bool = True  # keep decoded source images in memory (small sets only)


@dataclasses.dataclass
class PartAwareTaskConfig(TaskConfig):
    name: str = "partaware_pose3d"  # registered Task class (research/three_d/partaware_pose/task.py)
    num_classes: int = 0  # unused: 3D pose regression
    num_joints: int = 17  # Human3.6M joints (official/data/skeletons3d.H36M_17)
    depth_bins: int = 64  # D of the volumetric heatmaps (3DMPPE depth_dim)
    depth_range_mm: float = 2000.0  # root-relative depth range covered by the bins (3DMPPE bbox_3d_shape)
    heatmap_size: int = 64  # heatmap side (image_size / network stride); must equal the model's
    root_joint: int = 0  # pelvis: the root of root-relative depth and of MPJPE alignment
    search: bool = False  # batches are [split A | split B] of the training set for the bilevel search step
    arch_learning_rate: float = 3e-4  # search: Adam learning rate of the alphas (DARTS)
