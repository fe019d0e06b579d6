"""Config dataclasses of the point-cloud completion task (TF-free, so model packages import under JAX)."""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class CompletionDataConfig(DataConfig):
    source: str = "completion3d"  # completion3d (<split>/partial|gt/<synset>/<model>.h5) | pcn (<split>/partial|complete PCD); official/data/point_completion.py
    path: str = ""  # dataset root holding <split>.list and the <split>/ folders
    split: str = "train"  # train | val | test (the <split>.list file and folder)
    num_partial: int = 2048  # partial points fed to the model (resampled: random subset or repeats)
    num_complete: int = 2048  # ground-truth points per example (Completion3D 2,048; PCN 16,384); resampled when a file differs


@dataclasses.dataclass
class CompletionTaskConfig(TaskConfig):
    name: str = "point_completion"  # registered Task class
    num_classes: int = 0  # unused (completion has no classes)
    fscore_threshold: float = 0.01  # F-score distance threshold (1% of the unit-sized shape, F@1%)
    emd_points: int = 2048  # EMD on this many points of prediction and ground truth (random subsets when larger; 0 = skip EMD)
