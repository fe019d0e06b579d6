"""The `task:` and data sections of TopoGAN experiments (TF-free)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class TopologyDataConfig(DataConfig):
    PATH_FIELDS: ClassVar[tuple[str, ...]] = ("path",)

    path: str = ""  # root holding <split>/images/*.png and <split>/diagrams/*.npy (official/data/topology_images.py)
    split: str = "train"  # train | test
    crop_size: tuple[int, int] = (64, 64)  # image size (height, width) the images are resized to (spec: 64x64)
    max_points: int = 64  # reference diagram points kept per image (most persistent first), zero-padded


@dataclasses.dataclass
class TopologyTaskConfig(TaskConfig):
    name: str = "topology_generation"  # registered Task (research/generative/topogan/task.py)
    num_classes: int = 0  # unused
    dimension: int = 1  # homology dimension of the loss and the scores (1: loops of membranes/roads; 0: components)
    min_persistence: float = 0.5  # scores: pairs with persistence <= this (on the [-1, 1] scale) are noise
    eval_samples: int = 64  # generated images scored against the eval split
    eval_seed: int = 1234  # noise of those samples (fixed, so runs compare on the same z)
    features: str = "pixels16"  # FID/KID features (official/evaluation/gan_features.py); "" = topology scores only
    feature_weights: str = ""  # inception_v3: a local Keras InceptionV3 weights file
    kid_subsets: int = 100  # KID: random subsets
    kid_subset_size: int = 1000  # KID: images per subset (capped at the set size)
