"""Config sections of DAAE experiments (TF-free): the face data and the `daae_face_aging` task."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class FaceAgeDataConfig(DataConfig):
    PATH_FIELDS: ClassVar[tuple[str, ...]] = ("path", "list_file")

    source: str = "utkface"  # utkface (age in the file name) | cacd (CACD2000 names / list) | morph (MORPH CSV); official/data/face_ages.py
    path: str = ""  # the image folder
    list_file: str = ""  # cacd: optional list of file names; morph: the CSV (photo, id_num, age columns)
    split: str = "train"  # train | test (hashed file names; cacd: hashed identities) | all
    test_fraction: float = 0.2  # share of the test split (MORPH's random 80/20)
    image_size: int = 256  # square size fed to the model (aligned faces are resized, not cropped)
    horizontal_flip: bool = True  # training: random left-right flip


@dataclasses.dataclass
class DAAETaskConfig(TaskConfig):
    name: str = "daae_face_aging"  # registered Task (research/generative/daae/task.py)
    num_classes: int = 0  # unused (the identity head's size is training.objective_args.identities)
    target_ages: tuple[float, ...] = (20.0, 40.0, 60.0, 80.0)  # evaluation: every eval face is aged to each
    cs_threshold: float = 5.0  # CS(t): share of age estimates within t years
