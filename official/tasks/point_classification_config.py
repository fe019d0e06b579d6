"""Config dataclasses of the point-cloud classification task (TF-free, so model packages import under JAX)."""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class PointCloudDataConfig(DataConfig):
    source: str = "modelnet40_h5"  # modelnet40_h5 (modelnet40_ply_hdf5_2048 folder, official/data/modelnet40.py)
    path: str = ""  # the modelnet40_ply_hdf5_2048 folder (holds {split}_files.txt)
    split: str = "train"  # train | test ({split}_files.txt)
    num_points: int = 1024  # the first num_points of each shape's 2,048 (PointMixup -num_points)
    keep_rate: float = 1.0  # fraction of the training shapes kept (PointMixup keeprate, the low-data runs)
    augment: bool = True  # training: scale, up-axis rotation, translation, jitter (below)
    scale: tuple[float, float] = (0.8, 1.25)  # random scale range (data_utils.PointcloudScale)
    rotate_up: bool = True  # random rotation about the y axis (main.py -rot True)
    translate: float = 0.1  # one random offset U(-t, t) added to x, y and z (PointcloudTranslate)
    jitter_sigma: float = 0.01  # per-point Gaussian jitter std (PointcloudJitter)
    jitter_clip: float = 0.05  # jitter clip


@dataclasses.dataclass
class PointClassificationTaskConfig(TaskConfig):
    name: str = "point_classification"  # registered Task class
    num_classes: int = 40  # ModelNet40
