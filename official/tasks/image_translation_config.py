"""Config sections of the `image_translation` task (unpaired two-domain translation; TF-free)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class TranslationDataConfig(DataConfig):
    PATH_FIELDS: ClassVar[tuple[str, ...]] = ("path",)

    source: str = "unpaired"  # CycleGAN layout ROOT/{split}A, {split}B (or {split}A.txt lists; official/data/unpaired_images.py) | alderley | bdd100k_timeofday (official/data/night_day_lists.py)
    path: str = ""  # dataset root holding trainA/, trainB/, testA/, testB/
    split: str = "train"  # folder prefix: train | test | val
    load_size: tuple[int, int] = (286, 286)  # training: resize (height, width) before the random crop (CycleGAN --load_size 286)
    crop_size: tuple[int, int] = (256, 256)  # training crop / evaluation size (height, width) (CycleGAN --crop_size 256)
    horizontal_flip: bool = True  # training: random left-right flip


@dataclasses.dataclass
class TranslationTaskConfig(TaskConfig):
    name: str = "image_translation"  # registered Task (official/tasks/image_translation.py)
    num_classes: int = 0  # unused
    # Features for FID/KID of translated A against real B: "pixels16" (images resized to 16x16, flattened: a proxy
    # that needs no weights, for the small runs) | "inception_v3" (pool3 2048-d; weights from feature_weights)
    features: str = "pixels16"
    feature_weights: str = ""  # inception_v3: a Keras InceptionV3 (include_top=False) weights file; "" = refuse
    kid_subsets: int = 100  # KID: random subsets (torch-fidelity: 100)
    kid_subset_size: int = 1000  # KID: images per subset (capped at the eval set's size)
    max_eval_images: int = 0  # > 0: score at most this many eval images
