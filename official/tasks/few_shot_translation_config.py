"""Config sections of the `few_shot_translation` task (class-labelled content + style images; TF-free)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from official.core.config import DataConfig
from official.tasks.image_translation_config import TranslationTaskConfig


@dataclasses.dataclass
class FewShotDataConfig(DataConfig):
    PATH_FIELDS: ClassVar[tuple[str, ...]] = ("path",)

    source: str = "imaginaire"  # ROOT/images_content/<class>/*, ROOT/images_style/<class>/* (official/data/few_shot_images.py)
    path: str = ""  # dataset root holding images_content/ and images_style/
    load_size: int = 270  # training: shortest side resized to this before the crop (COCO-FUNIT: 270)
    max_scale: float = 1.1  # training: the shortest side is further scaled by U(1, max_scale)
    crop_size: tuple[int, int] = (256, 256)  # training crop / evaluation centre crop (height, width)
    horizontal_flip: bool = True  # training: random left-right flip


@dataclasses.dataclass
class FewShotTranslationTaskConfig(TranslationTaskConfig):
    name: str = "few_shot_translation"  # registered Task (official/tasks/few_shot_translation.py)
    kid_subsets: int = 1  # COCO-FUNIT selects models by KID on 256 samples, one subset
    kid_subset_size: int = 256
