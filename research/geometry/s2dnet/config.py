"""S2DNet's config sections: HPatches-layout pairs (official/data/hpatches.py) and the `s2dnet` task (matching)."""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class HPatchesDataConfig(DataConfig):
    source: str = "hpatches"  # HPatches layout: PATH/<i_*|v_*>/1.ppm..6.ppm + H_1_2..H_1_6 (official/data/hpatches.py)
    path: str = "hpatches-sequences-release"  # root folder of the sequences
    image_height: int = 480  # every image resized to image_height x image_width (homographies adjusted); multiple of 16
    image_width: int = 640  # see image_height
    image_size: int = 640  # unused by this task (export sizes come from image_height / image_width)
    kinds: str = "iv"  # sequence kinds read: i (illumination), v (viewpoint)
    num_keypoints: int = 512  # keypoints per image (Harris, padded with a mask); fixed: the serving shape
    cache: bool = True  # keep decoded pairs and keypoints in memory (small sets)
    shuffle_buffer: int = 1000  # training: pairs in the shuffle buffer


@dataclasses.dataclass
class S2DNetTaskConfig(TaskConfig):
    name: str = "s2dnet"  # registered Task class (research/geometry/s2dnet/task.py)
    num_classes: int = 0  # unused (no classes)
    match_levels: tuple[int, ...] = (0, 1, 2)  # output maps fused for matching (0 = features_1, stride 1)
    ratio: float = 0.9  # S2DHM exhaustive_search: keep when ratio^2 * best >= k-th best
    factor: float = 0.006  # S2DHM sparse_to_dense_pose_prediction.gin: k = factor * target cells
    thresholds: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)  # MMA thresholds in pixels
