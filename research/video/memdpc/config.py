"""MemDPC's config sections: frame-folder clips (official/data/video_frames.py) and the `memdpc` task."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class VideoFramesDataConfig(DataConfig):
    PATH_FIELDS: ClassVar[tuple[str, ...]] = ("path", "splits_dir")
    source: str = "video_frames"  # ROOT/<class>/<video>/image_%05d.jpg frame folders (official/data/video_frames.py)
    path: str = "ucf101/frame"  # frame root
    splits_dir: str = ""  # folder with ClassInd.txt and the split CSVs ("" = path)
    dataset: str = "ucf101"  # ucf101 | hmdb51 ({train,test}_split0K.csv) | kinetics ({train,val}_split.csv)
    split: str = "train"  # train | test (UCF101 / HMDB51) | val (Kinetics)
    which_split: int = 1  # UCF101 / HMDB51 split 1-3
    downsample: int = 3  # temporal stride between sampled frames (main.py --ds 3)
    grey_p: float = 0.25  # training: per-frame RandomGray probability
    jitter: tuple[float, float, float, float] = (0.5, 0.5, 0.5, 0.25)  # training ColorJitter brightness, contrast, saturation, hue
    shuffle_buffer: int = 10_000  # unused: videos are shuffled as a list before reading


@dataclasses.dataclass
class MemDpcTaskConfig(TaskConfig):
    name: str = "memdpc"  # registered Task class (research/video/memdpc/task.py)
    num_classes: int = 101  # classifier outputs (UCF101 101, HMDB51 51; unused by the pretext model)
    pretext_weights: str = ""  # classifier: a pretext run's MODEL_DIR / checkpoint / .weights.h5 / .keras whose encoder and GRUs start it ("" = none)
    pretext_model: str = ""  # the registered pretext variant that pretext_weights holds (not needed for .keras), e.g. memdpc_tiny
