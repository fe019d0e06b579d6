"""GraphMemVOS config sections (TF-free): DAVIS / YouTube-VOS data and the `video_object_segmentation` task."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class VosDataConfig(DataConfig):
    PATH_FIELDS: ClassVar[tuple[str, ...]] = ("path",)
    source: str = "davis"  # davis (ImageSets/<year>/<split>.txt) | youtube_vos (<split>/meta.json); official/data/vos.py
    path: str = ""  # dataset root (DAVIS: holds JPEGImages/, Annotations/, ImageSets/)
    split: str = "train"  # DAVIS: train | val; YouTube-VOS: train | valid
    year: int = 2017  # DAVIS 2016 (single object: every non-zero id -> 1) or 2017
    resolution: str = "480p"  # DAVIS frame folder (JPEGImages/<resolution>/)
    clip_length: int = 3  # training: consecutive frames per clip (frame 0 + its mask in memory, the rest segmented); eval reads whole sequences
    crop_size: tuple[int, int] = (384, 384)  # training: random (height, width) crop of every clip; (0, 0) = whole frames (equal sizes needed to batch)
    horizontal_flip: bool = True  # training: mirror a clip with probability 1/2
    image_size: int = 384  # export: square size of the serving signature's frame (a multiple of 16)


@dataclasses.dataclass
class VosTaskConfig(TaskConfig):
    name: str = "video_object_segmentation"  # registered Task class (research/video/graphmem_vos/task.py)
    num_classes: int = 4  # background + the model's max_objects object slots (training labels above are background)
    flip_tta: bool = True  # evaluation: average with the mirrored video (eval_DAVIS_graph_memory.py use_flip)
    num_segments: int = 4  # evaluation memory: frame 0 + centres of this many segments of [0, t) + frame t - 1
    copy_baseline: bool = True  # evaluation: also score the first mask copied to every frame (`copy_first_*`)
